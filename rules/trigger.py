"""Trigger matching (PRODUCT.md semantics 3; reference §4.1, §8.2).

``EventType`` INCLUSIVE: the event name is in ``Values``; EXCLUSIVE: it is not; exact and
case-sensitive. Every attribute filter and every metric filter must hold — with the full
``AttributeType`` semantics and ``Value: 0`` working, unlike Amplify (§10.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.caps import ENGAGEMENT_EVENT_TYPES
from rules.errors import DefinitionError
from rules.models.campaign import CampaignEventFilter
from rules.predicates import (
    AttributeTest,
    Interner,
    EventFilter,
    MetricTest,
    canonical_key,
    compile_attribute,
    compile_metric,
    event_filter,
)

__all__ = ["CompiledTrigger", "compile_trigger"]


@dataclass(frozen=True, slots=True, eq=False)
class CompiledTrigger:
    """A compiled ``EventFilter``. ``event_types`` with ``exclusive`` decides which event
    names can trigger; ``attributes``/``metrics`` are the filters (AND)."""

    event_types: frozenset[str]
    exclusive: bool
    attributes: tuple[tuple[str, AttributeTest], ...]
    metrics: tuple[tuple[str, MetricTest], ...]
    wire: dict[str, Any]  # the EventFilter as GetInAppMessages delivers it (§9.2 step 6)
    # the attribute and metric filters as one callable, None without filters (hot loop)
    filters: EventFilter | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "filters", event_filter(self.attributes, self.metrics))

    def accepts_type(self, event_type: str) -> bool:
        """INCLUSIVE: named; EXCLUSIVE: not named — and never an ``_inapp.*`` interaction
        event, or every display would trigger the next one."""
        if self.exclusive:
            return event_type not in self.event_types and event_type not in ENGAGEMENT_EVENT_TYPES
        return event_type in self.event_types

    def filters_match(self, attributes: Mapping[str, str] | None, metrics: Mapping[str, float] | None) -> bool:
        """Every attribute and metric filter holds for the event."""
        return self.filters is None or self.filters(attributes, metrics)

    def matches(self, event_type: str, attributes: Mapping[str, str] | None, metrics: Mapping[str, float] | None) -> bool:
        """The whole trigger (type, then filters)."""
        return self.accepts_type(event_type) and self.filters_match(attributes, metrics)


def _delivered(event_filter: CampaignEventFilter) -> dict[str, Any]:
    # Always emit Dimensions.EventType.Values, Attributes and Metrics: Amplify v5 crashes
    # without them (reference §13 item 5).
    wire = event_filter.to_wire()
    dimensions = wire.setdefault("Dimensions", {})
    dimensions.setdefault("Attributes", {})
    dimensions.setdefault("Metrics", {})
    return wire


def compile_trigger(
    event_filter: CampaignEventFilter | None, interner: Interner, field: str = "Schedule.EventFilter"
) -> CompiledTrigger:
    """Compile a campaign's ``EventFilter``; identical filters share one object. An in-app
    campaign without an ``EventType`` can never trigger and is a :class:`DefinitionError`."""
    if event_filter is None:
        raise DefinitionError(field, "an in-app campaign needs an EventFilter (its trigger)")
    event_type = event_filter.dimensions.event_type
    if event_type is None:
        raise DefinitionError(f"{field}.Dimensions.EventType", "an in-app trigger needs an EventType")

    def build() -> CompiledTrigger:
        dims = event_filter.dimensions
        return CompiledTrigger(
            event_types=frozenset(event_type.values),
            exclusive=event_type.dimension_type == "EXCLUSIVE",
            attributes=tuple(
                (name, compile_attribute(dim, interner)) for name, dim in sorted((dims.attributes or {}).items())
            ),
            metrics=tuple(
                (name, compile_metric(dim, interner)) for name, dim in sorted((dims.metrics or {}).items())
            ),
            wire=_delivered(event_filter),
        )

    return interner.get(canonical_key("trigger", event_filter), build)
