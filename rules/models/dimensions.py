"""Dimensions shared by triggers and segments (reference §4.1, §4.3, §7.2)."""

from __future__ import annotations

from pydantic import Field, model_validator

from rules.models.base import (
    AttributeTypeName,
    ComparisonOperatorName,
    DimensionTypeName,
    HourMinute,
    WireModel,
)
from rules.timeutil import parse_instant

__all__ = ["AttributeDimension", "MetricDimension", "QuietTime", "SetDimension"]

DATE_ATTRIBUTE_TYPES = frozenset({"BEFORE", "AFTER", "ON", "BETWEEN"})


class SetDimension(WireModel):
    """``SetDimension``: a value is in (``INCLUSIVE``) or not in (``EXCLUSIVE``) ``Values``;
    ``DimensionType`` absent means ``INCLUSIVE`` (reference §4.1)."""

    dimension_type: DimensionTypeName | None = None
    values: list[str]


class AttributeDimension(WireModel):
    """``AttributeDimension`` (reference §4.1, §7.2). Date types need ISO-8601 values and
    ``BETWEEN`` exactly two, in order; checked here so a bad filter is a 400 at write time."""

    attribute_type: AttributeTypeName | None = None
    values: list[str]

    @model_validator(mode="after")
    def _check_values(self) -> AttributeDimension:
        kind = self.attribute_type or "INCLUSIVE"
        if kind in DATE_ATTRIBUTE_TYPES:
            if not self.values:
                raise ValueError(f"{kind} needs at least one ISO-8601 value")
            instants = []
            for value in self.values:
                try:
                    instants.append(parse_instant(value))
                except ValueError as exc:
                    raise ValueError(f"{kind}: {exc}") from None
            if kind == "BETWEEN":
                if len(instants) != 2:
                    raise ValueError("BETWEEN needs exactly two values: start and end")
                if instants[0] > instants[1]:
                    raise ValueError("BETWEEN start is after its end")
        return self


class MetricDimension(WireModel):
    """``MetricDimension``: value *op* ``Value`` with the five documented operators
    (reference §4.1, §4.9; ``Value: 0`` is a valid bound)."""

    comparison_operator: ComparisonOperatorName
    value: float = Field(allow_inf_nan=False)


class QuietTime(WireModel):
    """``QuietTime``: ``HH:MM`` bounds in the endpoint's local time; may wrap midnight."""

    start: HourMinute | None = None
    end: HourMinute | None = None
