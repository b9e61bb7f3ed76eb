"""Endpoint profiles: apply ``inapp.endpoints`` records to the endpoints table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from engine.app import Engine, endpoint_key
from rules.models import Endpoint, PublicEndpoint
from rules.models.parse import parse_resource
from rules.profiles import merge_endpoint
from topics.wire import ENDPOINT_RECORD

__all__ = ["apply_endpoint_record", "upsert_endpoint", "iso_millis"]


def iso_millis(timestamp: float) -> str:
    """ISO-8601 with milliseconds (reference §2.4) of epoch seconds."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def upsert_endpoint(
    engine: Engine,
    app_id: str,
    endpoint_id: str,
    request: dict[str, Any],
    now_iso: str,
    imported_segments: list[str] | tuple[str, ...] = (),
) -> dict[str, Any]:
    """Merge a validated EndpointRequest into the table; returns the stored wire dict."""
    key = endpoint_key(app_id, endpoint_id)
    raw = engine.endpoints.get(key)
    stored = orjson.loads(raw) if raw is not None else None
    merged = merge_endpoint(
        stored, request, application_id=app_id, endpoint_id=endpoint_id, now_iso=now_iso,
        imported_segments=imported_segments,
    )
    parse_resource(Endpoint, merged, resource_id=endpoint_id, kind="endpoint")  # never store junk
    if merged != stored:
        engine.endpoints[key] = orjson.dumps(merged)
    return merged


def apply_endpoint_record(engine: Engine, raw: bytes, timestamp: float) -> None:
    """Upsert or delete one endpoint (reference §6.1); raises on invalid records."""
    record = ENDPOINT_RECORD.validate_json(raw)
    if record.Op == "delete":
        engine.endpoints.pop(endpoint_key(record.ApplicationId, record.EndpointId), None)
        return
    request = parse_resource(PublicEndpoint, record.Endpoint, resource_id=record.EndpointId, kind="endpoint")
    upsert_endpoint(
        engine,
        record.ApplicationId,
        record.EndpointId,
        request.to_wire(),
        iso_millis(timestamp),
        record.AddImportedSegments,
    )
