"""Schedule window, quiet time and treatment buckets (PRODUCT.md semantics 2, 5, 6;
reference §8.2, §8.4, §9.2)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from rules.schedule import bucket_key, bucket_of
from tests.rules.builders import APP, campaign, endpoint, event, index, settings, winner


@pytest.mark.parametrize(
    ("schedule", "at", "expected"),
    [
        ({"StartTime": "2026-06-01T12:00:00Z"}, "2026-06-01T12:00:00Z", True),  # StartTime inclusive
        ({"StartTime": "2026-06-01T12:00:00Z"}, "2026-06-01T11:59:59.999Z", False),
        ({"EndTime": "2026-06-01T12:00:00Z"}, "2026-06-01T12:00:00Z", False),  # EndTime exclusive
        ({"EndTime": "2026-06-01T12:00:00Z"}, "2026-06-01T11:59:59.999Z", True),
        ({"StartTime": "2026-06-01T14:00:00+02:00"}, "2026-06-01T12:00:00Z", True),  # offsets honoured
        ({"StartTime": "2026-06-01T12:00:00", "Timezone": "UTC+02"}, "2026-06-01T10:00:00Z", True),
        ({"StartTime": "2026-06-01T12:00:00", "Timezone": "UTC+02"}, "2026-06-01T09:59:59Z", False),
        ({"EndTime": None}, "2099-01-01T00:00:00Z", True),  # no EndTime: open-ended
        # IMMEDIATE: from the campaign's CreationDate (2026-01-01T00:00Z)
        ({"StartTime": "IMMEDIATE"}, "2026-01-01T00:00:00Z", True),
        ({"StartTime": "IMMEDIATE"}, "2025-12-31T23:59:59Z", False),
    ],
)
def test_window_uses_event_time(schedule: dict[str, Any], at: str, expected: bool) -> None:
    sched = {"StartTime": "2025-01-01T00:00:00Z", "EndTime": "2100-01-01T00:00:00Z", **schedule}
    idx = index([campaign("c1", schedule=sched)])
    assert (winner(idx, endpoint(), event(at=at)) == "c1") is expected


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        # IsLocalTime: 09:00–17:00 on 2026-06-01 in each endpoint's own zone
        ("Asia/Tokyo", "2026-06-01T00:00:00Z", True),  # 09:00 JST
        ("Asia/Tokyo", "2026-05-31T23:59:00Z", False),  # 08:59 JST
        ("Asia/Tokyo", "2026-06-01T08:00:00Z", False),  # 17:00 JST: EndTime exclusive
        ("America/New_York", "2026-06-01T13:00:00Z", True),  # 09:00 EDT
        ("America/New_York", "2026-06-01T12:59:00Z", False),
        (None, "2026-06-01T12:00:00Z", False),  # no zone → Schedule.Timezone UTC+05:30: 17:30
        (None, "2026-06-01T03:30:00Z", True),  # 09:00 at UTC+05:30
        ("Not/AZone", "2026-06-01T03:30:00Z", True),
    ],
)
def test_local_time_window(zone: str | None, at: str, expected: bool) -> None:
    sched = {"StartTime": "2026-06-01T09:00:00Z", "EndTime": "2026-06-01T17:00:00Z", "IsLocalTime": True,
             "Timezone": "UTC+05:30"}
    idx = index([campaign("c1", schedule=sched)])
    ep = endpoint(Demographic={"Timezone": zone}) if zone else endpoint()
    assert (winner(idx, ep, event(at=at)) == "c1") is expected


QUIET_CASES = [
    # (zone, quiet Start, End, instant, expected quiet)
    ("Europe/Paris", "22:00", "07:00", "2026-06-01T19:59:00Z", False),  # 21:59 CEST
    ("Europe/Paris", "22:00", "07:00", "2026-06-01T20:00:00Z", True),  # 22:00: Start inclusive
    ("Europe/Paris", "22:00", "07:00", "2026-06-01T23:30:00Z", True),  # 01:30, after midnight
    ("Europe/Paris", "22:00", "07:00", "2026-06-02T05:00:00Z", True),  # 07:00: End inclusive (minutes)
    ("Europe/Paris", "22:00", "07:00", "2026-06-02T05:01:00Z", False),  # 07:01
    ("Europe/Paris", "12:00", "14:00", "2026-06-01T11:00:00Z", True),  # 13:00, no wrap
    ("Europe/Paris", "12:00", "14:00", "2026-06-01T13:00:00Z", False),  # 15:00
    # DST starts in Paris on 2026-03-29 at 01:00Z (02:00 → 03:00 local)
    ("Europe/Paris", "22:00", "07:00", "2026-03-29T04:30:00Z", True),  # 06:30 CEST (05:30 in CET)
    ("Europe/Paris", "22:00", "07:00", "2026-03-29T05:30:00Z", False),  # 07:30 CEST (would be 06:30 CET)
    ("Europe/Paris", "22:00", "07:00", "2026-03-28T05:30:00Z", True),  # the day before: 06:30 CET
    # DST ends in New York on 2026-11-01: 01:00–01:59 happens twice
    ("America/New_York", "01:00", "01:30", "2026-11-01T05:15:00Z", True),  # 01:15 EDT
    ("America/New_York", "01:00", "01:30", "2026-11-01T06:15:00Z", True),  # 01:15 EST
    ("America/New_York", "01:00", "01:30", "2026-11-01T06:45:00Z", False),  # 01:45 EST
    (None, "00:00", "23:59", "2026-06-01T12:00:00Z", False),  # no zone → no quiet time
    ("Mars/Olympus", "00:00", "23:59", "2026-06-01T12:00:00Z", False),  # invalid zone → none
    ("UTC", "12:00", "12:00", "2026-06-01T12:00:00Z", False),  # Start == End → none
]


@pytest.mark.parametrize(("zone", "start", "end", "at", "quiet"), QUIET_CASES)
def test_quiet_time_in_endpoint_local_time(zone: str | None, start: str, end: str, at: str, quiet: bool) -> None:
    sched = {"StartTime": "2026-01-01T00:00:00Z", "QuietTime": {"Start": start, "End": end}}
    idx = index([campaign("c1", schedule=sched)])
    ep = endpoint(Demographic={"Timezone": zone}) if zone else endpoint()
    assert (winner(idx, ep, event(at=at)) is None) is quiet


def test_quiet_time_campaign_overrides_app_default() -> None:
    tokyo = endpoint(Demographic={"Timezone": "Asia/Tokyo"})
    at = "2026-06-01T14:00:00Z"  # 23:00 JST
    app_quiet = [settings(QuietTime={"Start": "22:00", "End": "06:00"})]
    assert winner(index([campaign("c1")], app_settings=app_quiet), tokyo, event(at=at)) is None
    own = campaign("c1", schedule={"QuietTime": {"Start": "01:00", "End": "02:00"}})
    assert winner(index([own], app_settings=app_quiet), tokyo, event(at=at)) == "c1"
    assert winner(index([campaign("c1")]), tokyo, event(at=at)) == "c1"


def test_buckets_are_stable_case_insensitive_and_independent_per_campaign() -> None:
    key_a, key_b = bucket_key("campaign-a"), bucket_key("campaign-b")
    assert bucket_of(key_a, "Endpoint-1") == bucket_of(key_a, "endpoint-1") == bucket_of(bucket_key("campaign-a"), "ENDPOINT-1")
    pairs = Counter((bucket_of(key_a, f"e{i}") < 50, bucket_of(key_b, f"e{i}") < 50) for i in range(4000))
    assert all(800 < n < 1200 for n in pairs.values()), pairs  # about a quarter each


def test_holdout_and_treatments_split_endpoints() -> None:
    camp = campaign(
        "c1", HoldoutPercent=10,
        AdditionalTreatments=[{"Id": "1", "SizePercent": 30,
                               "MessageConfiguration": {"InAppMessage": {"Layout": "OVERLAYS",
                                                                         "Content": [{"BackgroundColor": "#111"}]}}},
                              {"Id": "2", "SizePercent": 0}],
    )
    idx = index([camp])
    assert [(a.treatment_id, a.bucket_low, a.bucket_high) for a in idx.arms(APP)] == [("0", 10, 70), ("1", 70, 100)]
    from tests.rules.builders import run

    seen: Counter[str] = Counter()
    for i in range(3000):
        decision = run(idx, endpoint(f"ep{i}"), event(endpoint_id=f"ep{i}"))
        seen[decision.treatment_id if decision else "holdout"] += 1
        if decision and decision.treatment_id == "1":
            assert decision.in_app_message["Layout"] == "OVERLAYS"
    assert 200 < seen["holdout"] < 400 and 1650 < seen["0"] < 1950 and 750 < seen["1"] < 1050, seen
    assert "2" not in seen
    # the same endpoint always lands in the same place
    again = [run(idx, endpoint(f"ep{i}"), event(endpoint_id=f"ep{i}", event_id="other")) for i in range(50)]
    first = [run(idx, endpoint(f"ep{i}"), event(endpoint_id=f"ep{i}")) for i in range(50)]
    assert [d and d.treatment_id for d in again] == [d and d.treatment_id for d in first]
