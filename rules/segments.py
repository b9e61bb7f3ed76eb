"""Segment membership, compiled (reference §7.2; PRODUCT.md semantics 2 and 9).

A segment compiles into a :data:`SegmentPredicate` ``(endpoint, at) -> bool`` where ``at``
is the event instant (``Behavior.Recency`` depends on it). Rules, where the reference
leaves a choice (U11), decided here once:

* all dimensions present in one ``SegmentDimensions`` must hold (AND);
* ``Attributes``/``UserAttributes``: see :func:`rules.predicates.compile_attribute`;
  ``Metrics``: a missing endpoint metric fails;
* ``Demographic.AppVersion/Make/Model/Platform`` and ``Location.Country``: exact,
  case-sensitive set membership; ``Demographic.Channel`` reads ``ChannelType``;
  ``Demographic.DeviceType`` has no endpoint field and is a :class:`DefinitionError`
  rather than a silently ignored filter;
* ``Location.GPSPoint``: great-circle distance <= ``RangeInKilometers`` (default
  :data:`DEFAULT_GPS_RANGE_KM`); an endpoint without coordinates fails;
* ``Behavior.Recency``: activity = the endpoint's ``EffectiveDate``; ACTIVE when it lies
  within the duration before ``at``, INACTIVE otherwise (also when absent);
* groups: ``Type`` combines a group's ``Dimensions`` (default ALL), ``SourceType`` its
  ``SourceSegments`` (default ANY), ``Include`` the groups (default ALL); an empty list
  constrains nothing;
* ``IMPORT`` segments: member iff the id is in ``Endpoint.imported_segments``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rules.errors import DefinitionError
from rules.models.endpoint import Endpoint
from rules.models.segment import (
    GPSPointDimension,
    RecencyDimension,
    SegmentDimensions,
    SegmentGroup,
    SegmentGroupList,
    SegmentResponse,
)
from rules.predicates import (
    AttributeTest,
    Interner,
    MetricTest,
    SetTest,
    canonical_key,
    compile_attribute,
    compile_metric,
    compile_set,
)
from rules.timeutil import parse_instant

__all__ = ["ALWAYS", "DEFAULT_GPS_RANGE_KM", "SegmentCompiler", "SegmentPredicate"]

SegmentPredicate = Callable[[Endpoint, float], bool]

DEFAULT_GPS_RANGE_KM = 1.0  # RangeInKilometers has no documented default (reference §4.3)
_EARTH_RADIUS_KM = 6371.0088
_RECENCY_SECONDS = {"HR_24": 86_400.0, "DAY_7": 7 * 86_400.0, "DAY_14": 14 * 86_400.0, "DAY_30": 30 * 86_400.0}
_DEMOGRAPHIC_FIELDS = ("app_version", "make", "model", "platform")


def ALWAYS(endpoint: Endpoint, at: float) -> bool:  # noqa: N802  (a constant predicate)
    """The predicate of a segment without criteria: every endpoint."""
    return True


@lru_cache(maxsize=65_536)
def _effective_instant(text: str) -> float | None:
    try:
        return parse_instant(text).timestamp()
    except ValueError:
        return None


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _all(predicates: Sequence[SegmentPredicate]) -> SegmentPredicate:
    if not predicates:
        return ALWAYS
    if len(predicates) == 1:
        return predicates[0]
    parts = tuple(predicates)

    def every(endpoint: Endpoint, at: float) -> bool:
        for predicate in parts:
            if not predicate(endpoint, at):
                return False
        return True

    return every


def _combine(operator: str, predicates: Sequence[SegmentPredicate]) -> SegmentPredicate:
    """ALL / ANY / NONE over a list; an empty list constrains nothing (reference §7.2)."""
    if not predicates:
        return ALWAYS
    if operator == "ALL":
        return _all(predicates)
    parts = tuple(predicates)
    if operator == "ANY":
        return lambda endpoint, at: any(p(endpoint, at) for p in parts)
    return lambda endpoint, at: not any(p(endpoint, at) for p in parts)


def _attribute_leaf(name: str, test: AttributeTest) -> SegmentPredicate:
    def leaf(endpoint: Endpoint, at: float) -> bool:
        attributes = endpoint.attributes
        return test.many(attributes.get(name) if attributes else None)

    return leaf


def _user_attribute_leaf(name: str, test: AttributeTest) -> SegmentPredicate:
    def leaf(endpoint: Endpoint, at: float) -> bool:
        user = endpoint.user
        attributes = user.user_attributes if user is not None else None
        return test.many(attributes.get(name) if attributes else None)

    return leaf


def _metric_leaf(name: str, test: MetricTest) -> SegmentPredicate:
    def leaf(endpoint: Endpoint, at: float) -> bool:
        metrics = endpoint.metrics
        value = metrics.get(name) if metrics else None
        return value is not None and test(value)

    return leaf


def _demographic_leaf(attribute: str, test: SetTest) -> SegmentPredicate:
    def leaf(endpoint: Endpoint, at: float) -> bool:
        demographic = endpoint.demographic
        return test.one(getattr(demographic, attribute) if demographic is not None else None)

    return leaf


def _channel_leaf(test: SetTest) -> SegmentPredicate:
    return lambda endpoint, at: test.one(endpoint.channel_type)


def _country_leaf(test: SetTest) -> SegmentPredicate:
    def leaf(endpoint: Endpoint, at: float) -> bool:
        location = endpoint.location
        return test.one(location.country if location is not None else None)

    return leaf


def _gps_leaf(dimension: GPSPointDimension) -> SegmentPredicate:
    lat, lon = dimension.coordinates.latitude, dimension.coordinates.longitude
    limit = dimension.range_in_kilometers or DEFAULT_GPS_RANGE_KM

    def leaf(endpoint: Endpoint, at: float) -> bool:
        location = endpoint.location
        if location is None or location.latitude is None or location.longitude is None:
            return False
        return _distance_km(lat, lon, location.latitude, location.longitude) <= limit

    return leaf


def _recency_leaf(dimension: RecencyDimension) -> SegmentPredicate:
    window = _RECENCY_SECONDS[dimension.duration]
    want_active = dimension.recency_type == "ACTIVE"

    def leaf(endpoint: Endpoint, at: float) -> bool:
        text = endpoint.effective_date
        seen = _effective_instant(text) if text else None
        active = seen is not None and at - seen <= window
        return active is want_active

    return leaf


def _imported_leaf(segment_id: str) -> SegmentPredicate:
    return lambda endpoint, at: segment_id in endpoint.imported_segments


@dataclass
class SegmentCompiler:
    """Compiles segments for one index build; shares predicates through ``interner``.

    ``segments`` holds the latest version of each segment by id; ``versions`` older
    versions by ``(id, version)``, for campaigns and source references that pin one.
    """

    segments: Mapping[str, SegmentResponse]
    versions: Mapping[tuple[str, int], SegmentResponse]
    interner: Interner = field(default_factory=Interner)
    _stack: list[tuple[str, int | None]] = field(default_factory=list)

    def resolve(self, segment_id: str, version: int | None) -> SegmentResponse:
        latest = self.segments.get(segment_id)
        if latest is None:
            raise DefinitionError("SegmentId", f"segment {segment_id!r} does not exist")
        if version is None or latest.version is None or version == latest.version:
            return latest
        pinned = self.versions.get((segment_id, version))
        if pinned is None:
            raise DefinitionError(
                "SegmentVersion", f"version {version} of segment {segment_id!r} is not available"
            )
        return pinned

    def compile(self, segment_id: str, version: int | None, application_id: str) -> SegmentPredicate:
        """The membership predicate of a segment (at a pinned version, or the latest).
        Raises :class:`DefinitionError` for unknown segments, other apps' segments,
        reference cycles and unsupported dimensions."""
        segment = self.resolve(segment_id, version)
        if segment.application_id != application_id:
            raise DefinitionError("SegmentId", f"segment {segment_id!r} belongs to another application")
        key = (segment_id, segment.version)
        if key in self._stack:
            raise DefinitionError("SegmentId", f"segment {segment_id!r} refers to itself")
        self._stack.append(key)
        try:
            return self.interner.get(("segment", *key), lambda: self._segment(segment))
        finally:
            self._stack.pop()

    def _segment(self, segment: SegmentResponse) -> SegmentPredicate:
        if segment.segment_type == "IMPORT":
            return self.interner.get(("import", segment.id), lambda: _imported_leaf(segment.id))
        if segment.dimensions is not None:
            return self.dimensions(segment.dimensions, f"segment {segment.id!r}: Dimensions")
        if segment.segment_groups is not None:
            return self.groups(segment.segment_groups, segment.id, segment.application_id)
        return ALWAYS

    def dimensions(self, dimensions: SegmentDimensions, where: str) -> SegmentPredicate:
        """All present dimensions must hold (AND); identical dimension sets share one
        predicate."""
        return self.interner.get(
            canonical_key("dimensions", dimensions), lambda: self._build(dimensions, where)
        )

    def _build(self, dimensions: SegmentDimensions, where: str) -> SegmentPredicate:
        leaves: list[SegmentPredicate] = []
        intern = self.interner
        for name, dim in sorted((dimensions.attributes or {}).items()):
            leaves.append(_attribute_leaf(name, compile_attribute(dim, intern)))
        for name, dim in sorted((dimensions.user_attributes or {}).items()):
            leaves.append(_user_attribute_leaf(name, compile_attribute(dim, intern)))
        for name, metric in sorted((dimensions.metrics or {}).items()):
            leaves.append(_metric_leaf(name, compile_metric(metric, intern)))
        demographic = dimensions.demographic
        if demographic is not None:
            if demographic.device_type is not None:
                raise DefinitionError(
                    "SegmentId",
                    f"{where}.Demographic.DeviceType: endpoints carry no device type; "
                    "use Make, Model or Platform",
                )
            for attribute in _DEMOGRAPHIC_FIELDS:
                dim = getattr(demographic, attribute)
                if dim is not None:
                    leaves.append(_demographic_leaf(attribute, compile_set(dim, intern)))
            if demographic.channel is not None:
                leaves.append(_channel_leaf(compile_set(demographic.channel, intern)))
        location = dimensions.location
        if location is not None:
            if location.country is not None:
                leaves.append(_country_leaf(compile_set(location.country, intern)))
            if location.gps_point is not None:
                leaves.append(_gps_leaf(location.gps_point))
        if dimensions.behavior is not None and dimensions.behavior.recency is not None:
            leaves.append(_recency_leaf(dimensions.behavior.recency))
        return _all(leaves)

    def group(self, group: SegmentGroup, segment_id: str, application_id: str) -> SegmentPredicate:
        sources = [
            self.compile(ref.id, ref.version, application_id) for ref in group.source_segments or ()
        ]
        dims = [
            self.dimensions(d, f"segment {segment_id!r}: SegmentGroups")
            for d in group.dimensions or ()
        ]
        return _all([_combine(group.source_type or "ANY", sources), _combine(group.type or "ALL", dims)])

    def groups(self, groups: SegmentGroupList, segment_id: str, application_id: str) -> SegmentPredicate:
        compiled = [self.group(g, segment_id, application_id) for g in groups.groups or ()]
        return _combine(groups.include or "ALL", compiled)
