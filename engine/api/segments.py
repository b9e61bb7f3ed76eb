"""Segments (reference §3, §4.3, §7.1), stored under ``"{appId}/{segmentId}"``.

``Version`` starts at 1 and grows by one per update; every version stays readable through
GetSegmentVersion(s). ``tags`` are set at creation and ignored on update (reference §4.2).
"""

from __future__ import annotations

from typing import Any

from engine.api.context import Call
from engine.api.errors import BadRequest, NotFound
from engine.api.validation import parse_model, require_app, require_record, response_wire, version_number
from engine.api.wire import iso_timestamp, list_body, new_resource_id, paginate, segment_arn
from rules.models import SegmentResponse, WriteSegmentRequest
from topics.wire import ControlRecord

__all__ = [
    "create_segment",
    "delete_segment",
    "find_version",
    "get_segment",
    "get_segment_version",
    "get_segment_versions",
    "get_segments",
    "update_segment",
]


def find_version(record: ControlRecord, version: int, what: str) -> dict[str, Any]:
    for candidate in record.Versions:
        if candidate.get("Version") == version:
            return candidate
    raise NotFound(f"{what} version {version} not found.")


def _check_sources(call: Call, app_id: str, request: WriteSegmentRequest) -> None:
    """Source segments of a segment group must exist in the same app (reference §4.3)."""
    groups = request.segment_groups.groups if request.segment_groups else None
    for g, group in enumerate(groups or ()):
        for s, source in enumerate(group.source_segments or ()):
            field = f"SegmentGroups.Groups[{g}].SourceSegments[{s}]"
            record = call.backend.control_record("segment", f"{app_id}/{source.id}")
            if record is None:
                raise BadRequest(f"{field}.Id: segment {source.id!r} does not exist in this application.")
            if source.version is not None and not any(
                v.get("Version") == source.version for v in record.Versions
            ):
                raise BadRequest(f"{field}.Version: segment {source.id!r} has no version {source.version}.")


def _definition(request: WriteSegmentRequest) -> dict[str, Any]:
    wire = request.to_wire()
    wire.pop("tags", None)
    return wire


async def create_segment(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    request = parse_model(WriteSegmentRequest, call.json())
    _check_sources(call, app_id, request)
    segment_id = new_resource_id()
    now = iso_timestamp(call.ctx.now())
    segment = response_wire(
        SegmentResponse,
        {
            **_definition(request),
            "ApplicationId": app_id,
            "Arn": segment_arn(call.ctx.region, call.ctx.account, app_id, segment_id),
            "CreationDate": now,
            "LastModifiedDate": now,
            "Id": segment_id,
            "SegmentType": "DIMENSIONAL",
            "tags": request.tags or {},
            "Version": 1,
        },
    )
    key = f"{app_id}/{segment_id}"
    await call.backend.write_control("segment", key, ControlRecord(Kind="segment", Versions=[segment]))
    return segment


def _segment(call: Call) -> tuple[str, ControlRecord]:
    app_id = call.label("app_id")
    segment_id = call.label("segment_id")
    require_app(call.backend, app_id)
    key = f"{app_id}/{segment_id}"
    return key, require_record(call.backend, "segment", key, f"Segment {segment_id!r}")


async def get_segment(call: Call) -> dict[str, Any]:
    return _segment(call)[1].current


async def update_segment(call: Call) -> dict[str, Any]:
    request = parse_model(WriteSegmentRequest, call.json())
    key, _ = _segment(call)
    async with call.ctx.lock("segment", key):
        _, record = _segment(call)
        _check_sources(call, call.label("app_id"), request)
        previous = record.current
        # Dimensions and SegmentGroups are alternatives: the request's definition replaces both
        kept = {k: v for k, v in previous.items() if k not in ("Dimensions", "SegmentGroups", "Name")}
        if request.name is None and "Name" in previous:
            kept["Name"] = previous["Name"]
        segment = response_wire(
            SegmentResponse,
            {
                **kept,
                **_definition(request),
                "LastModifiedDate": iso_timestamp(call.ctx.now()),
                "Version": int(previous.get("Version", len(record.Versions))) + 1,
            },
        )
        await call.backend.write_control(
            "segment", key, ControlRecord(Kind="segment", Versions=[*record.Versions, segment])
        )
    return segment


async def delete_segment(call: Call) -> dict[str, Any]:
    key, _ = _segment(call)
    async with call.ctx.lock("segment", key):
        _, record = _segment(call)
        await call.backend.write_control("segment", key, None)
    return record.current


async def get_segments(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    segments = [record.current for _, record in call.backend.control_records("segment", f"{app_id}/")]
    items, next_token = paginate(segments, call.query("page-size"), call.query("token"))
    return list_body(items, next_token)


async def get_segment_version(call: Call) -> dict[str, Any]:
    version = version_number(call.label("version"))
    _, record = _segment(call)
    return find_version(record, version, f"Segment {call.label('segment_id')!r}")


async def get_segment_versions(call: Call) -> dict[str, Any]:
    _, record = _segment(call)
    items, next_token = paginate(record.Versions, call.query("page-size"), call.query("token"))
    return list_body(items, next_token)
