"""Small builders of stored resources and events for the rules tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rules.caps import EndpointCaps
from rules.decide import Decision, decide
from rules.index import CampaignIndex, compile_index
from rules.models import (
    AppEvent,
    ApplicationResponse,
    ApplicationSettingsResource,
    CampaignResponse,
    Endpoint,
    InAppTemplateResponse,
    SegmentResponse,
)
from rules.timeutil import instant_seconds

APP = "app1"
CREATED = "2026-01-01T00:00:00.000Z"
START = "2026-01-01T00:00:00Z"
END = "2027-01-01T00:00:00Z"
T0 = "2026-06-01T12:00:00.000Z"

CONTENT = [{"BackgroundColor": "#000000",
            "HeaderConfig": {"Alignment": "CENTER", "Header": "Hi", "TextColor": "#FFFFFF"},
            "BodyConfig": {"Alignment": "CENTER", "Body": "Sale", "TextColor": "#FFFFFF"}}]


def app(app_id: str = APP) -> ApplicationResponse:
    return ApplicationResponse(arn=f"arn:aws:mobiletargeting:us-east-1:0:apps/{app_id}", id=app_id, name=app_id)


def settings(app_id: str = APP, **wire: Any) -> ApplicationSettingsResource:
    return ApplicationSettingsResource.model_validate({"ApplicationId": app_id, **wire})


def segment(segment_id: str = "all", app_id: str = APP, version: int = 1, **wire: Any) -> SegmentResponse:
    data = {"ApplicationId": app_id, "Arn": f"arn:seg/{segment_id}", "CreationDate": CREATED,
            "Id": segment_id, "SegmentType": "DIMENSIONAL", "Version": version, **wire}
    return SegmentResponse.model_validate(data)


def template(name: str = "tpl", version: str = "1", layout: str = "MIDDLE_BANNER", **wire: Any) -> InAppTemplateResponse:
    data = {"TemplateName": name, "TemplateType": "INAPP", "Version": version, "CreationDate": CREATED,
            "LastModifiedDate": CREATED, "Layout": layout, "Content": CONTENT, **wire}
    return InAppTemplateResponse.model_validate(data)


def trigger(event_type: str | list[str] = "promo", *, exclusive: bool = False,
            attributes: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None) -> dict[str, Any]:
    values = [event_type] if isinstance(event_type, str) else list(event_type)
    dims: dict[str, Any] = {"EventType": {"DimensionType": "EXCLUSIVE" if exclusive else "INCLUSIVE",
                                          "Values": values}}
    if attributes:
        dims["Attributes"] = dict(attributes)
    if metrics:
        dims["Metrics"] = dict(metrics)
    return {"FilterType": "SYSTEM", "Dimensions": dims}


def campaign(campaign_id: str = "c1", *, app_id: str = APP, segment_id: str = "all", priority: int | None = 1,
             event_filter: dict[str, Any] | None = None, schedule: Mapping[str, Any] | None = None,
             limits: Mapping[str, Any] | None = None, message: Mapping[str, Any] | None = None,
             **wire: Any) -> CampaignResponse:
    sched = {"StartTime": START, "EndTime": END, "Frequency": "IN_APP_EVENT",
             "EventFilter": event_filter or trigger()}
    sched.update(schedule or {})
    data: dict[str, Any] = {
        "ApplicationId": app_id, "Arn": f"arn:camp/{campaign_id}", "CreationDate": CREATED,
        "LastModifiedDate": CREATED, "Id": campaign_id, "SegmentId": segment_id, "SegmentVersion": 1,
        "Schedule": sched,
    }
    if priority is not None:
        data["Priority"] = priority
    if limits is not None:
        data["Limits"] = dict(limits)
    if "TemplateConfiguration" not in wire:
        data["MessageConfiguration"] = {"InAppMessage": dict(message) if message else
                                        {"Layout": "TOP_BANNER", "Content": CONTENT}}
    data.update(wire)
    return CampaignResponse.model_validate(data)


def index(campaigns: Iterable[CampaignResponse], *, segments: Iterable[SegmentResponse] = (),
          templates: Iterable[InAppTemplateResponse] = (), app_settings: Iterable[ApplicationSettingsResource] = (),
          apps: Iterable[str] = (APP,), **versions: Any) -> CampaignIndex:
    segs = {s.id: s for s in segments}
    segs.setdefault("all", segment("all"))
    return compile_index(
        {a: app(a) for a in apps},
        {s.application_id: s for s in app_settings},
        segs,
        {t.template_name: t for t in templates},
        {c.id: c for c in campaigns},
        **versions,
    )


def endpoint(endpoint_id: str = "ep1", **wire: Any) -> Endpoint:
    data = {"Id": endpoint_id, "ChannelType": "IN_APP", "ApplicationId": APP, **wire}
    return Endpoint.model_validate(data)


def event(event_type: str = "promo", *, at: str = T0, event_id: str = "ev1", endpoint_id: str = "ep1",
          attributes: Mapping[str, str] | None = None, metrics: Mapping[str, float] | None = None,
          session: str | None = "s1", session_start: str | None = None, app_id: str = APP) -> AppEvent:
    body: dict[str, Any] = {"EventType": event_type, "Timestamp": at}
    if attributes is not None:
        body["Attributes"] = dict(attributes)
    if metrics is not None:
        body["Metrics"] = dict(metrics)
    if session is not None:
        body["Session"] = {"Id": session, "StartTimestamp": session_start or at}
    return AppEvent.model_validate({"ApplicationId": app_id, "EndpointId": endpoint_id, "EventId": event_id,
                                    "Event": body})


def run(idx: CampaignIndex, ep: Endpoint | None, ev: AppEvent, caps: EndpointCaps | None = None) -> Decision | None:
    return decide(idx, ep, caps, ev, instant_seconds(ev.event.timestamp))


def winner(idx: CampaignIndex, ep: Endpoint | None, ev: AppEvent, caps: EndpointCaps | None = None) -> str | None:
    decision = run(idx, ep, ev, caps)
    return decision.campaign_id if decision else None
