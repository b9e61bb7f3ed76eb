"""The public surface other layers import (docs/architecture.md), and time helpers."""

from __future__ import annotations

import importlib
import random
from zoneinfo import ZoneInfo

import pytest

import rules
from rules.timeutil import format_instant, instant_seconds, local_day, local_day_ordinal, parse_instant


def test_everything_in_all_exists() -> None:
    for name in rules.__all__:
        assert hasattr(rules, name), name
    for module in ("caps", "context", "decide", "errors", "index", "listing", "metrics", "models"):
        assert importlib.import_module(f"rules.{module}").__all__


def test_rules_decide_is_the_module_as_the_architecture_spells_it() -> None:
    import rules.decide

    assert callable(rules.decide.decide)
    from rules.decide import decide

    assert decide is rules.decide.decide


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-11-28T10:00:00.000Z", 1795860000.0),
        ("2026-11-28T10:00:00Z", 1795860000.0),
        ("2026-11-28T11:00:00+01:00", 1795860000.0),
        ("2026-11-28T10:00:00", 1795860000.0),  # no offset: UTC
        ("2026-11-28", 1795824000.0),
    ],
)
def test_instants(text: str, seconds: float) -> None:
    assert instant_seconds(text) == seconds == parse_instant(text).timestamp()


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "28/11/2026"])
def test_bad_instants(text: str) -> None:
    with pytest.raises(ValueError):
        instant_seconds(text)


def test_format_instant_is_the_aws_sample_form() -> None:
    assert format_instant(1795860000.25) == "2026-11-28T10:00:00.250Z"


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        # St. John's fell back at 00:01 local until 2011: not on a quarter hour
        ("America/St_Johns", "2007-11-04T02:59:59Z", "2007-11-03"),
        ("America/St_Johns", "2007-11-04T03:31:00Z", "2007-11-04"),
        ("Asia/Kathmandu", "2026-06-01T18:14:59Z", "2026-06-01"),  # UTC+05:45
        ("Asia/Kathmandu", "2026-06-01T18:15:00Z", "2026-06-02"),
        ("Pacific/Chatham", "2026-06-01T11:15:00Z", "2026-06-02"),  # UTC+12:45
    ],
)
def test_cached_local_day_matches_the_zone(zone: str, instant: str, day: str) -> None:
    seconds = instant_seconds(instant)
    tz = ZoneInfo(zone)
    assert local_day(seconds, tz).isoformat() == day
    assert local_day_ordinal(seconds, tz) == local_day(seconds, tz).toordinal()


def test_cached_local_day_around_every_minute_of_a_dst_night() -> None:
    rng = random.Random(3)
    for zone in ("America/St_Johns", "Europe/Paris", "Australia/Lord_Howe", "America/New_York"):
        tz = ZoneInfo(zone)
        for year in (1990, 2008, 2026):
            for _ in range(300):
                seconds = instant_seconds(f"{year}-01-01T00:00:00Z") + rng.uniform(0, 365 * 86400)
                assert local_day_ordinal(seconds, tz) == local_day(seconds, tz).toordinal()
