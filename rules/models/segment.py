"""Segments (reference §4.3, §7): dimensional and imported."""

from __future__ import annotations

from pydantic import Field, model_validator

from rules.models.base import (
    DurationName,
    FormatName,
    IsoDateTime,
    RecencyTypeName,
    SegmentTypeName,
    SetOperatorName,
    StringMap,
    WireModel,
)
from rules.models.dimensions import AttributeDimension, MetricDimension, SetDimension

__all__ = [
    "GPSCoordinates",
    "GPSPointDimension",
    "RecencyDimension",
    "Segment",
    "SegmentBehaviors",
    "SegmentDemographics",
    "SegmentDimensions",
    "SegmentGroup",
    "SegmentGroupList",
    "SegmentImportResource",
    "SegmentLocation",
    "SegmentReference",
    "SegmentResponse",
    "SegmentsResponse",
    "WriteSegmentRequest",
]


class RecencyDimension(WireModel):
    duration: DurationName
    recency_type: RecencyTypeName


class SegmentBehaviors(WireModel):
    recency: RecencyDimension | None = None


class SegmentDemographics(WireModel):
    app_version: SetDimension | None = None
    channel: SetDimension | None = None
    device_type: SetDimension | None = None
    make: SetDimension | None = None
    model: SetDimension | None = None
    platform: SetDimension | None = None


class GPSCoordinates(WireModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class GPSPointDimension(WireModel):
    coordinates: GPSCoordinates
    range_in_kilometers: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class SegmentLocation(WireModel):
    country: SetDimension | None = None
    gps_point: GPSPointDimension | None = Field(default=None, alias="GPSPoint")


class SegmentDimensions(WireModel):
    """All present dimensions must hold (reference §7.2)."""

    attributes: dict[str, AttributeDimension] | None = None
    behavior: SegmentBehaviors | None = None
    demographic: SegmentDemographics | None = None
    location: SegmentLocation | None = None
    metrics: dict[str, MetricDimension] | None = None
    user_attributes: dict[str, AttributeDimension] | None = None


class SegmentReference(WireModel):
    id: str
    version: int | None = Field(default=None, ge=1)


class SegmentGroup(WireModel):
    """``Type`` combines ``Dimensions``, ``SourceType`` combines ``SourceSegments``."""

    dimensions: list[SegmentDimensions] | None = None
    source_segments: list[SegmentReference] | None = None
    source_type: SetOperatorName | None = None
    type: SetOperatorName | None = None


class SegmentGroupList(WireModel):
    groups: list[SegmentGroup] | None = None
    include: SetOperatorName | None = None


class SegmentImportResource(WireModel):
    channel_counts: dict[str, int] | None = None
    external_id: str
    format: FormatName
    role_arn: str
    s3_url: str = Field(alias="S3Url")
    size: int = Field(ge=0)


def _one_definition(dimensions: object, groups: object) -> None:
    if dimensions is not None and groups is not None:
        raise ValueError("Dimensions and SegmentGroups are mutually exclusive")


class WriteSegmentRequest(WireModel):
    """Body of Create/UpdateSegment: ``Dimensions`` or ``SegmentGroups`` (reference §7.1)."""

    dimensions: SegmentDimensions | None = None
    name: str | None = None
    segment_groups: SegmentGroupList | None = None
    tags: StringMap | None = Field(default=None, alias="tags")

    @model_validator(mode="after")
    def _check(self) -> WriteSegmentRequest:
        _one_definition(self.dimensions, self.segment_groups)
        return self


class SegmentResponse(WireModel):
    """A stored segment version. ``IMPORT`` segments are static lists whose membership is
    recorded on each endpoint (``Endpoint.imported_segments``, PRODUCT.md semantics 9)."""

    application_id: str
    arn: str
    creation_date: IsoDateTime
    dimensions: SegmentDimensions | None = None
    id: str
    import_definition: SegmentImportResource | None = None
    last_modified_date: IsoDateTime | None = None
    name: str | None = None
    segment_groups: SegmentGroupList | None = None
    segment_type: SegmentTypeName
    tags: StringMap | None = Field(default=None, alias="tags")
    version: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> SegmentResponse:
        _one_definition(self.dimensions, self.segment_groups)
        return self


Segment = SegmentResponse


class SegmentsResponse(WireModel):
    item: list[SegmentResponse]
    next_token: str | None = None
