"""Schedule window, quiet time and treatment buckets (reference §8.2, §8.4, §9.2 step 9;
PRODUCT.md semantics 2, 5, 6).

All three are compiled once per campaign into small frozen values whose checks are a few
comparisons on the evaluation path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from rules.errors import DefinitionError
from rules.models.campaign import Schedule
from rules.models.dimensions import QuietTime
from rules.timeutil import (
    IMMEDIATE,
    instant_seconds,
    local_minute_of_day,
    local_wall_seconds,
    parse_hour_minute,
    parse_schedule_timezone,
    wall_clock_seconds,
)

__all__ = [
    "CompiledWindow",
    "QuietWindow",
    "bucket_of",
    "bucket_key",
    "endpoint_hash",
    "mixed_bucket",
    "compile_quiet_time",
    "compile_window",
]

_FOREVER = float("inf")


@dataclass(frozen=True, slots=True)
class CompiledWindow:
    """``StartTime <= t < EndTime`` (PRODUCT.md semantics 2).

    Bounds are instants in epoch seconds unless ``local``: then they are wall clocks
    (``Schedule.IsLocalTime``, reference §8.2) compared with the wall clock of the
    endpoint's zone, or of ``fallback`` (``Schedule.Timezone``, else UTC) when the
    endpoint has no valid zone. An ``IMMEDIATE`` start is the campaign's ``CreationDate``
    and stays an instant even for local-time schedules (``start_is_instant``).
    """

    start: float
    end: float
    local: bool = False
    start_is_instant: bool = True
    fallback: tzinfo = UTC

    def admits(self, at: float, zone: tzinfo | None) -> bool:
        if not self.local:
            return self.start <= at < self.end
        wall = local_wall_seconds(at, zone if zone is not None else self.fallback)
        start_ok = self.start <= (at if self.start_is_instant else wall)
        return start_ok and wall < self.end


def _bound(text: str, schedule_zone: tzinfo | None, field: str) -> float:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise DefinitionError(field, f"{text!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        # a time without offset is read in Schedule.Timezone, else UTC
        parsed = parsed.replace(tzinfo=schedule_zone or UTC)
    return parsed.timestamp()


def compile_window(schedule: Schedule, created: str, field: str = "Schedule") -> CompiledWindow:
    """Compile a schedule's window; ``created`` (the campaign's ``CreationDate``) resolves
    ``StartTime: IMMEDIATE``. A missing ``EndTime`` leaves the window open."""
    schedule_zone = None
    if schedule.timezone is not None:
        try:
            schedule_zone = parse_schedule_timezone(schedule.timezone)
        except ValueError as exc:
            raise DefinitionError(f"{field}.Timezone", str(exc)) from None
    local = bool(schedule.is_local_time)
    immediate = schedule.start_time == IMMEDIATE
    try:
        if immediate:
            start = instant_seconds(created)
        elif local:
            start = wall_clock_seconds(schedule.start_time)
        else:
            start = _bound(schedule.start_time, schedule_zone, f"{field}.StartTime")
        if schedule.end_time is None:
            end = _FOREVER
        elif local:
            end = wall_clock_seconds(schedule.end_time)
        else:
            end = _bound(schedule.end_time, schedule_zone, f"{field}.EndTime")
    except ValueError as exc:
        raise DefinitionError(f"{field}.StartTime", str(exc)) from None
    return CompiledWindow(
        start=start,
        end=end,
        local=local,
        start_is_instant=immediate or not local,
        fallback=schedule_zone or UTC,
    )


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Quiet time in the endpoint's local time (PRODUCT.md semantics 5): quiet when
    ``start <= t <= end`` in whole minutes (bounds inclusive, reference §9.2 step 9), the
    window wrapping midnight when ``start > end``. Local time is derived from the instant,
    so DST changes need no special case. No valid zone → never quiet."""

    start: int
    end: int

    def is_quiet(self, at: float, zone: tzinfo | None) -> bool:
        if zone is None:
            return False
        minute = local_minute_of_day(at, zone)
        if self.start <= self.end:
            return self.start <= minute <= self.end
        return minute >= self.start or minute <= self.end

    def to_wire(self) -> dict[str, str]:
        return {"Start": f"{self.start // 60:02d}:{self.start % 60:02d}",
                "End": f"{self.end // 60:02d}:{self.end % 60:02d}"}


def compile_quiet_time(
    own: QuietTime | None, default: QuietTime | None, field: str = "Schedule.QuietTime"
) -> QuietWindow | None:
    """The campaign's ``QuietTime``, else the app's (PRODUCT.md semantics 5). A window
    lacking a bound, or with ``Start == End``, is no quiet time (as Amplify's helper)."""
    chosen = own if own is not None and (own.start or own.end) else default
    if chosen is None or not chosen.start or not chosen.end:
        return None
    try:
        start, end = parse_hour_minute(chosen.start), parse_hour_minute(chosen.end)
    except ValueError as exc:
        raise DefinitionError(field, str(exc)) from None
    return None if start == end else QuietWindow(start, end)


_MASK64 = (1 << 64) - 1


def bucket_key(campaign_id: str) -> int:
    """The per-campaign 64-bit salt of :func:`bucket_of` (computed once at compile time)."""
    return int.from_bytes(hashlib.blake2b(campaign_id.encode(), digest_size=8).digest(), "big")


def endpoint_hash(endpoint_id: str) -> int:
    """A 64-bit hash of an endpoint id; ids are case-insensitive (reference §2.3)."""
    return int.from_bytes(hashlib.blake2b(endpoint_id.casefold().encode(), digest_size=8).digest(), "big")


def mixed_bucket(salt: int, endpoint: int) -> int:
    """Bucket 0–99 of an endpoint hash under a campaign salt: the splitmix64 finaliser
    of their XOR, whose avalanche makes buckets of different campaigns independent (one
    endpoint is not in every campaign's holdout at once)."""
    x = salt ^ endpoint
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (x ^ (x >> 31)) % 100


def bucket_of(key: int, endpoint_id: str) -> int:
    """A stable bucket 0–99 from (campaign id, endpoint id) (PRODUCT.md semantics 6):
    ``key`` is :func:`bucket_key` of the campaign id. Endpoint ids are case-insensitive."""
    return mixed_bucket(key, endpoint_hash(endpoint_id))
