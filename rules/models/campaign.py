"""Campaigns, in-app flavour (reference §4.1 InAppMessageCampaign, §4.2, §8)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rules.models.base import (
    CampaignStatusName,
    CapLimit,
    FilterTypeName,
    FrequencyName,
    IsoDateTime,
    Percent,
    ScheduleStart,
    ScheduleTimezone,
    StringMap,
    WireModel,
)
from rules.models.dimensions import AttributeDimension, MetricDimension, QuietTime, SetDimension
from rules.models.message import InAppMessage, MessageConfiguration, TemplateConfiguration
from rules.timeutil import IMMEDIATE, parse_instant

__all__ = [
    "Campaign",
    "CampaignEventFilter",
    "CampaignHook",
    "CampaignLimits",
    "CampaignResponse",
    "CampaignState",
    "CampaignsResponse",
    "CustomDeliveryConfiguration",
    "EventDimensions",
    "InAppCampaignSchedule",
    "InAppMessageCampaign",
    "InAppMessagesResponse",
    "Schedule",
    "TreatmentResource",
    "WriteCampaignRequest",
    "WriteTreatmentResource",
]


class CampaignLimits(WireModel):
    """Caps per endpoint (0 = unlimited) and push-only rates (reference §4.2, §5.2)."""

    daily: CapLimit | None = None
    maximum_duration: int | None = Field(default=None, ge=60)
    messages_per_second: int | None = Field(default=None, ge=1, le=20000)
    total: CapLimit | None = None
    session: CapLimit | None = None


class EventDimensions(WireModel):
    """The trigger: event name, attribute filters (AND across keys, OR across values) and
    metric filters (AND across keys) (reference §4.1)."""

    attributes: dict[str, AttributeDimension] | None = None
    event_type: SetDimension | None = None
    metrics: dict[str, MetricDimension] | None = None


class CampaignEventFilter(WireModel):
    dimensions: EventDimensions
    filter_type: FilterTypeName


class Schedule(WireModel):
    """Campaign schedule (reference §4.2, §8.2). ``StartTime`` is required by the model and
    may be ``IMMEDIATE``; ``EndTime`` must be later than a dated ``StartTime``."""

    end_time: IsoDateTime | None = None
    event_filter: CampaignEventFilter | None = None
    frequency: FrequencyName | None = None
    is_local_time: bool | None = None
    quiet_time: QuietTime | None = None
    start_time: ScheduleStart
    timezone: ScheduleTimezone | None = None

    @model_validator(mode="after")
    def _check_window(self) -> Schedule:
        if self.end_time is not None and self.start_time != IMMEDIATE:
            if parse_instant(self.end_time) <= parse_instant(self.start_time):
                raise ValueError("EndTime must be later than StartTime")
        return self


class CustomDeliveryConfiguration(WireModel):
    delivery_uri: str
    endpoint_types: list[str] | None = None


class CampaignHook(WireModel):
    lambda_function_name: str | None = None
    mode: str | None = None
    web_url: str | None = None


class CampaignState(WireModel):
    campaign_status: CampaignStatusName | None = None


class WriteTreatmentResource(WireModel):
    """An A/B treatment in a write request; ``SizePercent`` is required (reference §4.2)."""

    custom_delivery_configuration: CustomDeliveryConfiguration | None = None
    message_configuration: MessageConfiguration | None = None
    schedule: Schedule | None = None
    size_percent: Percent
    template_configuration: TemplateConfiguration | None = None
    treatment_description: str | None = None
    treatment_name: str | None = None


class TreatmentResource(WriteTreatmentResource):
    """A stored treatment: ``Id`` "1", "2", … ("0" is the default treatment, §8.4)."""

    id: str
    state: CampaignState | None = None


def _check_shares(treatments: list[Any] | None, info: ValidationInfo) -> list[Any] | None:
    # §8.4: the default treatment gets 100 - HoldoutPercent - sum(SizePercent); negative
    # is a 400. HoldoutPercent is declared earlier, so it is in info.data when valid.
    holdout = info.data.get("holdout_percent") or 0
    used = holdout + sum(t.size_percent for t in treatments or ())
    if used > 100:
        raise ValueError(f"HoldoutPercent plus the SizePercent of all treatments is {used} (> 100)")
    return treatments


class _CampaignFields(WireModel):
    custom_delivery_configuration: CustomDeliveryConfiguration | None = None
    description: str | None = None
    holdout_percent: Percent | None = None
    hook: CampaignHook | None = None
    is_paused: bool | None = None
    limits: CampaignLimits | None = None
    message_configuration: MessageConfiguration | None = None
    name: str | None = None
    schedule: Schedule | None = None
    tags: StringMap | None = Field(default=None, alias="tags")
    template_configuration: TemplateConfiguration | None = None
    treatment_description: str | None = None
    treatment_name: str | None = None
    priority: int | None = Field(default=None, ge=0)


class WriteCampaignRequest(_CampaignFields):
    """Body of Create/UpdateCampaign (reference §4.2)."""

    additional_treatments: list[WriteTreatmentResource] | None = None
    segment_id: str | None = None
    segment_version: int | None = Field(default=None, ge=1)

    _shares = field_validator("additional_treatments")(_check_shares)


class CampaignResponse(_CampaignFields):
    """A stored campaign version (reference §4.2, §8.3)."""

    additional_treatments: list[TreatmentResource] | None = None
    application_id: str
    arn: str
    creation_date: IsoDateTime
    default_state: CampaignState | None = None
    id: str
    last_modified_date: IsoDateTime
    segment_id: str
    segment_version: int = Field(ge=1)
    state: CampaignState | None = None
    version: int | None = Field(default=None, ge=1)

    _shares = field_validator("additional_treatments")(_check_shares)


Campaign = CampaignResponse


class CampaignsResponse(WireModel):
    item: list[CampaignResponse]
    next_token: str | None = None


class InAppCampaignSchedule(WireModel):
    """The reduced schedule delivered by GetInAppMessages (reference §4.1)."""

    end_date: str | None = None
    event_filter: CampaignEventFilter | None = None
    quiet_time: QuietTime | None = None


class InAppMessageCampaign(WireModel):
    """One entry of GetInAppMessages (reference §4.1, §9.2)."""

    campaign_id: str | None = None
    daily_cap: int | None = None
    in_app_message: InAppMessage | None = None
    priority: int | None = None
    schedule: InAppCampaignSchedule | None = None
    session_cap: int | None = None
    total_cap: int | None = None
    treatment_id: str | None = None


class InAppMessagesResponse(WireModel):
    in_app_message_campaigns: list[InAppMessageCampaign] | None = None
