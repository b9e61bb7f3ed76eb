"""The IMPORT segment a job fills (reference §4.3 SegmentImportResource; PRODUCT.md
semantics 9): created with version 1, or a new version of an existing IMPORT segment.

``ImportDefinition.Size`` counts the distinct endpoints the job imported and
``ChannelCounts`` those endpoints by channel; ``S3Url``, ``Format``, ``RoleArn`` and
``ExternalId`` come from the job's definition. Membership itself lives on the endpoints
(``AddImportedSegments``), so the segment only describes the import that last wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.api.wire import iso_timestamp, segment_arn
from rules.models import SegmentResponse
from topics.wire import ControlRecord

if TYPE_CHECKING:
    from engine.imports.job import ImportTarget, JobSpec

__all__ = ["channel_counts", "import_definition", "write_import_segment"]


def channel_counts(members: Mapping[str, str | None]) -> dict[str, int]:
    """Endpoints per channel (endpoints without a ChannelType in the file are not counted)."""
    counts: dict[str, int] = {}
    for channel in members.values():
        if channel is not None:
            counts[channel] = counts.get(channel, 0) + 1
    return dict(sorted(counts.items()))


def import_definition(spec: JobSpec, members: Mapping[str, str | None]) -> dict[str, Any]:
    return {
        "ChannelCounts": channel_counts(members),
        "ExternalId": spec.definition.get("ExternalId") or "",
        "Format": spec.format,
        "RoleArn": spec.definition.get("RoleArn") or "",
        "S3Url": spec.definition["S3Url"],
        "Size": len(members),
    }


async def write_import_segment(target: ImportTarget, spec: JobSpec, members: Mapping[str, str | None],
                               now: datetime, *, fail: type[Exception]) -> dict[str, Any]:
    """Create the job's IMPORT segment, or add a version to the existing one; nothing when
    it already says what this job would write (a retry). Raises ``fail`` when the segment to
    add to is gone or is not an IMPORT segment."""
    key = f"{spec.app_id}/{spec.segment_id}"
    definition = import_definition(spec, members)
    stamp = iso_timestamp(now)
    existing = target.control_record("segment", key)
    if existing is None:
        if not spec.new_segment:
            raise fail(f"segment {spec.segment_id} was deleted while the job ran")
        segment = SegmentResponse.model_validate({
            "ApplicationId": spec.app_id,
            "Arn": segment_arn(spec.region, spec.account, spec.app_id, str(spec.segment_id)),
            "CreationDate": stamp,
            "LastModifiedDate": stamp,
            "Id": spec.segment_id,
            "ImportDefinition": definition,
            "Name": spec.segment_name,
            "SegmentType": "IMPORT",
            "tags": {},
            "Version": 1,
        }).to_wire()
        await target.write_control("segment", key, ControlRecord(Kind="segment", Versions=[segment]))
        return segment
    current = existing.current
    if current.get("SegmentType") != "IMPORT":
        raise fail(f"segment {spec.segment_id} is not an IMPORT segment")
    if current.get("ImportDefinition") == definition:
        return current
    segment = SegmentResponse.model_validate({
        **current,
        "ImportDefinition": definition,
        "LastModifiedDate": stamp,
        "Version": int(current.get("Version") or len(existing.Versions)) + 1,
    }).to_wire()
    await target.write_control("segment", key, ControlRecord(Kind="segment", Versions=[*existing.Versions, segment]))
    return segment
