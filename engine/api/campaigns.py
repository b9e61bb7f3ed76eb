"""Campaigns (reference §3, §4.2, §8), stored under ``"{appId}/{campaignId}"``.

A campaign references a segment of its app and optionally in-app templates; both must exist
(400 otherwise). ``SegmentVersion`` defaults to the segment's current version. ``Version``
starts at 1 and grows by one per update; an update changes only the members it names
(``tags`` are ignored on update). ``State.CampaignStatus`` is derived when a campaign is read
(reference §8.3): PAUSED, DELETED (segment gone), SCHEDULED, EXECUTING or COMPLETED. After a
write, a campaign the engine cannot compile is rolled back and answered 400 with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.api.context import Call
from engine.api.errors import BadRequest, NotFound
from engine.api.segments import find_version
from engine.api.templates import template_version
from engine.api.validation import parse_model, require_app, require_record, response_wire, version_number
from engine.api.wire import campaign_arn, iso_timestamp, list_body, new_resource_id, paginate
from rules.models import CampaignResponse, TemplateConfiguration, WriteCampaignRequest
from rules.timeutil import IMMEDIATE, parse_instant
from topics.wire import ControlRecord

__all__ = [
    "campaign_status",
    "create_campaign",
    "delete_campaign",
    "get_campaign",
    "get_campaign_version",
    "get_campaign_versions",
    "get_campaigns",
    "update_campaign",
]


def campaign_status(campaign: dict[str, Any], now: datetime, segment_exists: bool) -> str:
    """Reference §8.3, evaluated at read time (times read as UTC)."""
    if not segment_exists:
        return "DELETED"
    if campaign.get("IsPaused"):
        return "PAUSED"
    schedule = campaign.get("Schedule") or {}
    start, end = schedule.get("StartTime"), schedule.get("EndTime")
    try:
        if start and start != IMMEDIATE and now < parse_instant(start):
            return "SCHEDULED"
        if end and now >= parse_instant(end):
            return "COMPLETED"
    except ValueError:
        return "INVALID"
    return "EXECUTING"


def _with_state(call: Call, app_id: str, campaign: dict[str, Any]) -> dict[str, Any]:
    segment = call.backend.control_record("segment", f"{app_id}/{campaign.get('SegmentId', '')}")
    status = campaign_status(campaign, call.ctx.now(), segment is not None)
    shown = {**campaign, "State": {"CampaignStatus": status}}
    if campaign.get("AdditionalTreatments"):
        shown["DefaultState"] = {"CampaignStatus": status}
        shown["AdditionalTreatments"] = [
            {**t, "State": {"CampaignStatus": status}} for t in campaign["AdditionalTreatments"]
        ]
    return shown


def _check_template(call: Call, config: TemplateConfiguration | None, field: str) -> None:
    reference = config.in_app_template if config else None
    if reference is None:
        return
    if not reference.name:
        raise BadRequest(f"{field}.InAppTemplate.Name is required.")
    record = call.backend.control_record("template", reference.name)
    if record is None:
        raise BadRequest(f"{field}.InAppTemplate.Name: template {reference.name!r} does not exist.")
    if reference.version is not None and template_version(record, reference.version) is None:
        raise BadRequest(
            f"{field}.InAppTemplate.Version: template {reference.name!r} has no version {reference.version!r}."
        )


def _segment_version(call: Call, app_id: str, segment_id: str, version: int | None) -> int:
    record = call.backend.control_record("segment", f"{app_id}/{segment_id}")
    if record is None:
        raise BadRequest(f"SegmentId: segment {segment_id!r} does not exist in this application.")
    if version is None:
        return int(record.current.get("Version", len(record.Versions)))
    try:
        find_version(record, version, "Segment")
    except NotFound:
        raise BadRequest(f"SegmentVersion: segment {segment_id!r} has no version {version}.") from None
    return version


def _treatments(request: WriteCampaignRequest) -> list[dict[str, Any]] | None:
    """``WriteTreatmentResource`` → ``TreatmentResource`` with ids "1", "2", … (§8.4)."""
    if request.additional_treatments is None:
        return None
    return [{**t.to_wire(), "Id": str(i)} for i, t in enumerate(request.additional_treatments, start=1)]


def _checked_references(call: Call, app_id: str, request: WriteCampaignRequest) -> None:
    _check_template(call, request.template_configuration, "TemplateConfiguration")
    for i, treatment in enumerate(request.additional_treatments or ()):
        _check_template(call, treatment.template_configuration, f"AdditionalTreatments[{i}].TemplateConfiguration")


async def _write_checked(call: Call, app_id: str, campaign_id: str, record: ControlRecord, previous: ControlRecord | None) -> None:
    """Write, then roll back if the engine's index rejects this campaign (reference §2.5)."""
    key = f"{app_id}/{campaign_id}"
    await call.backend.write_control("campaign", key, record)
    problems = [
        e for e in call.backend.compile_errors(app_id)
        if getattr(e, "resource_id", None) == campaign_id or getattr(e, "campaign_id", None) == campaign_id
    ]
    if problems:
        await call.backend.write_control("campaign", key, previous)
        raise BadRequest("; ".join(str(p) for p in problems))


