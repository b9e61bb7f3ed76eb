"""Compiled leaf predicates shared by triggers and segments (reference §4.1, §7.2;
PRODUCT.md semantics 3).

Each dimension is compiled once into a small closure; identical dimensions compile to the
*same* object through an :class:`Interner` (STYLE.md §3), so a decision can memoise a
predicate's result by identity. Nothing here parses on the evaluation path except endpoint
date attributes, whose parse is cached.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, TypeVar

from rules.models.dimensions import AttributeDimension, MetricDimension, SetDimension
from rules.timeutil import parse_instant

__all__ = [
    "AttributeTest",
    "Interner",
    "MetricTest",
    "SetTest",
    "canonical_key",
    "compile_attribute",
    "compile_metric",
    "compile_set",
    "event_filter",
]

T = TypeVar("T")
MetricTest = Callable[[float], bool]

# E op V, written as V op' E so that functools.partial can bind V (C-level calls).
_METRIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "EQUAL": operator.eq,
    "GREATER_THAN": operator.lt,  # V < E  ⇔  E > V
    "GREATER_THAN_OR_EQUAL": operator.le,  # V <= E
    "LESS_THAN": operator.gt,  # V > E
    "LESS_THAN_OR_EQUAL": operator.ge,  # V >= E
}
_DAY = 86_400.0


class Interner:
    """Hands out one shared object per canonical key (identical predicates interned)."""

    def __init__(self) -> None:
        self._objects: dict[Hashable, Any] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        found = self._objects.get(key)
        if found is None:
            found = self._objects[key] = build()
        return found

    def __len__(self) -> int:
        return len(self._objects)


def canonical_key(kind: str, model: Any) -> tuple[str, str]:
    """A hashable key for a dimension model: its wire JSON with sorted keys."""
    wire = model.to_wire() if hasattr(model, "to_wire") else model
    return kind, json.dumps(wire, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=65_536)
def _instant_or_none(text: str) -> float | None:
    try:
        return parse_instant(text).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, eq=False)
class AttributeTest:
    """One ``AttributeDimension``. ``accepts(value)`` is the positive test of a single
    value; ``negated`` marks EXCLUSIVE. A set of values matches when some value is accepted
    (INCLUSIVE, CONTAINS, dates) or when none is (EXCLUSIVE); an absent attribute matches
    only under EXCLUSIVE (reference §7.2)."""

    accepts: Callable[[str], bool]
    negated: bool
    equals: frozenset[str] | None = None  # the Values of INCLUSIVE/EXCLUSIVE (fast paths)

    def one(self, value: str | None) -> bool:
        """An event attribute: a single string, or absent."""
        if value is None:
            return self.negated
        return self.accepts(value) is not self.negated

    def many(self, values: Sequence[str] | None) -> bool:
        """An endpoint attribute: a list of strings, or absent."""
        if not values:
            return self.negated
        accepts = self.accepts
        for value in values:
            if accepts(value):
                return not self.negated
        return self.negated


def _contains_any(needles: tuple[str, ...], value: str) -> bool:
    return any(needle in value for needle in needles)


def _before(bound: float, value: str) -> bool:
    instant = _instant_or_none(value)
    return instant is not None and instant < bound


def _after(bound: float, value: str) -> bool:
    instant = _instant_or_none(value)
    return instant is not None and instant > bound


def _between(low: float, high: float, value: str) -> bool:
    instant = _instant_or_none(value)
    return instant is not None and low <= instant <= high


def _on(days: frozenset[int], value: str) -> bool:
    instant = _instant_or_none(value)
    return instant is not None and int(instant // _DAY) in days


def compile_attribute(dimension: AttributeDimension, interner: Interner) -> AttributeTest:
    """Compile an ``AttributeDimension`` (every ``AttributeType``, reference §7.2):

    * INCLUSIVE — the value equals one of ``Values`` (exact, case-sensitive);
    * EXCLUSIVE — no value equals one of ``Values`` (absent attribute: matches);
    * CONTAINS — the value contains one of ``Values`` as a substring (case-sensitive);
    * BEFORE / AFTER — the value, read as an ISO-8601 instant, is before the latest /
      after the earliest of ``Values``;
    * ON — same UTC calendar day as one of ``Values`` (the time of day is ignored);
    * BETWEEN — ``Values[0] <= value <= Values[1]``, both bounds inclusive.

    A value that is not a date never matches a date type. Dates in ``Values`` were checked
    when the model was validated.
    """

    def build() -> AttributeTest:
        kind = dimension.attribute_type or "INCLUSIVE"
        values = tuple(dimension.values)
        if kind in ("INCLUSIVE", "EXCLUSIVE"):
            members = frozenset(values)
            return AttributeTest(members.__contains__, kind == "EXCLUSIVE", members)
        if kind == "CONTAINS":
            return AttributeTest(partial(_contains_any, values), False)
        instants = [parse_instant(v).timestamp() for v in values]
        if kind == "BEFORE":
            return AttributeTest(partial(_before, max(instants)), False)
        if kind == "AFTER":
            return AttributeTest(partial(_after, min(instants)), False)
        if kind == "ON":
            return AttributeTest(partial(_on, frozenset(int(i // _DAY) for i in instants)), False)
        return AttributeTest(partial(_between, instants[0], instants[1]), False)

    return interner.get(canonical_key("attribute", dimension), build)


def compile_metric(dimension: MetricDimension, interner: Interner) -> MetricTest:
    """Compile a ``MetricDimension``: value *op* ``Value`` for the five operators
    (reference §4.1); ``Value: 0`` is an ordinary bound (unlike Amplify v6, §10.2)."""

    def build() -> MetricTest:
        compare = _METRIC_OPERATORS[dimension.comparison_operator]
        return partial(compare, float(dimension.value))

    return interner.get(canonical_key("metric", dimension), build)


@dataclass(frozen=True, slots=True, eq=False)
class SetTest:
    """One ``SetDimension``: the value is in ``Values`` (INCLUSIVE) or not (EXCLUSIVE; an
    absent value matches)."""

    values: frozenset[str]
    negated: bool

    def one(self, value: str | None) -> bool:
        if value is None:
            return self.negated
        return (value in self.values) is not self.negated


def compile_set(dimension: SetDimension, interner: Interner) -> SetTest:
    """Compile a ``SetDimension`` (``DimensionType`` absent = INCLUSIVE)."""
    return interner.get(
        canonical_key("set", dimension),
        lambda: SetTest(frozenset(dimension.values), dimension.dimension_type == "EXCLUSIVE"),
    )


def attributes_match(
    tests: Sequence[tuple[str, AttributeTest]], attributes: Mapping[str, str] | None
) -> bool:
    """Every attribute filter holds for an event's string attributes (AND across keys)."""
    if attributes is None:
        attributes = {}
    for name, test in tests:
        if not test.one(attributes.get(name)):
            return False
    return True


