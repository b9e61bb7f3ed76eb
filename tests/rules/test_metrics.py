"""Campaign counter deltas (reference §11)."""

from __future__ import annotations

from typing import Any

from rules.caps import record_decision, record_engagement
from rules.metrics import add_deltas, decision_deltas, engagement_deltas
from rules.timeutil import instant_seconds
from tests.rules.builders import APP, campaign, endpoint, event, index, run


def interaction(kind: str, decision_id: str | None = None, event_id: str = "x", treatment: str = "1") -> Any:
    attributes = {"campaign_id": "c1", "treatment_id": treatment}
    if decision_id:
        attributes["decision_id"] = decision_id
    return event(f"_inapp.message_{kind}", event_id=event_id, at="2026-06-01T23:59:00Z", attributes=attributes)


def test_counters_by_campaign_treatment_and_day() -> None:
    idx = index([campaign("c1")])
    decision = run(idx, endpoint(), event(at="2026-06-01T23:58:00Z"))
    assert decision is not None
    totals: dict[Any, dict[str, int]] = {}
    add_deltas(totals, decision_deltas(decision))
    caps = record_decision(None, decision, source=(0, 1))
    steps = [interaction("displayed", decision.decision_id, "d1", "0"),
             interaction("displayed", decision.decision_id, "d2", "0"),  # repeated confirmation
             interaction("displayed", None, "d3"),  # the client decided on its own
             interaction("clicked", None, "k1"),
             interaction("dismissed", None, "k2")]
    for offset, step in enumerate(steps, start=2):
        now = instant_seconds(step.event.timestamp)
        add_deltas(totals, engagement_deltas(caps, step, now, source=(0, offset)))
        caps = record_engagement(caps, endpoint(), step, now, source=(0, offset))
        # a replay of the same record adds nothing
        assert engagement_deltas(caps, step, now, source=(0, offset)) == ()
    day = "2026-06-01"
    assert totals[(APP, "c1", "0", day)] == {"decisions": 1, "displays": 1, "unique_displays": 1,
                                             "clicks": 0, "dismissals": 0}
    assert totals[(APP, "c1", "1", day)] == {"decisions": 0, "displays": 1, "unique_displays": 0,
                                             "clicks": 1, "dismissals": 1}
    assert engagement_deltas(caps, event("promo"), 0.0) == ()
    assert decision_deltas(decision)[0].to_json() == {"ApplicationId": APP, "CampaignId": "c1", "TreatmentId": "0",
                                                      "Day": day, "decisions": 1}
