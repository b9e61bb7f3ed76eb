"""Triggers as PRODUCT.md semantics 3 defines them, seen on the decisions topic.

Table-driven: one campaign per case in one app, each case with its own event type, so one
worker serves every case and one round of events answers them all. Every probe is an event
with attributes and/or metrics and whether the subscriber must get a decision for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINT = "trigger-1"


@dataclass(frozen=True)
class Probe:
    decided: bool
    attributes: dict[str, str] | None = None
    metrics: dict[str, float] | None = None
    event_type: str | None = None  # default: the case's own event type


@dataclass(frozen=True)
class Case:
    name: str
    probes: tuple[Probe, ...]
    attributes: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    event_types: tuple[str, ...] = ()  # default: (name,)
    dimension_type: str = "INCLUSIVE"


def attribute(kind: str, *values: str) -> dict[str, Any]:
    return {"AttributeType": kind, "Values": list(values)}


def metric(operator: str, value: float) -> dict[str, Any]:
    return {"ComparisonOperator": operator, "Value": value}


def yes(**kwargs: Any) -> Probe:
    return Probe(True, **kwargs)


def no(**kwargs: Any) -> Probe:
    return Probe(False, **kwargs)


def attrs(**values: str) -> dict[str, str]:
    return values


CASES = [
    # -- EventType -----------------------------------------------------------------------
    Case("event-inclusive", event_types=("add_to_cart", "wishlist"), probes=(
        yes(event_type="add_to_cart"), yes(event_type="wishlist"),
        no(event_type="Add_To_Cart"),  # exact and case-sensitive
        no(event_type="add_to_cart_v2"),
    )),
    # EXCLUSIVE fires for every event name *but* its values; the "gate" attribute keeps it
    # from firing for the other cases' events of this app.
    Case("event-exclusive", event_types=("logout", "error"), dimension_type="EXCLUSIVE",
         attributes={"gate": attribute("INCLUSIVE", "exclusive-case")}, probes=(
             yes(event_type="anything_else", attributes=attrs(gate="exclusive-case")),
             yes(event_type="Logout", attributes=attrs(gate="exclusive-case")),
             no(event_type="logout", attributes=attrs(gate="exclusive-case")),
             no(event_type="error", attributes=attrs(gate="exclusive-case")),
         )),
    # -- attribute filters (event attributes are single strings) -------------------------
    Case("attr-inclusive", attributes={"tier": attribute("INCLUSIVE", "gold", "silver")}, probes=(
        yes(attributes=attrs(tier="gold")), yes(attributes=attrs(tier="silver")),
        yes(attributes=attrs(tier="gold", other="x")),
        no(attributes=attrs(tier="Gold")), no(attributes=attrs(tier="bronze")),
        no(attributes=attrs(other="gold")), no(),
    )),
    Case("attr-exclusive", attributes={"country": attribute("EXCLUSIVE", "FR", "DE")}, probes=(
        yes(attributes=attrs(country="US")), yes(attributes=attrs(country="fr")),
        no(attributes=attrs(country="FR")), no(attributes=attrs(country="DE")),
    )),
    Case("attr-contains", attributes={"url": attribute("CONTAINS", "sale", "promo")}, probes=(
        yes(attributes=attrs(url="/summer-sale/shoes")), yes(attributes=attrs(url="promo")),
        no(attributes=attrs(url="/SALE")), no(attributes=attrs(url="/shoes")), no(),
    )),
    Case("attr-before", attributes={"signup": attribute("BEFORE", "2026-01-01T00:00:00Z")}, probes=(
        yes(attributes=attrs(signup="2025-12-31T23:59:59Z")),
        yes(attributes=attrs(signup="2026-01-01T00:30:00+01:00")),  # 23:30Z the day before
        no(attributes=attrs(signup="2026-01-01T00:00:01Z")),
        no(attributes=attrs(signup="yesterday")), no(),
    )),
    Case("attr-after", attributes={"renewal": attribute("AFTER", "2026-06-30T12:00:00Z")}, probes=(
        yes(attributes=attrs(renewal="2026-06-30T12:00:01Z")),
        yes(attributes=attrs(renewal="2027-01-01T00:00:00Z")),
        no(attributes=attrs(renewal="2026-06-30T11:59:59Z")),
        no(attributes=attrs(renewal="2026-06-30T13:00:00+02:00")),  # 11:00Z
        no(attributes=attrs(renewal="soon")),
    )),
    Case("attr-on", attributes={"birthday": attribute("ON", "2026-03-15T00:00:00Z")}, probes=(
        yes(attributes=attrs(birthday="2026-03-15T00:00:00Z")),
        yes(attributes=attrs(birthday="2026-03-15T18:45:00Z")),  # the time of day is ignored
        no(attributes=attrs(birthday="2026-03-16T00:00:00Z")),
        no(attributes=attrs(birthday="2026-03-14T23:59:59Z")),
        no(attributes=attrs(birthday="2025-03-15T12:00:00Z")),  # same date, other year
    )),
    Case("attr-between", attributes={"order_date": attribute(
            "BETWEEN", "2026-02-01T00:00:00Z", "2026-02-28T23:59:59Z")}, probes=(
        yes(attributes=attrs(order_date="2026-02-14T10:00:00Z")),
        yes(attributes=attrs(order_date="2026-02-01T00:00:00Z")),  # both bounds inclusive
        yes(attributes=attrs(order_date="2026-02-28T23:59:59Z")),
        no(attributes=attrs(order_date="2026-01-31T23:59:59Z")),
        no(attributes=attrs(order_date="2026-03-01T00:00:00Z")),
        no(attributes=attrs(order_date="February")),
    )),
    Case("attr-and", attributes={"tier": attribute("INCLUSIVE", "gold"),
                                 "page": attribute("CONTAINS", "checkout")}, probes=(
        yes(attributes=attrs(tier="gold", page="/checkout/pay")),
        no(attributes=attrs(tier="gold", page="/home")),
        no(attributes=attrs(tier="basic", page="/checkout")),
    )),
    # -- metric filters, each operator at Value 0 and at another bound -------------------
    Case("metric-equal-0", metrics={"items": metric("EQUAL", 0)}, probes=(
        yes(metrics={"items": 0.0}), yes(metrics={"items": -0.0}),
        no(metrics={"items": 0.5}), no(metrics={"items": -1.0}), no(metrics={"other": 0.0}), no(),
    )),
    Case("metric-equal-2.5", metrics={"rating": metric("EQUAL", 2.5)}, probes=(
        yes(metrics={"rating": 2.5}), no(metrics={"rating": 2.0}),
    )),
    Case("metric-gt-0", metrics={"cart": metric("GREATER_THAN", 0)}, probes=(
        yes(metrics={"cart": 0.01}), yes(metrics={"cart": 1e6}),
        no(metrics={"cart": 0.0}), no(metrics={"cart": -5.0}), no(),
    )),
    Case("metric-gt-100", metrics={"cart": metric("GREATER_THAN", 100)}, probes=(
        yes(metrics={"cart": 100.5}), no(metrics={"cart": 100.0}), no(metrics={"cart": 99.0}),
    )),
    Case("metric-gte-0", metrics={"balance": metric("GREATER_THAN_OR_EQUAL", 0)}, probes=(
        yes(metrics={"balance": 0.0}), yes(metrics={"balance": 3.0}), no(metrics={"balance": -0.01}),
    )),
    Case("metric-gte-10", metrics={"visits": metric("GREATER_THAN_OR_EQUAL", 10)}, probes=(
        yes(metrics={"visits": 10.0}), yes(metrics={"visits": 11.0}), no(metrics={"visits": 9.99}),
    )),
    Case("metric-lt-0", metrics={"delta": metric("LESS_THAN", 0)}, probes=(
        yes(metrics={"delta": -1.0}), yes(metrics={"delta": -0.001}),
        no(metrics={"delta": 0.0}), no(metrics={"delta": 2.0}),
    )),
    Case("metric-lt-5", metrics={"delta": metric("LESS_THAN", 5)}, probes=(
        yes(metrics={"delta": 4.99}), no(metrics={"delta": 5.0}),
    )),
    Case("metric-lte-0", metrics={"score": metric("LESS_THAN_OR_EQUAL", 0)}, probes=(
        yes(metrics={"score": 0.0}), yes(metrics={"score": -7.0}), no(metrics={"score": 0.1}),
    )),
    Case("metric-lte-3", metrics={"score": metric("LESS_THAN_OR_EQUAL", 3)}, probes=(
        yes(metrics={"score": 3.0}), no(metrics={"score": 3.01}),
    )),
    Case("metric-and", metrics={"cart": metric("GREATER_THAN", 50), "items": metric("LESS_THAN", 3)}, probes=(
        yes(metrics={"cart": 60.0, "items": 2.0}),
        no(metrics={"cart": 60.0, "items": 3.0}), no(metrics={"cart": 40.0, "items": 1.0}),
        no(metrics={"cart": 60.0}),
    )),
    # -- attributes and metrics together -------------------------------------------------
    Case("attr-and-metric", attributes={"screen": attribute("INCLUSIVE", "cart")},
         metrics={"total": metric("GREATER_THAN_OR_EQUAL", 0)}, probes=(
             yes(attributes=attrs(screen="cart"), metrics={"total": 0.0}),
             no(attributes=attrs(screen="cart"), metrics={"total": -1.0}),
             no(attributes=attrs(screen="home"), metrics={"total": 10.0}),
             no(attributes=attrs(screen="cart")),
         )),
]


@pytest.fixture(scope="module")
async def outcome(worker, deployment):
    """Create every case's campaign, publish every probe, and map each probe to the
    campaigns that decided it."""
    app = PinpointApp.create(pinpoint_client(worker.base_url), "triggers")
    app.endpoints({ENDPOINT: {"Demographic": {"Timezone": "UTC"}}})
    campaigns = {
        case.name: app.campaign(case.name, list(case.event_types or (case.name,)),
                                dimension_type=case.dimension_type, attributes=case.attributes or None,
                                metrics=case.metrics or None)
        for case in CASES
    }
    probes: list[tuple[Case, Probe, dict[str, Any]]] = []
    for case in CASES:
        for probe in case.probes:
            published = event(app.app_id, ENDPOINT, probe.event_type or case.name,
                              attributes=probe.attributes, metrics=probe.metrics)
            probes.append((case, probe, published))
    topics = EngineTopics(deployment.bootstrap, deployment.prefix)
    decisions = await topics.decide([p[2] for p in probes])
    by_event: dict[str, list[str]] = {}
    for decision in decisions:
        by_event.setdefault(decision["EventId"], []).append(decision["CampaignId"])
    return campaigns, probes, by_event


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_trigger_decides_exactly_the_matching_events(case, outcome):
    campaigns, probes, by_event = outcome
    expected, got = [], []
    for probe_case, probe, published in probes:
        if probe_case is not case:
            continue
        expected.append((probe, [campaigns[case.name]] if probe.decided else []))
        got.append((probe, by_event.get(published["EventId"], [])))
    assert got == expected


def test_no_event_was_decided_by_another_case(outcome):
    campaigns, probes, by_event = outcome
    strays = [(case.name, probe, by_event[published["EventId"]]) for case, probe, published in probes
              if published["EventId"] in by_event and by_event[published["EventId"]] != [campaigns[case.name]]]
    assert strays == []