def metrics_match(tests: Sequence[tuple[str, MetricTest]], metrics: Mapping[str, float] | None) -> bool:
    """Every metric filter holds (AND across keys); a missing metric fails."""
    if metrics is None:
        return not tests
    for name, test in tests:
        value = metrics.get(name)
        if value is None or not test(value):
            return False
    return True


EventFilter = Callable[[Mapping[str, str] | None, Mapping[str, float] | None], bool]


def event_filter(
    attributes: tuple[tuple[str, AttributeTest], ...], metrics: tuple[tuple[str, MetricTest], ...]
) -> EventFilter | None:
    """One callable testing an event's attributes and metrics (AND of all filters), or
    ``None`` without filters. The common single-filter shapes get a closure of their own:
    this runs once per candidate campaign per event."""
    if not attributes and not metrics:
        return None
    if len(attributes) == 1 and not metrics:
        name, test = attributes[0]
        members = test.equals
        if members is not None and not test.negated:
            return lambda found, _: found is not None and found.get(name) in members
        if members is not None:
            return lambda found, _: found is None or found.get(name) not in members
        one = test.one
        return lambda found, _: one(found.get(name) if found is not None else None)
    if len(metrics) == 1 and not attributes:
        name, compare = metrics[0]

        def single_metric(_: Mapping[str, str] | None, found: Mapping[str, float] | None) -> bool:
            value = found.get(name) if found is not None else None
            return value is not None and compare(value)

        return single_metric

    def every(found_attributes: Mapping[str, str] | None, found_metrics: Mapping[str, float] | None) -> bool:
        return attributes_match(attributes, found_attributes) and metrics_match(metrics, found_metrics)

    return every
