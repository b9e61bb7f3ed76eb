"""Wire schemas of the engine's own records, and pure encode/decode (orjson).

Input events and Pinpoint resources are modelled in ``rules.models``; this module holds the
envelopes that exist only on Kafka: endpoint upserts, control-plane records, decisions as
subscribers read them, dead letters and campaign metric deltas. Never pickle on a topic.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "ControlRecord",
    "DeadLetter",
    "DecisionRecord",
    "EndpointRecord",
    "MetricDelta",
    "MetricRow",
    "PinpointEventsRecord",
    "decode_json",
    "encode_json",
    "original_bytes",
]

# Ids arrive from clients; Pinpoint forbids these characters in endpoint ids (reference §2.3)
ResourceId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^${}/\\]+$")]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointRecord(_Wire):
    """Value on ``inapp.endpoints``: an upsert (merged into the stored profile) or a delete."""

    ApplicationId: ResourceId
    EndpointId: ResourceId
    Op: Literal["upsert", "delete"] = "upsert"
    # EndpointRequest members (reference §4.4); merged over the stored endpoint
    Endpoint: dict[str, Any] = Field(default_factory=dict)
    # static membership from a segment import (PRODUCT.md semantics 9)
    AddImportedSegments: list[str] = Field(default_factory=list)
    RequestId: str | None = None


class ControlRecord(_Wire):
    """Value on a compacted control topic (apps, segments, templates, campaigns, import jobs).

    ``Versions`` holds every version's response wire dict, oldest first; the last one is the
    current resource. ``ActiveVersion`` is the template version campaigns use. A deleted
    resource is a tombstone (value ``None``), not a record.
    """

    Kind: Literal["app", "segment", "template", "campaign", "import-job"]
    Versions: list[dict[str, Any]] = Field(min_length=1)
    Settings: dict[str, Any] | None = None
    ActiveVersion: int | None = None

    @property
    def current(self) -> dict[str, Any]:
        return self.Versions[-1]


class DecisionRecord(BaseModel):
    """A display decision as subscribers of ``inapp.decisions`` read it (PRODUCT.md)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    DecisionId: str
    ApplicationId: str
    EndpointId: str
    EventId: str
    EventType: str
    CampaignId: str
    TreatmentId: str
    Priority: int | None = None
    InAppMessage: dict[str, Any]
    Remaining: dict[str, int | None]
    DecidedAt: str


class DeadLetter(_Wire):
    """Value on ``inapp.dead-letter``: what arrived, why it was refused, where it came from."""

    SourceTopic: str
    SourcePartition: int | None = None
    SourceOffset: int | None = None
    Key: str | None = None
    # UTF-8 text when the bytes decode, else base64 with ValueEncoding "base64"; only the
    # first DEAD_LETTER_VALUE_LIMIT bytes of a larger record (ValueTruncated, ValueSize)
    Value: str | None
    ValueEncoding: Literal["utf-8", "base64"] = "utf-8"
    ValueSize: int | None = None
    ValueTruncated: bool = False
    ErrorClass: str
    Reason: str
    Field: str | None = None
    ReceivedAt: str


class MetricRow(_Wire):
    TreatmentId: str
    Day: str
    Counts: dict[str, int]
    # the source event's offset (rows of one delta come from one batch of events); absent:
    # the delta's SourceOffset
    SourceOffset: int | None = None


class MetricDelta(_Wire):
    """Counter deltas the source events of one partition imply for one campaign, each row
    applied once per source position, so a replayed event never counts twice. SourceOffset
    is the highest source offset among the rows."""

    ApplicationId: str
    CampaignId: str
    Rows: list[MetricRow]
    SourcePartition: int
    SourceOffset: int


class PinpointEventsRecord(_Wire):
    """Value on ``inapp.pinpoint-events``: one ``PutEvents`` body ready to forward."""

    ApplicationId: str
    EventsRequest: dict[str, Any]


def encode_json(value: BaseModel | dict[str, Any] | list[Any]) -> bytes:
    if isinstance(value, BaseModel):
        return orjson.dumps(value.model_dump(mode="json", exclude_none=True))
    return orjson.dumps(value)


def decode_json(raw: bytes) -> Any:
    """Parse JSON bytes; raises ``orjson.JSONDecodeError`` (a ValueError) on bad input."""
    return orjson.loads(raw)


def original_bytes(raw: bytes | None) -> tuple[str | None, Literal["utf-8", "base64"]]:
    """Text for the dead-letter record: UTF-8 when it decodes, else base64."""
    if raw is None:
        return None, "utf-8"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


CONTROL_RECORD: TypeAdapter[ControlRecord] = TypeAdapter(ControlRecord)
ENDPOINT_RECORD: TypeAdapter[EndpointRecord] = TypeAdapter(EndpointRecord)
METRIC_DELTA: TypeAdapter[MetricDelta] = TypeAdapter(MetricDelta)
