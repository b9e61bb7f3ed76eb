"""Endpoints, in-app messages and campaign KPIs (reference §3, §4.4, §6.1, §9, §11).

Writes go to ``inapp.endpoints`` through ``backend.write_endpoints``. Reads of partitioned
state (GetEndpoint, DeleteEndpoint, GetInAppMessages, GetCampaignDateRangeKpi) reach these
handlers only on the worker owning the key; the pipeline proxies them there otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import orjson
from pydantic import ValidationError

from engine.api.context import Call
from engine.api.errors import BadRequest, NotFound
from engine.api.validation import parse_model, require_app, require_record
from engine.api.wire import iso_timestamp, parse_timestamp
from engine.kpis import KPI_NAMES
from rules.errors import describe
from rules.models import EndpointBatchRequest, EndpointRequest
from rules.quotas import endpoint_quota_problem
from topics.wire import EndpointRecord

__all__ = [
    "CAMPAIGN_KPI_NAMES",
    "delete_endpoint",
    "endpoint_quota_problem",
    "endpoint_record",
    "get_campaign_date_range_kpi",
    "get_endpoint",
    "get_in_app_messages",
    "update_endpoint",
    "update_endpoints_batch",
]

MAX_BATCH_ITEMS = 100  # reference §6.1
# In-app KPIs (reference §11, U13), defined once where the engine computes them:
# inapp-{decisions,displays,unique-displays,clicks,dismissals}[-grouped-by-date]
CAMPAIGN_KPI_NAMES = KPI_NAMES
DEFAULT_KPI_RANGE = timedelta(days=7)


def endpoint_record(
    app_id: str, endpoint_id: str, endpoint: dict[str, Any], op: Literal["upsert", "delete"] = "upsert"
) -> EndpointRecord:
    """An ``inapp.endpoints`` record; an id Pinpoint forbids (``$ { } / \\``) or endpoint data
    beyond the quotas is a 400."""
    problem = endpoint_quota_problem(endpoint)
    if problem is not None:
        raise BadRequest(problem)
    try:
        return EndpointRecord(
            ApplicationId=app_id,
            EndpointId=endpoint_id,
            Op=op,
            Endpoint=endpoint,
            RequestId=endpoint.get("RequestId"),
        )
    except ValidationError as exc:
        raise BadRequest(describe(exc)) from None


def _accepted(call: Call) -> dict[str, Any]:
    return {"Message": "Accepted", "RequestID": call.request_id}


async def update_endpoint(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    request = parse_model(EndpointRequest, call.json())
    record = endpoint_record(app_id, call.label("endpoint_id"), request.to_wire())
    await call.backend.write_endpoints([record])
    return _accepted(call)


async def update_endpoints_batch(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    body = call.json()
    items = body.get("Item")
    if isinstance(items, list) and len(items) > MAX_BATCH_ITEMS:
        raise BadRequest(f"Item: at most {MAX_BATCH_ITEMS} endpoints per batch (got {len(items)}).")
    request = parse_model(EndpointBatchRequest, body)
    records = []
    for i, item in enumerate(request.item):
        if not item.id:
            raise BadRequest(f"Item[{i}].Id: an endpoint id is required.")
        wire = item.to_wire()
        wire.pop("Id", None)
        records.append(endpoint_record(app_id, item.id, wire))
    await call.backend.write_endpoints(records)
    return _accepted(call)


async def _stored_endpoint(call: Call) -> tuple[str, str, dict[str, Any]]:
    app_id = call.label("app_id")
    endpoint_id = call.label("endpoint_id")
    require_app(call.backend, app_id)
    endpoint = await call.backend.get_endpoint(app_id, endpoint_id)
    if endpoint is None:
        raise NotFound(f"Endpoint {endpoint_id!r} not found.")
    return app_id, endpoint_id, endpoint


async def get_endpoint(call: Call) -> dict[str, Any]:
    return (await _stored_endpoint(call))[2]


async def delete_endpoint(call: Call) -> dict[str, Any]:
    app_id, endpoint_id, endpoint = await _stored_endpoint(call)
    await call.backend.write_endpoints([endpoint_record(app_id, endpoint_id, {}, op="delete")])
    return endpoint


async def get_in_app_messages(call: Call) -> dict[str, Any]:
    """Unknown endpoint → 404 (reference §9.2 step 1, U6)."""
    app_id, endpoint_id, _ = await _stored_endpoint(call)
    campaigns = await call.backend.in_app_messages(app_id, endpoint_id)
    return {"InAppMessageCampaigns": campaigns}


async def get_campaign_date_range_kpi(call: Call) -> dict[str, Any]:
    """Reference §11: inclusive UTC range, default the last 7 days; unknown KPI name → 400."""
    app_id = call.label("app_id")
    campaign_id = call.label("campaign_id")
    kpi_name = call.label("kpi_name")
    require_app(call.backend, app_id)
    require_record(call.backend, "campaign", f"{app_id}/{campaign_id}", f"Campaign {campaign_id!r}")
    if kpi_name not in CAMPAIGN_KPI_NAMES:
        raise BadRequest(f"KpiName {kpi_name!r} is not supported; use one of {', '.join(sorted(CAMPAIGN_KPI_NAMES))}.")
    end_text, start_text = call.query("end-time"), call.query("start-time")
    end = parse_timestamp(end_text, "end-time") if end_text else call.ctx.now()
    start = parse_timestamp(start_text, "start-time") if start_text else end - DEFAULT_KPI_RANGE
    if start > end:
        raise BadRequest("start-time must not be later than end-time.")
    result = await call.backend.campaign_kpi(app_id, campaign_id, kpi_name, start, end)
    return {
        "ApplicationId": app_id,
        "CampaignId": campaign_id,
        "KpiName": kpi_name,
        "StartTime": iso_timestamp(start),
        "EndTime": iso_timestamp(end),
        "KpiResult": result,
    }
