"""One decision per triggering event (PRODUCT.md semantics 1–7).

:func:`decide` walks the arms the event's type can trigger, already in winner order
(priority, then earlier start, then campaign id), and returns the first eligible one, so
it stops at the winner instead of evaluating every campaign. Eligibility (semantics 2):
the app exists; the endpoint is IN_APP, not opted out, not INACTIVE; the campaign is live
and ``StartTime <= t < EndTime``; the trigger matches; the endpoint is in the segment and
in this treatment (not the holdout); it is not quiet time; no cap is exhausted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from rules.caps import EndpointCaps, RecentDecision, SourcePosition
from rules.clock import DEFAULT_MAX_SKEW_SECONDS, effective_instant, event_session
from rules.index import CampaignIndex, CompiledArm
from rules.models.endpoint import Endpoint
from rules.models.event import AppEvent
from rules.schedule import bucket_of
from rules.segments import SegmentPredicate
from rules.timeutil import format_instant, local_day, zone

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

_DECISION_NAMESPACE = uuid.UUID("6f0a4f8e-3c1b-5d2a-9e7f-1a2b3c4d5e6f")


def decision_id_for(event_id: str, campaign_id: str) -> str:
    """Deterministic from (EventId, CampaignId), so a replay re-emits the same id
    (PRODUCT.md semantics 4)."""
    return str(uuid.uuid5(_DECISION_NAMESPACE, f"{event_id}\x1f{campaign_id}"))


def endpoint_can_receive(endpoint: Endpoint, application_id: str) -> bool:
    """IN_APP, not ``OptOut: ALL``, not ``INACTIVE``, of this app when it says so
    (PRODUCT.md semantics 2; reference §7.3, §9.2 step 2)."""
    return (
        endpoint.channel_type == "IN_APP"
        and endpoint.opt_out != "ALL"
        and endpoint.endpoint_status != "INACTIVE"
        and (endpoint.application_id is None or endpoint.application_id == application_id)
    )


@dataclass(frozen=True, slots=True)
class Remaining:
    """Displays left after this one; ``None`` = unlimited."""

    session: int | None
    daily: int | None
    total: int | None

    def to_wire(self) -> dict[str, int | None]:
        return {"Session": self.session, "Daily": self.daily, "Total": self.total}


@dataclass(frozen=True, slots=True)
class Decision:
    """A display decision. ``in_app_message`` is the shared wire dict of the arm (read-only).
    ``decided_at`` is the (clamped) event time, so replays are identical; ``local_day``
    (date ordinal in the endpoint's zone) and the session fields are what
    :func:`rules.caps.record_decision` counts against."""

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
    session_started: float | None = None

    def to_wire(self) -> dict[str, Any]:
        return display_decision(self)

    def recent(self) -> RecentDecision:
        r = self.remaining
        return RecentDecision(self.event_id, self.campaign_id, self.treatment_id, self.priority,
                              (r.session, r.daily, r.total), self.decided_at)


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


class EvaluationContext:
    """Facts about one endpoint at one instant, computed at most once per evaluation:
    its zone, local day, treatment buckets and segment memberships (shared by campaigns
    whose predicates are interned)."""

    __slots__ = ("endpoint", "endpoint_id", "caps", "at", "session_id", "session_started",
                 "_zone", "_zone_known", "_day", "_buckets", "_segments")

    def __init__(self, endpoint: Endpoint, endpoint_id: str, caps: EndpointCaps | None, at: float,
                 session_id: str | None = None, session_started: float | None = None) -> None:
        self.endpoint = endpoint
        self.endpoint_id = endpoint_id
        self.caps = caps
        self.at = at
        self.session_id = session_id
        self.session_started = session_started
        self._zone: tzinfo | None = None
        self._zone_known = False
        self._day: int | None = None
        self._buckets: dict[bytes, int] = {}
        self._segments: dict[int, bool] = {}

    @property
    def zone(self) -> tzinfo | None:
        """The endpoint's ``Demographic.Timezone`` if it is a valid IANA zone."""
        if not self._zone_known:
            demographic = self.endpoint.demographic
            self._zone = zone(demographic.timezone if demographic is not None else None)
            self._zone_known = True
        return self._zone

    @property
    def local_day(self) -> int:
        """Date ordinal of ``at`` in the endpoint's zone (UTC without one)."""
        if self._day is None:
            self._day = local_day(self.at, self.zone).toordinal()
        return self._day

    def bucket(self, key: bytes) -> int:
        found = self._buckets.get(key)
        if found is None:
            found = self._buckets[key] = bucket_of(key, self.endpoint_id)
        return found

    def in_segment(self, predicate: SegmentPredicate) -> bool:
        key = id(predicate)
        found = self._segments.get(key)
        if found is None:
            found = self._segments[key] = predicate(self.endpoint, self.at)
        return found

    def admits(self, arm: CompiledArm) -> bool:
        """Window, treatment (not holdout), segment and quiet time — everything but the
        trigger and the caps."""
        window = arm.window
        if window.local:
            if not window.admits(self.at, self.zone):
                return False
        elif not window.start <= self.at < window.end:
            return False
        if not arm.bucket_low <= self.bucket(arm.bucket_key) < arm.bucket_high:
            return False
        if not self.in_segment(arm.segment):
            return False
        return arm.quiet is None or not arm.quiet.is_quiet(self.at, self.zone)

    def used(self, arm: CompiledArm) -> tuple[int | None, int | None, int | None]:
        """Displays already counted against each *capped* limit (``None`` where the limit
        is unlimited or does not apply); ``-1`` marks an unknown (pruned) count."""
        caps, limits, campaign_id = self.caps, arm.limits, arm.campaign_id
        session = daily = total = None
        if limits.total:
            total = caps.total_count(campaign_id) if caps is not None else 0
        if limits.daily:
            count = caps.daily_count(self.local_day, campaign_id) if caps is not None else 0
            daily = -1 if count is None else count
        if limits.session and self.session_id is not None:
            started = self.session_started if self.session_started is not None else self.at
            count = caps.session_count(self.session_id, started, campaign_id) if caps is not None else 0
            session = -1 if count is None else count
        return session, daily, total

    def remaining_after_display(self, arm: CompiledArm) -> Remaining | None:
        """Remaining counts after one more display, or ``None`` if a cap is exhausted
        (or its count is unknown). 0 = unlimited (PRODUCT.md semantics 4)."""
        limits = arm.limits
        session, daily, total = self.used(arm)
        left: list[int | None] = []
        for cap, count in ((limits.session, session), (limits.daily, daily), (limits.total, total)):
            if count is None:
                left.append(None)
            elif count < 0 or count >= cap:
                return None
            else:
                left.append(cap - count - 1)
        return Remaining(left[0], left[1], left[2])


def _replayed(index: CampaignIndex, endpoint: Endpoint | None, event: AppEvent,
              record: RecentDecision) -> Decision | None:
    arm = index.arm(record.campaign_id, record.treatment_id)
    if arm is None or endpoint is None:
        return None  # the campaign left the index since; nothing to re-emit
    session_id, started = event_session(event.event, record.decided_at)
    context = EvaluationContext(endpoint, event.endpoint_id, None, record.decided_at)
    return Decision(
        decision_id=decision_id_for(event.event_id, record.campaign_id),
        application_id=event.application_id,
        endpoint_id=event.endpoint_id,
        event_id=event.event_id,
        event_type=event.event.event_type,
        campaign_id=record.campaign_id,
        treatment_id=record.treatment_id,
        priority=record.priority,
        in_app_message=arm.in_app_message,
        remaining=Remaining(*record.remaining),
        decided_at=record.decided_at,
        local_day=context.local_day,
        session_id=session_id,
        session_started=started,
    )


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

    ``now`` is the receive time (epoch seconds or aware datetime); ``source`` the event's
    (partition, offset). An event already in ``caps``' recent decisions re-emits that
    decision unchanged; an event at or before the last applied source position yields
    ``None`` (it was evaluated before; replays never count twice).
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
    at = effective_instant(body, now, max_skew)
    attributes, metrics = body.attributes, body.metrics
    context: EvaluationContext | None = None
    for arm in arms:
        trigger = arm.trigger
        if (trigger.attributes or trigger.metrics) and not trigger.filters_match(attributes, metrics):
            continue
        if context is None:
            session_id, started = event_session(body, at)
            context = EvaluationContext(endpoint, event.endpoint_id, caps, at, session_id, started)
        if not context.admits(arm):
            continue
        remaining = context.remaining_after_display(arm)
        if remaining is None:
            continue
        return Decision(
            decision_id=decision_id_for(event.event_id, arm.campaign_id),
            application_id=event.application_id,
            endpoint_id=event.endpoint_id,
            event_id=event.event_id,
            event_type=body.event_type,
            campaign_id=arm.campaign_id,
            treatment_id=arm.treatment_id,
            priority=arm.priority,
            in_app_message=arm.in_app_message,
            remaining=remaining,
            decided_at=at,
            local_day=context.local_day,
            session_id=context.session_id,
            session_started=context.session_started,
        )
    return None
