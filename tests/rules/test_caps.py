"""Cap state transitions and storage (PRODUCT.md semantics 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rules.caps import (
    KEEP_CONFIRMED,
    KEEP_DECISIONS,
    EndpointCaps,
    classify_engagement,
    record_decision,
    record_engagement,
)
from rules.decide import Decision
from rules.timeutil import instant_seconds
from tests.rules.builders import campaign, endpoint, event, index, run


def engagement(kind: str, *, campaign_id: str = "c1", decision_id: str | None = None, event_id: str = "x1",
               at: str = "2026-06-01T12:30:00Z", session: str | None = "s1", **attrs: str) -> Any:
    attributes = {"campaign_id": campaign_id, "treatment_id": "0", "delivery_type": "IN_APP_MESSAGE", **attrs}
    if decision_id:
        attributes["decision_id"] = decision_id
    return event(f"_inapp.message_{kind}", event_id=event_id, at=at, attributes=attributes, session=session)


def now_of(ev: Any) -> float:
    return instant_seconds(ev.event.timestamp)


def decided(idx: Any, i: int, caps: EndpointCaps | None = None, **kw: Any) -> Decision:
    decision = run(idx, endpoint(), event(event_id=f"e{i}", **kw), caps)
    assert decision is not None
    return decision


def test_display_with_decision_id_confirms_without_counting_again() -> None:
    idx = index([campaign("c1", limits={"Total": 2})])
    decision = decided(idx, 1)
    caps = record_decision(None, decision, source=(0, 1))
    shown = engagement("displayed", decision_id=decision.decision_id)
    after = record_engagement(caps, endpoint(), shown, now_of(shown), source=(0, 2))
    assert after.total_count("c1") == 1 and after.is_confirmed(decision.decision_id)
    assert "c1" in after.displayed
    again = record_engagement(after, endpoint(), shown, now_of(shown), source=(0, 3))
    assert again.total_count("c1") == 1 and again.confirmed == after.confirmed


def test_display_without_decision_id_counts_once() -> None:
    idx = index([campaign("c1", limits={"Total": 2, "Daily": 2, "Session": 2})])
    shown = engagement("displayed")
    caps = record_engagement(None, endpoint(), shown, now_of(shown), source=(0, 1))
    assert caps.total_count("c1") == 1
    assert record_engagement(caps, endpoint(), shown, now_of(shown), source=(0, 1)) is caps  # replay
    decision = decided(idx, 2, caps, at="2026-06-01T12:31:00Z")
    assert decision.remaining.to_wire() == {"Session": 0, "Daily": 0, "Total": 0}
    caps = record_decision(caps, decision, source=(0, 2))
    assert run(idx, endpoint(), event(event_id="e3", at="2026-06-01T12:32:00Z"), caps) is None


@pytest.mark.parametrize("kind", ["clicked", "dismissed"])
def test_clicks_and_dismissals_change_no_caps(kind: str) -> None:
    caps = EndpointCaps(totals={"c1": 1})
    ev = engagement(kind)
    after = record_engagement(caps, endpoint(), ev, now_of(ev), source=(0, 1))
    assert after == EndpointCaps(source=(0, 1), totals={"c1": 1})
    assert record_engagement(after, endpoint(), ev, now_of(ev), source=(0, 1)) is after
    classified = classify_engagement(caps, ev)
    assert classified is not None and classified.kind == kind and not classified.counts_against_caps


def test_other_events_are_not_engagements() -> None:
    caps = EndpointCaps()
    assert classify_engagement(caps, event("promo")) is None
    assert classify_engagement(caps, event("_inapp.message_displayed", attributes={})) is None
    ev = event("promo")
    assert record_engagement(caps, endpoint(), ev, now_of(ev)) is caps


def test_record_decision_is_idempotent_by_source_and_event() -> None:
    idx = index([campaign("c1")])
    decision = decided(idx, 1)
    caps = record_decision(None, decision, source=(0, 10))
    assert record_decision(caps, decision, source=(0, 10)) is caps
    assert record_decision(caps, decision, source=(0, 9)) is caps
    republished = record_decision(caps, decision, source=(0, 11))  # same EventId at a new offset
    assert republished.total_count("c1") == 1 and republished.source == (0, 11)


def test_ring_and_confirmed_are_bounded() -> None:
    idx = index([campaign("c1")])
    caps: EndpointCaps | None = None
    for i in range(KEEP_DECISIONS + 3):
        decision = decided(idx, i, caps, at=f"2026-06-01T12:{i:02d}:00Z")
        caps = record_decision(caps, decision, source=(0, 2 * i))
        shown = engagement("displayed", decision_id=decision.decision_id, event_id=f"d{i}")
        caps = record_engagement(caps, endpoint(), shown, now_of(shown), source=(0, 2 * i + 1))
    assert caps is not None
    assert [r.event_id for r in caps.recent] == [f"e{i}" for i in range(3, KEEP_DECISIONS + 3)]
    assert len(caps.confirmed) == min(KEEP_CONFIRMED, KEEP_DECISIONS + 3)


def test_pruned_days_and_sessions_are_unknown_not_zero() -> None:
    idx = index([campaign("c1", limits={"Daily": 5, "Session": 5})])
    caps: EndpointCaps | None = None
    days = ["2026-06-01", "2026-06-02", "2026-06-03"]
    for i, day in enumerate(days):
        decision = decided(idx, i, caps, at=f"{day}T12:00:00Z", session=f"s{i}",
                           session_start=f"{day}T11:00:00Z")
        caps = record_decision(caps, decision, source=(0, i))
    for i, day in enumerate(["2026-06-04", "2026-06-05"]):
        decision = decided(idx, 10 + i, caps, at=f"{day}T12:00:00Z", session=f"t{i}",
                           session_start=f"{day}T11:00:00Z")
        caps = record_decision(caps, decision, source=(0, 10 + i))
    assert caps is not None and sorted(caps.days) == [739771, 739772]  # 06-04, 06-05
    # a late event from 06-01 (day pruned) is refused, not counted from zero
    late = event(event_id="late", at="2026-06-01T13:00:00Z", session="new", session_start="2026-06-01T13:00:00Z")
    assert run(idx, endpoint(), late, caps) is None
    # a late event from a pruned session is refused too
    assert caps.session_count("s0", instant_seconds("2026-06-01T11:00:00Z"), "c1") is None
    assert caps.session_count("brand-new", instant_seconds("2026-06-06T00:00:00Z"), "c1") == 0
    # days never seen between kept ones are known to be zero
    assert caps.daily_count(739773, "c1") == 0


def test_json_round_trip_and_size() -> None:
    idx = index([campaign("0123456789abcdef0123456789abcde" + str(i), limits={"Daily": 5, "Session": 3, "Total": 9})
                 for i in range(3)])
    caps: EndpointCaps | None = None
    for i in range(12):
        decision = run(idx, endpoint(), event(event_id=f"5b0c7f3e-0d4b-4a8e-9a57-1c2d3e4f{i:04d}",
                                              at=f"2026-06-0{1 + i // 4}T12:{i:02d}:00Z", session=f"s-{i // 2}"), caps)
        assert decision is not None
        caps = record_decision(caps, decision, source=(2, 1000 + 2 * i))
        shown = engagement("displayed", campaign_id=decision.campaign_id, decision_id=decision.decision_id)
        caps = record_engagement(caps, endpoint(), shown, now_of(shown), source=(2, 1001 + 2 * i))
    assert caps is not None
    data = caps.to_json()
    text = json.dumps(data, separators=(",", ":"))
    assert EndpointCaps.from_json(json.loads(text)) == caps
    assert len(text) <= 1024, len(text)
    assert EndpointCaps.from_json(None) == EndpointCaps() == EndpointCaps.from_json({})


def test_forget_campaigns_drops_dead_totals() -> None:
    caps = EndpointCaps(totals={"a": 1, "b": 2}, displayed=frozenset({"a", "b"}))
    assert caps.forget_campaigns(frozenset({"a"})) == EndpointCaps(totals={"a": 1}, displayed=frozenset({"a"}))
    assert caps.forget_campaigns(frozenset({"a", "b"})) is caps
