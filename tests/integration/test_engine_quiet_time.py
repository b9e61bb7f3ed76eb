"""Quiet time in the endpoint's local time, and event time (PRODUCT.md semantics 5, 7).

The campaign's ``QuietTime``, else the app's; evaluated at the event's ``Timestamp`` in the
endpoint's ``Demographic.Timezone``; the window may wrap midnight; bounds are inclusive
(reference §9.2 step 9); no valid timezone → no quiet time. Events inside get no decision,
events outside do. Every probe names a wall-clock time in the endpoint's zone on one day
in the past. Event time also judges the schedule window; a ``Timestamp`` far ahead of
receive time is clamped to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, at, event, stamp
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DAY = (datetime.now(UTC) - timedelta(days=5)).date()
APP_QUIET = {"Start": "22:00", "End": "07:00"}  # wraps midnight

ENDPOINTS = {
    "new-york": "America/New_York",
    "kolkata": "Asia/Kolkata",  # UTC+05:30
    "no-zone": None,
    "bad-zone": "Nowhere/Atlantis",
}


@dataclass(frozen=True)
class Probe:
    campaign: str
    endpoint: str
    local: str  # HH:MM in the endpoint's zone (UTC for endpoints without a valid zone)
    decided: bool

    def instant(self) -> datetime:
        hour, minute = (int(part) for part in self.local.split(":"))
        return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=wall_zone(ENDPOINTS[self.endpoint]))


def wall_zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name) if name else UTC
    except ZoneInfoNotFoundError:
        return UTC


def probes(campaign: str, endpoint: str, quiet: str, loud: str) -> list[Probe]:
    return ([Probe(campaign, endpoint, t, False) for t in quiet.split()]
            + [Probe(campaign, endpoint, t, True) for t in loud.split()])


PROBES = [
    # the app's window, 22:00–07:00 local
    *probes("app-window", "new-york", quiet="22:00 23:30 00:00 03:15 06:59 07:00",
            # 20:30 and 21:59 in New York are already quiet hours in UTC: local time counts
            loud="20:30 21:59 07:01 12:00 16:00"),
    *probes("app-window", "kolkata", quiet="22:10 02:00 06:55",
            loud="21:50 07:05 13:00"),  # 07:05 in Kolkata is 01:35 UTC
    *probes("app-window", "no-zone", quiet="", loud="23:30 03:00 12:00"),
    *probes("app-window", "bad-zone", quiet="", loud="23:30 03:00"),
    # the campaign's own window replaces the app's
    *probes("own-window", "new-york", quiet="12:00 12:45 13:30", loud="11:59 13:31 23:30 03:00"),
    *probes("own-wrapping", "new-york", quiet="23:30 23:59 00:00 00:30", loud="22:30 23:29 00:31 06:00"),
]

CAMPAIGNS = {
    "app-window": None,
    "own-window": {"Start": "12:00", "End": "13:30"},
    "own-wrapping": {"Start": "23:30", "End": "00:30"},
}


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "quiet")
    created.endpoints({eid: {"Demographic": {"Timezone": tz}} if tz else {} for eid, tz in ENDPOINTS.items()})
    created.settings(QuietTime=APP_QUIET)
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


@pytest.fixture(scope="module")
async def outcome(app, topics):
    campaigns = {name: app.campaign(name, [f"qt_{name}"], quiet_time=window) for name, window in CAMPAIGNS.items()}
    published = [event(app.app_id, p.endpoint, f"qt_{p.campaign}", when=p.instant()) for p in PROBES]
    decisions = await topics.decide(published)
    decided = {d["EventId"]: d["CampaignId"] for d in decisions}
    return campaigns, [(p, decided.get(e["EventId"])) for p, e in zip(PROBES, published, strict=True)]


@pytest.mark.parametrize("campaign", list(CAMPAIGNS))
def test_events_in_quiet_time_get_no_decision_and_the_others_do(campaign, outcome):
    campaigns, results = outcome
    got = [(p.endpoint, p.local, decided) for p, decided in results if p.campaign == campaign]
    expected = [(p.endpoint, p.local, campaigns[campaign] if p.decided else None)
                for p in PROBES if p.campaign == campaign]
    assert got == expected


async def test_an_event_in_quiet_time_uses_up_no_cap(app, topics):
    app.campaign("quiet-capped", ["qt_capped"], Limits={"Total": 1})
    zone = ZoneInfo("America/New_York")
    night = [datetime(DAY.year, DAY.month, DAY.day, 23, m, tzinfo=zone) for m in (0, 10, 20)]
    noon = datetime(DAY.year, DAY.month, DAY.day, 12, 0, tzinfo=zone) + timedelta(days=1)
    events = [event(app.app_id, "new-york", "qt_capped", when=t) for t in (*night, noon, noon + timedelta(minutes=5))]
    decisions = await topics.decide(events)
    assert [d["EventId"] for d in decisions] == [events[3]["EventId"]]
    assert decisions[0]["Remaining"]["Total"] == 0


async def test_the_schedule_window_is_judged_at_event_time(app, topics):
    campaign = app.campaign("march", ["qt_march"], start="2024-03-01T00:00:00Z", end="2024-03-31T00:00:00Z")
    stamps = {"2024-02-29T23:59:59.999Z": False, "2024-03-01T00:00:00.000Z": True,  # StartTime <= t
              "2024-03-15T12:00:00.000Z": True, "2024-03-30T23:59:59.999Z": True,
              "2024-03-31T00:00:00.000Z": False}  # t < EndTime
    events = [event(app.app_id, "no-zone", "qt_march", when=at(t)) for t in stamps]
    events.append(event(app.app_id, "no-zone", "qt_march"))  # now: long over
    decisions = await topics.decide(events)
    assert [d["DecidedAt"] for d in decisions] == [t for t, inside in stamps.items() if inside]
    assert {d["CampaignId"] for d in decisions} == {campaign}


async def test_a_timestamp_far_ahead_is_clamped_to_receive_time(app, topics):
    now = datetime.now(UTC)
    app.campaign("this-month", ["qt_clamp"], start="IMMEDIATE", end=stamp(now + timedelta(days=30)))
    app.campaign("next-year", ["qt_future"], start=stamp(now + timedelta(days=365)))
    soon = now + timedelta(seconds=60)  # within the allowed skew: kept
    far = now + timedelta(days=730)  # beyond the campaign's end, were it not clamped
    kept, clamped, early = (event(app.app_id, "no-zone", "qt_clamp", when=soon + timedelta(seconds=5)),
                            event(app.app_id, "no-zone", "qt_clamp", when=far),
                            # clamped to now, an event cannot reach a campaign that has not started
                            event(app.app_id, "no-zone", "qt_future", when=now + timedelta(days=400)))
    decisions = await topics.decide([kept, clamped, early])
    assert [d["EventId"] for d in decisions] == [kept["EventId"], clamped["EventId"]]
    assert decisions[0]["DecidedAt"] == kept["Event"]["Timestamp"]
    decided_at = at(decisions[1]["DecidedAt"])
    assert now - timedelta(seconds=5) <= decided_at <= datetime.now(UTC) + timedelta(seconds=5)
