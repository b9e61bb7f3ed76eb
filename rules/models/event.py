"""Events: Pinpoint's ``Event`` (reference §4.5) and the engine's input envelope
``AppEvent`` (PRODUCT.md "Input event")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from rules.errors import event_error
from rules.models.base import IsoDateTime, StringMap, WireModel
from rules.models.endpoint import PublicEndpoint
from rules.timeutil import instant_seconds

__all__ = [
    "AppEvent",
    "EndpointItemResponse",
    "Event",
    "EventItemResponse",
    "EventsBatch",
    "EventsRequest",
    "EventsResponse",
    "ItemResponse",
    "Session",
    "decode_app_event",
]

class Session(WireModel):
    """The client session; ``Id`` scopes ``SessionCap`` (PRODUCT.md semantics 4).
    ``StartTimestamp`` is required by Pinpoint but optional here: backends publishing to
    Kafka often know only the session id."""

    duration: int | None = Field(default=None, ge=0)
    id: str = Field(min_length=1)
    start_timestamp: IsoDateTime | None = None
    stop_timestamp: IsoDateTime | None = None


# Per-event quotas (reference §6.2): Pinpoint refuses such events; so do PutEvents and the
# events agent, both through this model.
MAX_EVENT_KEYS = 40
MAX_ATTRIBUTE_NAME = 50
MAX_ATTRIBUTE_VALUE = 200


class Event(WireModel):
    """One event (reference §4.5): attributes are strings, metrics are doubles."""

    app_package_name: str | None = None
    app_title: str | None = None
    app_version_code: str | None = None
    attributes: StringMap | None = None
    client_sdk_version: str | None = None
    event_type: str = Field(min_length=1)
    metrics: dict[str, float] | None = None
    sdk_name: str | None = None
    session: Session | None = None
    timestamp: IsoDateTime

    @model_validator(mode="after")
    def _within_quotas(self) -> Event:
        attributes = self.attributes or {}
        metrics = self.metrics or {}
        if len(attributes) + len(metrics) > MAX_EVENT_KEYS:
            raise ValueError(f"at most {MAX_EVENT_KEYS} attributes and metrics per event")
        for name in (*attributes, *metrics):
            if len(name) > MAX_ATTRIBUTE_NAME:
                raise ValueError(f"attribute or metric name longer than {MAX_ATTRIBUTE_NAME} characters: {name[:60]!r}")
        for name, value in attributes.items():
            if len(value) > MAX_ATTRIBUTE_VALUE:
                raise ValueError(f"Attributes.{name[:60]}: value longer than {MAX_ATTRIBUTE_VALUE} characters")
        return self

    @property
    def instant(self) -> float:
        """``Timestamp`` in epoch seconds (parsed on each access: read it once)."""
        return instant_seconds(self.timestamp)


class AppEvent(WireModel):
    """The input envelope on ``inapp.events`` (PRODUCT.md "Input event")."""

    application_id: str = Field(min_length=1)
    endpoint_id: str = Field(min_length=1)
    event_id: str = Field(min_length=1)
    event: Event


class EventsBatch(WireModel):
    endpoint: PublicEndpoint
    events: dict[str, Event]


class EventsRequest(WireModel):
    """Body of PutEvents: ``BatchItem`` keyed by endpoint id (reference §4.5, §6.2)."""

    batch_item: dict[str, EventsBatch]


class EndpointItemResponse(WireModel):
    message: str | None = None
    status_code: int | None = None


class EventItemResponse(WireModel):
    message: str | None = None
    status_code: int | None = None


class ItemResponse(WireModel):
    endpoint_item_response: EndpointItemResponse | None = None
    events_item_response: dict[str, EventItemResponse] | None = None


class EventsResponse(WireModel):
    results: dict[str, ItemResponse] | None = None


# One adapter, built at import time (STYLE.md §5).
_APP_EVENT = TypeAdapter(AppEvent)


def decode_app_event(raw: Mapping[str, Any] | bytes | str) -> AppEvent:
    """Validate an input event — an orjson-parsed dict, or raw JSON bytes/text.

    Raises :class:`rules.errors.EventError` (run time, with ``field``/``reason``) on bad
    input, never a pydantic error (PRODUCT.md semantics 10).
    """
    try:
        if isinstance(raw, (bytes, bytearray, str)):
            return _APP_EVENT.validate_json(raw)
        return _APP_EVENT.validate_python(raw)
    except ValidationError as exc:
        event_id = raw.get("EventId") if isinstance(raw, Mapping) else None
        raise event_error(exc, event_id=event_id if isinstance(event_id, str) else None) from None
