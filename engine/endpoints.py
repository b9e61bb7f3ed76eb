"""Endpoint profiles: apply ``inapp.endpoints`` records to the endpoints table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from engine.app import endpoint_key
from engine.tables import StagedTable
from rules.models import Endpoint, PublicEndpoint
from rules.models.parse import parse_resource
from rules.errors import EventError
from rules.profiles import merge_endpoint
from rules.quotas import endpoint_quota_problem
from topics.wire import ENDPOINT_RECORD

__all__ = ["apply_endpoint_record", "upsert_endpoint", "iso_millis"]


def iso_millis(timestamp: float) -> str:
    """ISO-8601 with milliseconds (reference §2.4) of epoch seconds."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def upsert_endpoint(
    endpoints: StagedTable,
    partition: int,
    app_id: str,
    endpoint_id: str,
    request: dict[str, Any],
    now_iso: str,
    imported_segments: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Merge a validated EndpointRequest into the table; returns the stored wire dict."""
    key = endpoint_key(app_id, endpoint_id)
    raw = endpoints.get(key)
    stored = orjson.loads(raw) if raw is not None else None
    merged = merge_endpoint(
        stored, request, application_id=app_id, endpoint_id=endpoint_id, now_iso=now_iso,
        imported_segments=imported_segments,
    )
    problem = endpoint_quota_problem(request) or endpoint_quota_problem(merged)
    if problem is not None:
        raise EventError("Endpoint", problem)
    parse_resource(Endpoint, merged, resource_id=endpoint_id, kind="endpoint")  # never store junk
    if merged != stored:
        endpoints.set(key, orjson.dumps(merged), partition)
    else:
        endpoints.touch(key, partition)  # maybe a replay whose changelog record was lost
    return merged


def apply_endpoint_record(endpoints: StagedTable, partition: int, raw: bytes | None, timestamp: float) -> None:
    """Upsert or delete one endpoint (reference §6.1); raises on invalid records."""
    if raw is None:
        raise ValueError("empty record (no value)")
    record = ENDPOINT_RECORD.validate_json(raw)
    if record.Op == "delete":
        endpoints.delete(endpoint_key(record.ApplicationId, record.EndpointId), partition)
        return
    request = parse_resource(PublicEndpoint, record.Endpoint, resource_id=record.EndpointId, kind="endpoint")
    upsert_endpoint(
        endpoints,
        partition,
        record.ApplicationId,
        record.EndpointId,
        request.to_wire(),
        iso_millis(timestamp),
        record.AddImportedSegments,
    )