async def create_campaign(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    request = parse_model(WriteCampaignRequest, call.json())
    if request.segment_id is None:
        raise BadRequest("SegmentId is required.")
    if request.schedule is None:
        raise BadRequest("Schedule is required.")
    segment_version = _segment_version(call, app_id, request.segment_id, request.segment_version)
    _checked_references(call, app_id, request)
    campaign_id = new_resource_id()
    now = iso_timestamp(call.ctx.now())
    wire = request.to_wire()
    wire.pop("AdditionalTreatments", None)
    treatments = _treatments(request)
    campaign = response_wire(
        CampaignResponse,
        {
            "HoldoutPercent": 0,
            "IsPaused": False,
            **wire,
            **({"AdditionalTreatments": treatments} if treatments is not None else {}),
            "ApplicationId": app_id,
            "Arn": campaign_arn(call.ctx.region, call.ctx.account, app_id, campaign_id),
            "CreationDate": now,
            "LastModifiedDate": now,
            "Id": campaign_id,
            "SegmentVersion": segment_version,
            "tags": request.tags or {},
            "Version": 1,
        },
    )
    async with call.ctx.lock("campaign", app_id, campaign_id):
        await _write_checked(call, app_id, campaign_id, ControlRecord(Kind="campaign", Versions=[campaign]), None)
    return _with_state(call, app_id, campaign)


def _campaign(call: Call) -> tuple[str, str, ControlRecord]:
    app_id = call.label("app_id")
    campaign_id = call.label("campaign_id")
    require_app(call.backend, app_id)
    record = require_record(call.backend, "campaign", f"{app_id}/{campaign_id}", f"Campaign {campaign_id!r}")
    return app_id, campaign_id, record


async def get_campaign(call: Call) -> dict[str, Any]:
    app_id, _, record = _campaign(call)
    return _with_state(call, app_id, record.current)


async def update_campaign(call: Call) -> dict[str, Any]:
    request = parse_model(WriteCampaignRequest, call.json())
    app_id, campaign_id, _ = _campaign(call)
    async with call.ctx.lock("campaign", app_id, campaign_id):
        _, _, record = _campaign(call)
        previous = record.current
        segment_id = request.segment_id or previous["SegmentId"]
        if request.segment_id is None and request.segment_version is None:
            segment_version = previous["SegmentVersion"]
        else:
            segment_version = _segment_version(call, app_id, segment_id, request.segment_version)
        _checked_references(call, app_id, request)
        changes = request.to_wire()
        changes.pop("tags", None)  # ignored on update (reference §4.2)
        changes.pop("AdditionalTreatments", None)
        treatments = _treatments(request)
        if treatments is not None:
            changes["AdditionalTreatments"] = treatments
        campaign = response_wire(
            CampaignResponse,
            {
                **previous,
                **changes,
                "LastModifiedDate": iso_timestamp(call.ctx.now()),
                "SegmentId": segment_id,
                "SegmentVersion": segment_version,
                "Version": int(previous.get("Version", len(record.Versions))) + 1,
            },
        )
        updated = ControlRecord(Kind="campaign", Versions=[*record.Versions, campaign])
        await _write_checked(call, app_id, campaign_id, updated, record)
    return _with_state(call, app_id, campaign)


async def delete_campaign(call: Call) -> dict[str, Any]:
    app_id, campaign_id, _ = _campaign(call)
    async with call.ctx.lock("campaign", app_id, campaign_id):
        _, _, record = _campaign(call)
        await call.backend.write_control("campaign", f"{app_id}/{campaign_id}", None)
    return _with_state(call, app_id, record.current)


async def get_campaigns(call: Call) -> dict[str, Any]:
    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    campaigns = [r.current for _, r in call.backend.control_records("campaign", f"{app_id}/")]
    items, next_token = paginate(campaigns, call.query("page-size"), call.query("token"))
    return list_body([_with_state(call, app_id, c) for c in items], next_token)


async def get_campaign_version(call: Call) -> dict[str, Any]:
    version = version_number(call.label("version"))
    app_id, campaign_id, record = _campaign(call)
    return _with_state(call, app_id, find_version(record, version, f"Campaign {campaign_id!r}"))


async def get_campaign_versions(call: Call) -> dict[str, Any]:
    app_id, _, record = _campaign(call)
    items, next_token = paginate(record.Versions, call.query("page-size"), call.query("token"))
    return list_body([_with_state(call, app_id, c) for c in items], next_token)
