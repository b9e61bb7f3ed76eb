"""Instants, zones and wall clocks (reference §2.4; PRODUCT.md semantics 4, 5, 7).

Everything inside the core is an instant in epoch seconds (``float``); strings are parsed
once, when a definition is compiled or an event is decoded. Zones are looked up once per
name and cached; an unknown or malformed name is "no zone" (reference §13 item 16).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "IMMEDIATE",
    "format_instant",
    "instant_seconds",
    "local_day",
    "local_day_ordinal",
    "local_minute_of_day",
    "local_wall_seconds",
    "parse_hour_minute",
    "parse_instant",
    "parse_schedule_timezone",
    "wall_clock_seconds",
    "zone",
]

IMMEDIATE = "IMMEDIATE"
"""``Schedule.StartTime`` literal: start when the campaign is created (reference §4.2)."""

_HOUR_MINUTE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_UTC_OFFSET = re.compile(r"^UTC(?:([+-])(\d{2})(?::?(\d{2}))?)?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WHOLE_MINUTES_SINCE = 63_072_000.0  # 1972-01-01T00:00:00Z


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 date or date-time into an aware UTC ``datetime``.

    A value without an offset is read as UTC (Pinpoint samples always carry ``Z``); a
    bare date is its UTC midnight. Raises ``ValueError`` on anything else.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("expected an ISO-8601 date-time string")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def instant_seconds(text: str) -> float:
    """Epoch seconds of an ISO-8601 string (see :func:`parse_instant`)."""
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return parse_instant(text).timestamp()  # raises the uniform ValueError
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def wall_clock_seconds(text: str) -> float:
    """The wall clock written in an ISO-8601 string, offset dropped, as epoch-like seconds.

    Used for ``Schedule.IsLocalTime`` (reference §8.2): ``"2026-01-01T09:00:00Z"`` means
    09:00 in each endpoint's own zone, so the written clock is what counts.
    """
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not an ISO-8601 date-time") from None
    return (parsed.replace(tzinfo=UTC) - _EPOCH).total_seconds()


def format_instant(seconds: float) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ``, the form of every AWS sample (reference §2.4)."""
    moment = _EPOCH + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@lru_cache(maxsize=4096)
def zone(name: str | None) -> tzinfo | None:
    """The IANA zone called ``name``, or ``None`` when absent or not a valid zone name
    (PRODUCT.md semantics 4 and 5: no valid zone → UTC day, no quiet time)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError, OSError on odd names
        return None


def parse_schedule_timezone(text: str) -> tzinfo:
    """``Schedule.Timezone``: ``UTC``, ``UTC+05:30``, ``UTC-08`` (reference §8.2); an IANA
    name is accepted too. Raises ``ValueError`` otherwise."""
    match = _UTC_OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        if sign is None:
            return UTC
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            raise ValueError(f"{text!r}: offset beyond ±14 hours")
        return timezone(-delta if sign == "-" else delta)
    found = zone(text)
    if found is None:
        raise ValueError(f"{text!r} is not a UTC offset like UTC+05:30 or an IANA zone")
    return found


def parse_hour_minute(text: str) -> int:
    """Minutes after midnight of an ``HH:MM`` 24-hour string (``QuietTime``, reference
    §4.1). Raises ``ValueError`` otherwise."""
    match = _HOUR_MINUTE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a 24-hour HH:MM time")
    return int(match.group(1)) * 60 + int(match.group(2))


def _local(seconds: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(seconds, tz)


def local_wall_seconds(seconds: float, tz: tzinfo) -> float:
    """The wall clock of ``tz`` at an instant, as epoch-like seconds (instant + UTC offset);
    comparable with :func:`wall_clock_seconds`."""
    offset = _local(seconds, tz).utcoffset()
    return seconds + (offset.total_seconds() if offset is not None else 0.0)


def local_minute_of_day(seconds: float, tz: tzinfo) -> int:
    """Minutes after local midnight at an instant. Going from the instant to the wall clock
    is defined for every instant, so DST gaps and folds need no special case."""
    moment = _local(seconds, tz)
    return moment.hour * 60 + moment.minute


def local_day(seconds: float, tz: tzinfo | None) -> date:
    """The calendar day in ``tz`` (UTC when ``None``) at an instant (PRODUCT.md semantics 4)."""
    return _local(seconds, tz if tz is not None else UTC).date()


@lru_cache(maxsize=65_536)
def _day_ordinal(minute: int, tz: tzinfo | None) -> int:
    return local_day(minute * 60.0, tz).toordinal()


def local_day_ordinal(seconds: float, tz: tzinfo | None) -> int:
    """``local_day(seconds, tz).toordinal()``, cached per minute: since 1972 every UTC offset
    and every transition of the tz database falls on a whole minute (St. John's switched
    at 00:01 until 2011, so quarter hours would not do), hence the local day never changes
    inside a minute. Earlier instants are computed uncached."""
    if seconds < _WHOLE_MINUTES_SINCE:
        return local_day(seconds, tz).toordinal()
    return _day_ordinal(int(seconds // 60), tz)
