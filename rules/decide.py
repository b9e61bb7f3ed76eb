"""One decision per triggering event (PRODUCT.md semantics 1–7).

:func:`decide` walks the arms the event's type can trigger, already in winner order
(priority, then earlier start, then campaign id), and returns the first eligible one, so
it stops at the winner instead of evaluating every campaign. Eligibility (semantics 2):
the app exists; the endpoint is IN_APP, not opted out, not INACTIVE; the campaign is live
and ``StartTime <= t < EndTime``; the trigger matches; the endpoint is in the segment and
in this treatment (not the holdout); it is not quiet time; no cap is exhausted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.caps import EndpointCaps, RecentDecision, SourcePosition
from rules.clock import DEFAULT_MAX_SKEW_SECONDS, effective_instant
from rules.context import EvaluationContext, Remaining, endpoint_can_receive
from rules.index import CampaignIndex
from rules.models.endpoint import Endpoint
from rules.models.event import AppEvent
from rules.timeutil import format_instant

__all__ = [
    "DEFAULT_MAX_SKEW_SECONDS",
    "Decision",
    "EvaluationContext",
    "Remaining",
    "decide",
    "decision_id_for",
    "display_decision",
    "effective_instant",
    "endpoint_can_receive",
]


def decision_id_for(event_id: str, campaign_id: str) -> str:
    """Deterministic from (EventId, CampaignId) — 32 hex characters of BLAKE2b — so a
    replay re-emits the same id (PRODUCT.md semantics 4)."""
    return hashlib.blake2b(f"{event_id}\x1f{campaign_id}".encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Decision:
    """A display decision (PRODUCT.md "Display decision"; :func:`display_decision` gives
    the wire dict). ``in_app_message`` is the shared wire dict of the arm: read-only.
    ``decided_at`` is the (clamped) event time, so replays are identical. ``local_day``
    (date ordinal in the endpoint's zone), ``session_id`` and ``session_start`` (the
    event's ``Session.StartTimestamp``) are what :func:`rules.caps.record_decision`
    counts against."""

    decision_id: str
    application_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    campaign_id: str
    treatment_id: str
    priority: int | None
    in_app_message: dict[str, Any]
    remaining: Remaining
    decided_at: float
    local_day: int
    session_id: str | None = None
    session_start: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return display_decision(self)

    def recent(self) -> RecentDecision:
        return RecentDecision(self.event_id, self.campaign_id, self.treatment_id, self.priority,
                              self.remaining, self.decided_at)


def display_decision(decision: Decision) -> dict[str, Any]:
    """The "Display decision" wire dict of PRODUCT.md (what subscribers receive)."""
    return {
        "DecisionId": decision.decision_id,
        "ApplicationId": decision.application_id,
        "EndpointId": decision.endpoint_id,
        "EventId": decision.event_id,
        "EventType": decision.event_type,
        "CampaignId": decision.campaign_id,
        "TreatmentId": decision.treatment_id,
        "Priority": decision.priority,
        "InAppMessage": decision.in_app_message,
        "Remaining": decision.remaining.to_wire(),
        "DecidedAt": format_instant(decision.decided_at),
    }


def _decision(event: AppEvent, context: EvaluationContext, campaign_id: str, treatment_id: str,
              priority: int | None, message: dict[str, Any], remaining: Remaining, at: float) -> Decision:
    session = event.event.session
    return Decision(
        decision_id_for(event.event_id, campaign_id),
        event.application_id,
        event.endpoint_id,
        event.event_id,
        event.event.event_type,
        campaign_id,
        treatment_id,
        priority,
        message,
        remaining,
        at,
        context.local_day,
        session.id if session is not None else None,
        session.start_timestamp if session is not None else None,
    )


def _replayed(index: CampaignIndex, endpoint: Endpoint | None, event: AppEvent,
              record: RecentDecision) -> Decision | None:
    arm = index.arm(record.campaign_id, record.treatment_id)
    if arm is None or endpoint is None:
        return None  # the campaign left the index since: nothing to re-emit
    context = EvaluationContext(endpoint, event.endpoint_id, None, record.decided_at, event.event)
    return _decision(event, context, record.campaign_id, record.treatment_id, record.priority,
                     arm.in_app_message, Remaining(*record.remaining), record.decided_at)


def decide(
    index: CampaignIndex,
    endpoint: Endpoint | None,
    caps: EndpointCaps | None,
    event: AppEvent,
    now: float | datetime,
    *,
    source: SourcePosition | None = None,
    max_skew: float = DEFAULT_MAX_SKEW_SECONDS,
) -> Decision | None:
    """The display decision for one input event, or ``None`` (PRODUCT.md semantics 1–7).

    ``now`` is the receive time (epoch seconds or aware datetime), ``source`` the event's
    (partition, offset), ``max_skew`` the clamp of semantics 7. An event already in
    ``caps``' recent decisions re-emits that decision unchanged; an event at or before the
    last applied source position yields ``None`` (it was evaluated before: replays never
    count twice). Only arms the event type can trigger are looked at.
    """
    if caps is not None:
        if caps.recent:
            record = caps.recent_decision(event.event_id)
            if record is not None:
                return _replayed(index, endpoint, event, record)
        if caps.has_applied(source):
            return None
    if endpoint is None or not endpoint_can_receive(endpoint, event.application_id):
        return None
    body = event.event
    arms = index.candidates(event.application_id, body.event_type)
    if not arms:
        return None
    attributes, metrics = body.attributes, body.metrics
    context: EvaluationContext | None = None
    for arm in arms:
        filters = arm.filters
        if filters is not None and not filters(attributes, metrics):
            continue
        if context is None:
            context = EvaluationContext(endpoint, event.endpoint_id, caps,
                                        effective_instant(body, now, max_skew), body)
        if not context.admits(arm):
            continue
        remaining = context.remaining_after_display(arm)
        if remaining is None:
            continue
        session = body.session
        campaign_id = arm.campaign_id
        return Decision(
            decision_id_for(event.event_id, campaign_id), event.application_id, event.endpoint_id,
            event.event_id, body.event_type, campaign_id, arm.treatment_id, arm.priority,
            arm.in_app_message, remaining, context.at, context.local_day,
            session.id if session is not None else None,
            session.start_timestamp if session is not None else None,
        )
    return None
