"""Applications and project settings (reference §4.7, §5)."""

from __future__ import annotations

from pydantic import Field

from rules.models.base import IsoDateTime, StringMap, WireModel
from rules.models.campaign import CampaignHook, CampaignLimits
from rules.models.dimensions import QuietTime

__all__ = [
    "Application",
    "ApplicationResponse",
    "ApplicationSettings",
    "ApplicationSettingsJourneyLimits",
    "ApplicationSettingsResource",
    "ApplicationsResponse",
    "CreateApplicationRequest",
    "JourneyTimeframeCap",
    "WriteApplicationSettingsRequest",
]


class CreateApplicationRequest(WireModel):
    name: str = Field(min_length=1)
    tags: StringMap | None = Field(default=None, alias="tags")


class ApplicationResponse(WireModel):
    arn: str
    id: str
    name: str
    tags: StringMap | None = Field(default=None, alias="tags")
    creation_date: IsoDateTime | None = None


Application = ApplicationResponse


class ApplicationsResponse(WireModel):
    item: list[ApplicationResponse] | None = None
    next_token: str | None = None


class JourneyTimeframeCap(WireModel):
    cap: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)


class ApplicationSettingsJourneyLimits(WireModel):
    daily_cap: int | None = Field(default=None, ge=0)
    timeframe_cap: JourneyTimeframeCap | None = None
    total_cap: int | None = Field(default=None, ge=0)


class WriteApplicationSettingsRequest(WireModel):
    """Body of UpdateApplicationSettings; ``Limits`` and ``QuietTime`` are the project
    defaults a campaign's own values override (reference §5.2)."""

    campaign_hook: CampaignHook | None = None
    cloud_watch_metrics_enabled: bool | None = None
    event_tagging_enabled: bool | None = None
    limits: CampaignLimits | None = None
    quiet_time: QuietTime | None = None
    journey_limits: ApplicationSettingsJourneyLimits | None = None


class ApplicationSettingsResource(WireModel):
    """Stored project settings (the write-only flags are not echoed, reference §5.2)."""

    application_id: str
    campaign_hook: CampaignHook | None = None
    last_modified_date: IsoDateTime | None = None
    limits: CampaignLimits | None = None
    quiet_time: QuietTime | None = None
    journey_limits: ApplicationSettingsJourneyLimits | None = None


ApplicationSettings = ApplicationSettingsResource
