"""Campaign counter deltas (reference §11, U13): what one decision or one interaction
event adds to a campaign's counters, by treatment and UTC day (KPI ranges are UTC). The
engine only sums :class:`CampaignDelta` values keyed by :meth:`CampaignDelta.key`; it
deduplicates replays by source position itself (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rules.caps import EndpointCaps, SourcePosition, classify_engagement
from rules.clock import DEFAULT_MAX_SKEW_SECONDS, effective_instant
from rules.decide import Decision
from rules.models.event import AppEvent

__all__ = ["CampaignDelta", "COUNTERS", "add_deltas", "decision_deltas", "engagement_deltas"]

COUNTERS = ("decisions", "displays", "unique_displays", "clicks", "dismissals")


@dataclass(frozen=True, slots=True)
class CampaignDelta:
    """Increments of one campaign's counters for one treatment and UTC day.

    ``decisions``: display decisions emitted; ``displays``: ``_inapp.message_displayed``
    events (a repeated confirmation of one decision counts once); ``unique_displays``: an
    endpoint's first display of the campaign; ``clicks`` / ``dismissals``: the
    corresponding interaction events (a CLOSE button is a click, reference §6.2).
    """

    application_id: str
    campaign_id: str
    treatment_id: str
    day: str  # YYYY-MM-DD, UTC
    decisions: int = 0
    displays: int = 0
    unique_displays: int = 0
    clicks: int = 0
    dismissals: int = 0

    def key(self) -> tuple[str, str, str, str]:
        return self.application_id, self.campaign_id, self.treatment_id, self.day

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ApplicationId": self.application_id, "CampaignId": self.campaign_id,
                                "TreatmentId": self.treatment_id, "Day": self.day}
        data.update({name: getattr(self, name) for name in COUNTERS if getattr(self, name)})
        return data


def _utc_day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


def decision_deltas(decision: Decision) -> tuple[CampaignDelta, ...]:
    """One decision emitted for the decision's campaign and treatment."""
    return (CampaignDelta(decision.application_id, decision.campaign_id, decision.treatment_id,
                          _utc_day(decision.decided_at), decisions=1),)


def engagement_deltas(
    caps_before: EndpointCaps | None,
    event: AppEvent,
    now: float | datetime,
    *,
    source: SourcePosition | None = None,
    max_skew: float = DEFAULT_MAX_SKEW_SECONDS,
) -> tuple[CampaignDelta, ...]:
    """Counters an interaction event adds, judged against the cap state *before*
    :func:`rules.caps.record_engagement` applies it (same classification, so a repeated
    confirmation adds no display). Non-interaction events add nothing."""
    engagement = classify_engagement(caps_before, event, source=source)
    if engagement is None:
        return ()
    day = _utc_day(effective_instant(event.event, now, max_skew))
    base = (event.application_id, engagement.campaign_id, engagement.treatment_id, day)
    if engagement.kind == "clicked":
        return (CampaignDelta(*base, clicks=1),)
    if engagement.kind == "dismissed":
        return (CampaignDelta(*base, dismissals=1),)
    if not engagement.new_display:
        return ()
    return (CampaignDelta(*base, displays=1, unique_displays=int(engagement.first_display)),)


def add_deltas(totals: dict[tuple[str, str, str, str], dict[str, int]], deltas: tuple[CampaignDelta, ...]) -> None:
    """Sum deltas into a plain ``{key: {counter: n}}`` table (a helper for tests/engine)."""
    for delta in deltas:
        row = totals.setdefault(delta.key(), dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            row[name] += getattr(delta, name)
