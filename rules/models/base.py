"""The base of every Pinpoint-shaped model, and the reusable constrained types.

Wire rule (reference §2.2): members are PascalCase at every depth, except the ``tags``
members, which are lower-case both in boto3 and on the wire. Attributes are snake_case;
``to_wire()`` is ``model_dump(mode="json", by_alias=True, exclude_none=True)``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from rules.timeutil import IMMEDIATE, parse_hour_minute, parse_instant, parse_schedule_timezone

__all__ = [
    "AlignmentName",
    "ButtonActionName",
    "CampaignStatusName",
    "CapLimit",
    "ChannelTypeName",
    "ComparisonOperatorName",
    "DimensionTypeName",
    "AttributeTypeName",
    "FrequencyName",
    "HourMinute",
    "IsoDateTime",
    "LayoutName",
    "Percent",
    "ScheduleStart",
    "ScheduleTimezone",
    "SetOperatorName",
    "StringMap",
    "WireModel",
]


class WireModel(BaseModel):
    """Frozen pydantic model with Pinpoint's wire names (reference §2.2)."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        populate_by_name=True,
        frozen=True,
        # Unknown members are ignored, as botocore's parser ignores them (reference §2.5).
        extra="ignore",
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON wire form (PascalCase, ``tags``, no nulls)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


StringMap = dict[str, str]


def _check_instant(text: str) -> str:
    parse_instant(text)
    return text


def _check_start(text: str) -> str:
    if text != IMMEDIATE:
        parse_instant(text)
    return text


def _check_hour_minute(text: str) -> str:
    parse_hour_minute(text)
    return text


def _check_timezone(text: str) -> str:
    parse_schedule_timezone(text)
    return text


# Dates stay strings on the wire (reference §2.4) but must parse, or they could not be
# evaluated later.
IsoDateTime = Annotated[str, AfterValidator(_check_instant)]
# Schedule.StartTime is a date-time or the literal IMMEDIATE (reference §4.9).
ScheduleStart = Annotated[str, AfterValidator(_check_start)]
# QuietTime bounds are 24-hour HH:MM (reference §4.1).
HourMinute = Annotated[str, AfterValidator(_check_hour_minute)]
# Schedule.Timezone: UTC offsets like UTC+05:30 (reference §8.2).
ScheduleTimezone = Annotated[str, AfterValidator(_check_timezone)]
# Percentages of a segment (HoldoutPercent, SizePercent) are 0..100 (reference §4.2).
Percent = Annotated[int, Field(ge=0, le=100)]
# Session/Daily/Total caps: 0 = unlimited, documented maximum 100 (reference §4.2, §5.2).
CapLimit = Annotated[int, Field(ge=0, le=100)]

# Enumerations, exact values (reference §4.9). boto3 validates none of them (§2.5).
LayoutName = Literal[
    "BOTTOM_BANNER", "TOP_BANNER", "OVERLAYS", "MOBILE_FEED", "MIDDLE_BANNER", "CAROUSEL"
]
AlignmentName = Literal["LEFT", "CENTER", "RIGHT"]
ButtonActionName = Literal["LINK", "DEEP_LINK", "CLOSE"]
FilterTypeName = Literal["SYSTEM", "ENDPOINT"]
DimensionTypeName = Literal["INCLUSIVE", "EXCLUSIVE"]
AttributeTypeName = Literal["INCLUSIVE", "EXCLUSIVE", "CONTAINS", "BEFORE", "AFTER", "ON", "BETWEEN"]
FrequencyName = Literal["ONCE", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "EVENT", "IN_APP_EVENT"]
CampaignStatusName = Literal[
    "SCHEDULED", "EXECUTING", "PENDING_NEXT_RUN", "COMPLETED", "PAUSED", "DELETED", "INVALID"
]
ChannelTypeName = Literal[
    "PUSH", "GCM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "ADM", "SMS",
    "VOICE", "EMAIL", "BAIDU", "CUSTOM", "IN_APP",
]
TemplateTypeName = Literal["EMAIL", "SMS", "VOICE", "PUSH", "INAPP"]
SegmentTypeName = Literal["DIMENSIONAL", "IMPORT"]
FormatName = Literal["CSV", "JSON"]
DurationName = Literal["HR_24", "DAY_7", "DAY_14", "DAY_30"]
RecencyTypeName = Literal["ACTIVE", "INACTIVE"]
SetOperatorName = Literal["ALL", "ANY", "NONE"]
HookModeName = Literal["DELIVERY", "FILTER"]
# Plain strings in the model, but with a fixed vocabulary (reference §4.9).
ComparisonOperatorName = Literal[
    "EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL"
]
EndpointStatusName = Literal["ACTIVE", "INACTIVE"]
OptOutName = Literal["ALL", "NONE"]
