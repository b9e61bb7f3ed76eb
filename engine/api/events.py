"""PutEvents (reference §4.5, §6.2; PRODUCT.md "Input event").

Each ``BatchItem[endpointId]`` is judged on its own and each of its events on its own: an
invalid event gets ``StatusCode`` 400 with the reason while the others are accepted (202).
Accepted events become input envelopes ``{"ApplicationId", "EndpointId", "EventId", "Event"}``,
plus ``"Endpoint"`` when non-empty endpoint data came along (an empty ``Endpoint``, as Amplify
sends, changes nothing). Endpoint data whose events were all refused is still upserted.
At most 100 events per request (400); the 4 MB body limit is enforced by the pipeline (413).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from engine.api.context import Call
from engine.api.errors import BadRequest
from engine.api.endpoints import endpoint_record
from rules.quotas import endpoint_quota_problem
from engine.api.validation import require_app
from rules.errors import describe
from rules.models import Event, PublicEndpoint
from topics.wire import EndpointRecord

__all__ = ["MAX_EVENTS", "MAX_PUT_EVENTS_BYTES", "put_events"]

MAX_EVENTS = 100  # per request (reference §6.2)
MAX_PUT_EVENTS_BYTES = 4 * 1024 * 1024
_ACCEPTED = {"StatusCode": 202, "Message": "Accepted"}


def _refused(reason: str) -> dict[str, Any]:
    return {"StatusCode": 400, "Message": reason}


def _event_problem(raw: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The validated event's wire form, or the reason it is refused (the model checks
    Pinpoint's per-event quotas too: one rule for PutEvents and the events topic)."""
    try:
        event = Event.model_validate(raw)
    except ValidationError as exc:
        return None, describe(exc)
    return event.to_wire(), None


def _count_events(batch: dict[str, Any]) -> int:
    total = 0
    for item in batch.values():
        events = item.get("Events") if isinstance(item, dict) else None
        if isinstance(events, dict):
            total += len(events)
    return total


async def put_events(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    body = call.json()
    batch = body.get("BatchItem")
    if not isinstance(batch, dict):
        raise BadRequest("BatchItem: an object keyed by endpoint id is required.")
    if _count_events(batch) > MAX_EVENTS:
        raise BadRequest(f"BatchItem: at most {MAX_EVENTS} events per request.")

    results: dict[str, Any] = {}
    envelopes: list[dict[str, Any]] = []
    endpoint_only: list[EndpointRecord] = []
    for endpoint_id, item in batch.items():
        endpoint_status, endpoint_data = _judge_endpoint(endpoint_id, item)
        raw_events = item.get("Events") if isinstance(item, dict) else None
        event_results: dict[str, Any] = {}
        if not isinstance(raw_events, dict):
            if endpoint_status["StatusCode"] == 202:
                endpoint_status = _refused("Events: an object keyed by event id is required")
            raw_events = {}
        elif not _usable_id(endpoint_id):
            raw_events, event_results = {}, {e: endpoint_status for e in raw_events}
        accepted = 0
        for event_id, raw in raw_events.items():
            wire, problem = _event_problem(raw)
            if not event_id:
                problem = "the event id (key of Events) must not be empty"
            if wire is None or problem is not None:
                event_results[event_id] = _refused(problem or "invalid event")
                continue
            envelope: dict[str, Any] = {
                "ApplicationId": app_id, "EndpointId": endpoint_id, "EventId": event_id, "Event": wire,
            }
            if endpoint_data:
                envelope["Endpoint"] = endpoint_data
            envelopes.append(envelope)
            event_results[event_id] = dict(_ACCEPTED)
            accepted += 1
        if endpoint_data and accepted == 0:
            endpoint_only.append(endpoint_record(app_id, endpoint_id, endpoint_data))
        results[endpoint_id] = {"EndpointItemResponse": endpoint_status, "EventsItemResponse": event_results}

    if endpoint_only:
        await call.backend.write_endpoints(endpoint_only)
    if envelopes:
        await call.backend.put_events(app_id, envelopes)
    return {"Results": results}


def _usable_id(endpoint_id: str) -> bool:
    try:
        endpoint_record("-", endpoint_id, {})
    except BadRequest:
        return False
    return True


def _judge_endpoint(endpoint_id: str, item: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(EndpointItemResponse, endpoint data to upsert or None)."""
    if not _usable_id(endpoint_id):
        return _refused("endpoint id must be 1-256 characters without $ { } / \\"), None
    if not isinstance(item, dict):
        return _refused("each BatchItem value must be an object with Endpoint and Events"), None
    raw = item.get("Endpoint", {})
    try:
        data = PublicEndpoint.model_validate(raw if raw is not None else {}).to_wire()
    except ValidationError as exc:
        return _refused(f"Endpoint: {describe(exc)}"), None
    problem = endpoint_quota_problem(data)
    if problem is not None:
        return _refused(f"Endpoint: {problem}"), None
    return dict(_ACCEPTED), data or None
