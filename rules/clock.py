"""Event time (PRODUCT.md semantics 7) and the session an event belongs to."""

from __future__ import annotations

from datetime import datetime

from rules.models.event import Event
from rules.timeutil import instant_seconds

__all__ = ["DEFAULT_MAX_SKEW_SECONDS", "effective_instant", "event_session"]

DEFAULT_MAX_SKEW_SECONDS = 300.0  # engine setting max_event_skew_seconds overrides it


def effective_instant(event: Event, now: float | datetime, max_skew: float = DEFAULT_MAX_SKEW_SECONDS) -> float:
    """The event's ``Timestamp``; one more than ``max_skew`` seconds ahead of the receive
    time ``now`` is clamped to ``now`` (PRODUCT.md semantics 7)."""
    received = now.timestamp() if isinstance(now, datetime) else now
    at = event.instant
    return received if at > received + max_skew else at


def event_session(event: Event, at: float) -> tuple[str | None, float | None]:
    """``(Session.Id, start instant)``; the start falls back to the event time ``at`` when
    ``StartTimestamp`` is absent; ``(None, None)`` for an event without a session, which
    no ``SessionCap`` can then apply to."""
    session = event.session
    if session is None:
        return None, None
    if session.start_timestamp is not None:
        return session.id, instant_seconds(session.start_timestamp)
    return session.id, at
