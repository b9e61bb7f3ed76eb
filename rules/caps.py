"""Cap state of one endpoint across campaigns, and its pure transitions (PRODUCT.md
semantics 4; reference §10.3 for what clients count).

:class:`EndpointCaps` lives in a changelogged table keyed by EndpointId, so it is compact
and pruned: counts for the two latest endpoint-local days, the last
:data:`KEEP_SESSIONS` sessions, lifetime totals per campaign, a ring of the last
:data:`KEEP_DECISIONS` decisions (a replayed event re-emits the identical decision), the
last :data:`KEEP_CONFIRMED` confirmed decision ids, and the last source position applied
(a replayed event never counts twice). Pruned days and sessions are remembered as a floor:
a late event for one of them finds its count *unknown* and the cap treated as exhausted,
so pruning can never let an endpoint see a campaign more often than its caps allow.

Every transition returns a new value and returns the *same object* when nothing changes,
so callers write state only when ``new is not old``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from rules.clock import DEFAULT_MAX_SKEW_SECONDS, effective_instant, event_session
from rules.models.endpoint import Endpoint
from rules.models.event import AppEvent
from rules.timeutil import instant_seconds, local_day_ordinal, zone

if TYPE_CHECKING:
    from rules.decide import Decision

__all__ = [
    "KEEP_CONFIRMED",
    "KEEP_DAYS",
    "KEEP_DECISIONS",
    "KEEP_SESSIONS",
    "ENGAGEMENT_EVENT_TYPES",
    "EndpointCaps",
    "Engagement",
    "RecentDecision",
    "SessionCount",
    "SourcePosition",
    "classify_engagement",
    "record_decision",
    "record_engagement",
]

KEEP_DAYS = 2  # today and yesterday (late events around local midnight)
KEEP_SESSIONS = 3  # the current session and the two before it
KEEP_DECISIONS = 4  # replay window per endpoint between two commits
KEEP_CONFIRMED = 8
_CONFIRMED_ID_CHARS = 12  # 48 bits of a decision id are plenty to recognise a repeat

SourcePosition = tuple[int, int]
"""(partition, offset) of the input record; offsets compare only within one partition."""

_EMPTY: Mapping[str, int] = MappingProxyType({})
_NO_FLOOR = float("-inf")


class RecentDecision(NamedTuple):
    """What is needed to re-emit a decision identically (with the content of its arm; the
    local day and session are recomputed from the replayed event)."""

    event_id: str
    campaign_id: str
    treatment_id: str
    priority: int | None
    remaining: tuple[int | None, int | None, int | None]
    decided_at: float


class SessionCount(NamedTuple):
    session_id: str
    started: float
    counts: Mapping[str, int]


def _bump(counts: Mapping[str, int], campaign_id: str) -> Mapping[str, int]:
    updated = dict(counts)
    updated[campaign_id] = updated.get(campaign_id, 0) + 1
    return updated


def short_decision_id(decision_id: str) -> str:
    return decision_id.replace("-", "")[:_CONFIRMED_ID_CHARS]


@dataclass(frozen=True, slots=True)
class EndpointCaps:
    """Cap state of one endpoint (all campaigns). Treat every member as read-only."""

    source: SourcePosition | None = None
    days: Mapping[int, Mapping[str, int]] = field(default_factory=dict)  # local day ordinal →
    day_floor: int = 0  # days <= this were pruned: unknown
    sessions: tuple[SessionCount, ...] = ()  # oldest first
    session_floor: float = float("-inf")  # sessions started at or before this were pruned
    totals: Mapping[str, int] = field(default_factory=dict)
    displayed: frozenset[str] = frozenset()  # campaigns this endpoint has displayed (unique)
    recent: tuple[RecentDecision, ...] = ()
    confirmed: tuple[str, ...] = ()  # short decision ids confirmed by a display

    # -- reads ----------------------------------------------------------------------
    def has_applied(self, source: SourcePosition | None) -> bool:
        """Whether the record at ``source`` was already applied (a replay)."""
        last = self.source
        return source is not None and last is not None and source[0] == last[0] and source[1] <= last[1]

    def recent_decision(self, event_id: str) -> RecentDecision | None:
        for record in self.recent:
            if record.event_id == event_id:
                return record
        return None

    def total_count(self, campaign_id: str) -> int:
        return self.totals.get(campaign_id, 0)

    def daily_count(self, local_day: int, campaign_id: str) -> int | None:
        """Displays of a campaign on an endpoint-local day; ``None`` = unknown (pruned)."""
        counts = self.days.get(local_day)
        if counts is not None:
            return counts.get(campaign_id, 0)
        return None if local_day <= self.day_floor else 0

    def kept_session_count(self, session_id: str, campaign_id: str) -> int | None:
        """Displays of a campaign in a kept session; ``None`` if the session is not kept."""
        for session in self.sessions:
            if session.session_id == session_id:
                return session.counts.get(campaign_id, 0)
        return None

    def session_count(self, session_id: str, started: float, campaign_id: str) -> int | None:
        """Displays of a campaign in a session; ``None`` = unknown (a pruned session)."""
        count = self.kept_session_count(session_id, campaign_id)
        if count is not None:
            return count
        return None if started <= self.session_floor else 0

    def is_confirmed(self, decision_id: str) -> bool:
        return short_decision_id(decision_id) in self.confirmed

    # -- transitions (pure) ---------------------------------------------------------
    def counted(
        self,
        campaign_id: str,
        local_day: int,
        session_id: str | None,
        session_started: float | None,
        *,
        record: RecentDecision | None = None,
        source: SourcePosition | None = None,
        displayed: bool = False,
    ) -> EndpointCaps:
        """One more display of ``campaign_id`` against session, daily and total caps
        (optionally remembering a decision, the source position and a display mark —
        all in one new value). ``session_started`` is only read for a session not kept
        yet (``None`` = unknown start)."""
        days = dict(self.days)
        days[local_day] = _bump(days.get(local_day, _EMPTY), campaign_id)
        day_floor = self.day_floor
        if len(days) > KEEP_DAYS:
            for old in sorted(days)[:-KEEP_DAYS]:
                del days[old]
                day_floor = max(day_floor, old)
        sessions = self.sessions
        session_floor = self.session_floor
        if session_id is not None:
            kept = []
            found = None
            for session in sessions:
                if session.session_id == session_id:
                    found = session
                else:
                    kept.append(session)
            if found is not None:
                kept.append(SessionCount(session_id, found.started, _bump(found.counts, campaign_id)))
            else:
                started = session_started if session_started is not None else _NO_FLOOR
                kept.append(SessionCount(session_id, started, {campaign_id: 1}))
            while len(kept) > KEEP_SESSIONS:
                session_floor = max(session_floor, kept.pop(0).started)
            sessions = tuple(kept)
        return EndpointCaps(
            source=self.source if source is None else (int(source[0]), int(source[1])),
            days=days,
            day_floor=day_floor,
            sessions=sessions,
            session_floor=session_floor,
            totals=_bump(self.totals, campaign_id),
            displayed=self.displayed | {campaign_id} if displayed and campaign_id not in self.displayed
            else self.displayed,
            recent=self.recent if record is None else (*self.recent, record)[-KEEP_DECISIONS:],
            confirmed=self.confirmed,
        )

    def confirming(self, decision_id: str, campaign_id: str) -> EndpointCaps:
        short = short_decision_id(decision_id)
        confirmed = self.confirmed if short in self.confirmed else (*self.confirmed, short)[-KEEP_CONFIRMED:]
        return replace(self, confirmed=confirmed, displayed=self.displayed | {campaign_id})

    def at_source(self, source: SourcePosition | None) -> EndpointCaps:
        if source is None or self.source == source:
            return self
        return replace(self, source=(int(source[0]), int(source[1])))

    def forget_campaigns(self, live: frozenset[str]) -> EndpointCaps:
        """Drop totals and display marks of campaigns no longer in the index."""
        if set(self.totals) <= live and self.displayed <= live:
            return self
        return replace(
            self,
            totals={c: n for c, n in self.totals.items() if c in live},
            displayed=self.displayed & live,
        )

    # -- JSON -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """A compact JSON-ready dict; inverse of :meth:`from_json`. Campaign ids are
        written once in ``"c"`` and referred to by position elsewhere; empty members are
        omitted."""
        table: dict[str, int] = {}

        def ref(campaign_id: str) -> int:
            return table.setdefault(campaign_id, len(table))

        def counts(mapping: Mapping[str, int]) -> list[int]:
            return [n for campaign_id, count in mapping.items() for n in (ref(campaign_id), count)]

        data: dict[str, Any] = {"v": 2}
        if self.source is not None:
            data["src"] = list(self.source)
        if self.days:
            data["days"] = {str(day): counts(per_day) for day, per_day in self.days.items()}
        if self.day_floor:
            data["dfl"] = self.day_floor
        if self.sessions:
            data["ses"] = [[s.session_id, None if s.started == float("-inf") else s.started, counts(s.counts)]
                           for s in self.sessions]
        if self.session_floor != float("-inf"):
            data["sfl"] = self.session_floor
        if self.totals:
            data["tot"] = counts(self.totals)
        if self.displayed:
            data["shown"] = sorted(ref(c) for c in sorted(self.displayed))
        if self.recent:
            data["rec"] = [[r.event_id, ref(r.campaign_id), r.treatment_id, r.priority, list(r.remaining),
                            r.decided_at] for r in self.recent]
        if self.confirmed:
            data["conf"] = list(self.confirmed)
        if table:
            data["c"] = list(table)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> EndpointCaps:
        """Rebuild state written by :meth:`to_json` (``None`` or ``{}`` = fresh state)."""
        if not data:
            return cls()
        table: list[str] = list(data.get("c", ()))

        def counts(flat: list[int]) -> dict[str, int]:
            return {table[flat[i]]: int(flat[i + 1]) for i in range(0, len(flat), 2)}

        source = data.get("src")
        return cls(
            source=(int(source[0]), int(source[1])) if source else None,
            days={int(day): counts(flat) for day, flat in data.get("days", {}).items()},
            day_floor=int(data.get("dfl", 0)),
            sessions=tuple(
                SessionCount(str(sid), float("-inf") if started is None else float(started), counts(flat))
                for sid, started, flat in data.get("ses", ())
            ),
            session_floor=float(data["sfl"]) if "sfl" in data else float("-inf"),
            totals=counts(data.get("tot", [])),
            displayed=frozenset(table[i] for i in data.get("shown", ())),
            recent=tuple(
                RecentDecision(str(eid), table[cid], str(tid), prio, (rem[0], rem[1], rem[2]), float(at))
                for eid, cid, tid, prio, rem, at in data.get("rec", ())
            ),
            confirmed=tuple(data.get("conf", ())),
        )


# -- transitions ----------------------------------------------------------------------


def record_decision(
    caps: EndpointCaps | None, decision: Decision, *, source: SourcePosition | None = None
) -> EndpointCaps:
    """Count an emitted decision against its campaign's session, daily and total caps
    (PRODUCT.md semantics 4: a display is counted when the engine emits a decision).

    The day is ``decision.local_day`` (endpoint-local), the session ``decision.session_id``.
    Idempotent: a decision whose event is already in the recent ring, or a ``source`` at
    or before the last applied position, changes nothing (returns ``caps`` itself).
    """
    state = caps if caps is not None else EndpointCaps()
    if state.has_applied(source):
        return state
    if state.recent_decision(decision.event_id) is not None:
        return state.at_source(source)  # the same event again (re-published): no recount
    session_id = decision.session_id
    started = None
    if session_id is not None and state.kept_session_count(session_id, "") is None:
        started = instant_seconds(decision.session_start) if decision.session_start else decision.decided_at
    return state.counted(decision.campaign_id, decision.local_day, session_id, started,
                         record=decision.recent(), source=source)


ENGAGEMENT_EVENT_TYPES: Mapping[str, str] = MappingProxyType({
    "_inapp.message_displayed": "displayed",
    "_inapp.message_clicked": "clicked",
    "_inapp.message_dismissed": "dismissed",
})
"""Interaction events clients send back (reference §6.2, §10.6)."""


@dataclass(frozen=True, slots=True)
class Engagement:
    """What an interaction event means for caps and metrics, given the state before it.

    * ``counts_against_caps`` — a display without ``decision_id`` (the client decided on
      its own after GetInAppMessages): counted once;
    * ``new_display`` — a display not seen before (a repeated confirmation of the same
      ``decision_id`` is not);
    * ``first_display`` — the endpoint's first display of this campaign (unique displays).
    """

    kind: Literal["displayed", "clicked", "dismissed"]
    campaign_id: str
    treatment_id: str
    decision_id: str | None
    counts_against_caps: bool
    new_display: bool
    first_display: bool


def classify_engagement(
    caps: EndpointCaps | None, event: AppEvent, *, source: SourcePosition | None = None
) -> Engagement | None:
    """Classify an ``_inapp.*`` interaction event (attributes ``campaign_id``,
    ``treatment_id`` default "0", optional ``decision_id``); ``None`` for any other event,
    one without ``campaign_id``, or one already applied (``source``)."""
    kind = ENGAGEMENT_EVENT_TYPES.get(event.event.event_type)
    attributes = event.event.attributes or {}
    campaign_id = attributes.get("campaign_id")
    state = caps if caps is not None else EndpointCaps()
    if kind is None or not campaign_id or state.has_applied(source):
        return None
    treatment_id = attributes.get("treatment_id") or "0"
    decision_id = attributes.get("decision_id") or None
    if kind != "displayed":
        return Engagement(kind, campaign_id, treatment_id, decision_id, False, False, False)  # type: ignore[arg-type]
    new = decision_id is None or not state.is_confirmed(decision_id)
    first = new and campaign_id not in state.displayed
    return Engagement("displayed", campaign_id, treatment_id, decision_id, decision_id is None, new, first)


def record_engagement(
    caps: EndpointCaps | None,
    endpoint: Endpoint | None,
    event: AppEvent,
    now: float | datetime,
    *,
    source: SourcePosition | None = None,
    max_skew: float = DEFAULT_MAX_SKEW_SECONDS,
) -> EndpointCaps:
    """Apply an interaction event to the cap state (PRODUCT.md semantics 4).

    ``_inapp.message_displayed`` with ``decision_id`` confirms that decision (already
    counted when emitted: not counted again); without it, the display counts once against
    session, daily (endpoint-local day of the event) and total caps. Clicks and dismissals
    change no caps, only the applied source position (so a replay is recognised and its
    metric deltas are not repeated). Returns ``caps`` itself when nothing changes.
    """
    state = caps if caps is not None else EndpointCaps()
    engagement = classify_engagement(state, event, source=source)
    if engagement is None:
        return state
    if engagement.kind != "displayed":
        return state.at_source(source)  # no cap changes; the position makes replays visible
    if engagement.decision_id is not None:
        if not engagement.new_display:
            return state.at_source(source)
        return state.confirming(engagement.decision_id, engagement.campaign_id).at_source(source)
    at = effective_instant(event.event, now, max_skew)
    demographic = endpoint.demographic if endpoint is not None else None
    day = local_day_ordinal(at, zone(demographic.timezone if demographic is not None else None))
    session_id, started = event_session(event.event, at)
    return state.counted(engagement.campaign_id, day, session_id, started, source=source, displayed=True)
