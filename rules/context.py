"""Facts about one endpoint at one instant, computed at most once per evaluation, and the
eligibility checks shared by :func:`rules.decide.decide` and
:func:`rules.listing.in_app_messages` (one implementation of each rule, STYLE.md "Don't")."""

from __future__ import annotations

from datetime import tzinfo
from typing import NamedTuple

from rules.caps import EndpointCaps
from rules.index import CompiledArm
from rules.models.endpoint import Endpoint
from rules.models.event import Event
from rules.schedule import endpoint_hash, mixed_bucket
from rules.segments import ALWAYS, SegmentPredicate
from rules.timeutil import instant_seconds, local_day_ordinal, zone

__all__ = ["EvaluationContext", "Remaining", "endpoint_can_receive"]

_NO_FLOOR = float("-inf")


def endpoint_can_receive(endpoint: Endpoint, application_id: str) -> bool:
    """IN_APP, not ``OptOut: ALL``, not ``INACTIVE``, of this app when it says so
    (PRODUCT.md semantics 2; reference §7.3, §9.2 step 2)."""
    return (
        endpoint.channel_type == "IN_APP"
        and endpoint.opt_out != "ALL"
        and endpoint.endpoint_status != "INACTIVE"
        and (endpoint.application_id is None or endpoint.application_id == application_id)
    )


class Remaining(NamedTuple):
    """Displays left after this one; ``None`` = unlimited (for the session also: no
    session on the event)."""

    session: int | None
    daily: int | None
    total: int | None

    def to_wire(self) -> dict[str, int | None]:
        return {"Session": self.session, "Daily": self.daily, "Total": self.total}


class EvaluationContext:
    """One endpoint at one instant: its zone, local day, treatment buckets and segment
    memberships (memoised by predicate identity, so campaigns sharing an interned segment
    evaluate it once), and its cap state."""

    __slots__ = ("endpoint", "endpoint_id", "caps", "at", "event", "_zone", "_zone_known", "_day",
                 "_hash", "_segments", "_started")

    def __init__(self, endpoint: Endpoint, endpoint_id: str, caps: EndpointCaps | None, at: float,
                 event: Event | None = None) -> None:
        self.endpoint = endpoint
        self.endpoint_id = endpoint_id
        self.caps = caps
        self.at = at
        self.event = event
        self._zone: tzinfo | None = None
        self._zone_known = False
        self._day = -1
        self._hash = -1
        self._segments: dict[int, bool] = {}
        self._started: float | None = None

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
        """Date ordinal of ``at`` in the endpoint's zone (UTC without one) — the day of
        ``DailyCap`` (PRODUCT.md semantics 4)."""
        if self._day < 0:
            self._day = local_day_ordinal(self.at, self.zone)
        return self._day

    @property
    def session_id(self) -> str | None:
        session = self.event.session if self.event is not None else None
        return session.id if session is not None else None

    @property
    def session_started(self) -> float:
        """``Session.StartTimestamp`` (the event time when absent), parsed when needed."""
        if self._started is None:
            session = self.event.session if self.event is not None else None
            text = session.start_timestamp if session is not None else None
            self._started = instant_seconds(text) if text else self.at
        return self._started

    def bucket(self, salt: int) -> int:
        """This endpoint's treatment bucket (0–99) in the campaign salted ``salt``."""
        if self._hash < 0:
            self._hash = endpoint_hash(self.endpoint_id)
        return mixed_bucket(salt, self._hash)

    def in_segment(self, predicate: SegmentPredicate) -> bool:
        key = id(predicate)
        found = self._segments.get(key)
        if found is None:
            found = self._segments[key] = predicate(self.endpoint, self.at)
        return found

    def admits(self, arm: CompiledArm) -> bool:
        """Window, treatment (not the holdout), segment and quiet time: everything except
        the trigger and the caps (PRODUCT.md semantics 2, 5, 6)."""
        if arm.local_window:
            if not arm.window.admits(self.at, self.zone):
                return False
        elif not arm.start <= self.at < arm.end:
            return False
        if arm.bucket_low or arm.bucket_high != 100:  # no holdout, one treatment: everyone
            if not arm.bucket_low <= self.bucket(arm.bucket_key) < arm.bucket_high:
                return False
        segment = arm.segment
        if segment is not ALWAYS:
            found = self._segments.get(id(segment))
            if found is None:
                found = self._segments[id(segment)] = segment(self.endpoint, self.at)
            if not found:
                return False
        return arm.quiet is None or not arm.quiet.is_quiet(self.at, self.zone)

    def daily_used(self, campaign_id: str) -> int:
        """Displays counted today (endpoint-local); -1 when unknown (a pruned day)."""
        caps = self.caps
        if caps is None:
            return 0
        count = caps.daily_count(self.local_day, campaign_id)
        return -1 if count is None else count

    def session_used(self, session_id: str, campaign_id: str) -> int:
        """Displays counted in a session; -1 when unknown (a pruned session)."""
        caps = self.caps
        if caps is None:
            return 0
        count = caps.kept_session_count(session_id, campaign_id)
        if count is not None:
            return count
        if caps.session_floor == _NO_FLOOR or self.session_started > caps.session_floor:
            return 0
        return -1

    def remaining_after_display(self, arm: CompiledArm) -> Remaining | None:
        """Remaining counts after one more display, or ``None`` when a cap is exhausted or
        its count unknown. A cap of 0 is unlimited; without a session on the event no
        ``SessionCap`` applies (PRODUCT.md semantics 4)."""
        limits = arm.limits
        campaign_id = arm.campaign_id
        total = daily = session = None
        if limits.total:
            used = self.caps.total_count(campaign_id) if self.caps is not None else 0
            if used >= limits.total:
                return None
            total = limits.total - used - 1
        if limits.daily:
            used = self.daily_used(campaign_id)
            if used < 0 or used >= limits.daily:
                return None
            daily = limits.daily - used - 1
        if limits.session:
            session_id = self.session_id
            if session_id is not None:
                used = self.session_used(session_id, campaign_id)
                if used < 0 or used >= limits.session:
                    return None
                session = limits.session - used - 1
        return Remaining(session, daily, total)
