"""Endpoints (reference §4.4, §6.1)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_serializer, field_validator

from rules.models.base import (
    ChannelTypeName,
    EndpointStatusName,
    IsoDateTime,
    OptOutName,
    WireModel,
)

__all__ = [
    "Endpoint",
    "EndpointBatchItem",
    "EndpointBatchRequest",
    "EndpointDemographic",
    "EndpointLocation",
    "EndpointRequest",
    "EndpointResponse",
    "EndpointUser",
    "MessageBody",
    "PublicEndpoint",
]

# CohortId is a string "0".."99" (reference §2.4, §6.1).
COHORT_PATTERN = r"^(\d|[1-9]\d)$"


class EndpointDemographic(WireModel):
    """``Timezone`` is an IANA name; an invalid one is kept (it is client data) and read as
    "no zone" when evaluating (PRODUCT.md semantics 4, 5)."""

    app_version: str | None = None
    locale: str | None = None
    make: str | None = None
    model: str | None = None
    model_version: str | None = None
    platform: str | None = None
    platform_version: str | None = None
    timezone: str | None = None


class EndpointLocation(WireModel):
    city: str | None = None
    country: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    postal_code: str | None = None
    region: str | None = None


class EndpointUser(WireModel):
    user_attributes: dict[str, list[str]] | None = None
    user_id: str | None = None


class PublicEndpoint(WireModel):
    """Endpoint data as sent with events and in requests (reference §4.4, §4.5)."""

    address: str | None = None
    attributes: dict[str, list[str]] | None = None
    channel_type: ChannelTypeName | None = None
    demographic: EndpointDemographic | None = None
    effective_date: IsoDateTime | None = None
    endpoint_status: EndpointStatusName | None = None
    location: EndpointLocation | None = None
    metrics: dict[str, float] | None = None
    opt_out: OptOutName | None = None
    request_id: str | None = None
    user: EndpointUser | None = None


class EndpointRequest(PublicEndpoint):
    """Body of UpdateEndpoint (reference §4.4)."""


class EndpointBatchItem(PublicEndpoint):
    id: str | None = None


class EndpointBatchRequest(WireModel):
    item: list[EndpointBatchItem] = Field(max_length=100)


class EndpointResponse(PublicEndpoint):
    """A stored endpoint as GetEndpoint returns it (reference §4.4)."""

    application_id: str | None = None
    cohort_id: str | None = Field(default=None, pattern=COHORT_PATTERN)
    creation_date: IsoDateTime | None = None
    id: str | None = None


class Endpoint(EndpointResponse):
    """The endpoint profile the engine keeps (PRODUCT.md topic ``inapp.endpoints``).

    ``imported_segments`` holds the ids of the IMPORT segments this endpoint belongs to
    (internal; ``ImportedSegments`` on the topic, never in API responses — use
    :meth:`to_response`). An IMPORT segment matches an endpoint iff its id is in this set
    (PRODUCT.md semantics 9).
    """

    imported_segments: frozenset[str] = frozenset()

    @field_validator("imported_segments", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return frozenset() if value is None else value

    @field_serializer("imported_segments")
    def _sorted(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    def to_response(self) -> EndpointResponse:
        """The public ``EndpointResponse`` (without internal members)."""
        return EndpointResponse.model_validate(
            self.model_dump(by_alias=True, exclude={"imported_segments"})
        )


class MessageBody(WireModel):
    """202 body of UpdateEndpoint etc.; note ``RequestID`` (reference §4.4)."""

    message: str | None = None
    request_id: str | None = Field(default=None, alias="RequestID")
