"""Caps are exact and per endpoint (PRODUCT.md semantics 4), counted over many events.

Each test publishes a run of triggering events for one endpoint and one campaign and
counts the decisions a subscriber receives: ``SessionCap`` per ``Session.Id``, ``DailyCap``
per calendar day in the endpoint's ``Demographic.Timezone`` (UTC when absent or invalid),
``TotalCap`` per endpoint; 0 = unlimited; a campaign's ``Limits`` over the app's. Event
timestamps lie in the past (event time drives days, semantics 7), so campaigns start in
the past too. ``Remaining`` in each decision counts down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event, header_of, in_app_message
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# a UTC midnight some days back: every event of this module is in the past
DAY = (datetime.now(UTC) - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
NEXT_DAY = DAY + timedelta(days=1)

ENDPOINTS = {
    "session": {"Demographic": {"Timezone": "Europe/Lisbon"}},
    "tokyo": {"Demographic": {"Timezone": "Asia/Tokyo"}},  # UTC+9, no DST
    "tokyo-2": {"Demographic": {"Timezone": "Asia/Tokyo"}},
    "no-zone": {},
    "bad-zone": {"Demographic": {"Timezone": "Mars/Olympus_Mons"}},
    "total": {"Demographic": {"Timezone": "America/Chicago"}},
    "all-caps": {"Demographic": {"Timezone": "UTC"}},
    "unlimited": {"Demographic": {"Timezone": "UTC"}},
    "engaged": {"Demographic": {"Timezone": "UTC"}},
}


@pytest.fixture(scope="module")
def pinpoint(worker):
    return pinpoint_client(worker.base_url)


@pytest.fixture(scope="module")
def app(pinpoint) -> PinpointApp:
    created = PinpointApp.create(pinpoint, "caps")
    created.endpoints(ENDPOINTS)
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


def remaining(decisions: list[dict], which: str) -> list[int | None]:
    return [d["Remaining"][which] for d in decisions]


def decided_indexes(events: list[dict], decisions: list[dict]) -> list[int]:
    ids = [e["EventId"] for e in events]
    return [ids.index(d["EventId"]) for d in decisions]


async def test_session_cap_counts_per_session_id(app, topics):
    campaign = app.campaign("session-cap", ["cap_session"], Limits={"Session": 3})
    events = []
    for n, (session, count) in enumerate((("s-a", 8), ("s-b", 8), ("s-c", 2))):
        started = DAY + timedelta(hours=9 + n)
        events += [event(app.app_id, "session", "cap_session", session_id=session, session_start=started,
                         when=started + timedelta(minutes=i)) for i in range(count)]
    decisions = await topics.decide(events)
    assert [d["CampaignId"] for d in decisions] == [campaign] * 8
    assert decided_indexes(events, decisions) == [0, 1, 2, 8, 9, 10, 16, 17]
    assert remaining(decisions, "Session") == [2, 1, 0, 2, 1, 0, 2, 1]
    assert remaining(decisions, "Daily") == [None] * 8 and remaining(decisions, "Total") == [None] * 8


def straddling(app: PinpointApp, endpoint: str, midnight: datetime, event_type: str) -> list[dict]:
    """Four events in the 20 minutes before ``midnight`` and four in the 20 after."""
    offsets = [-20, -15, -10, -5, 5, 10, 15, 20]
    return [event(app.app_id, endpoint, event_type, when=midnight + timedelta(minutes=m)) for m in offsets]


async def test_daily_cap_resets_at_the_endpoints_local_midnight(app, topics):
    campaign = app.campaign("daily-cap", ["cap_daily"], Limits={"Daily": 2})
    tokyo_midnight = DAY + timedelta(hours=15)  # 00:00 in Tokyo is 15:00 UTC the day before
    tokyo = straddling(app, "tokyo", tokyo_midnight, "cap_daily")
    decisions = await topics.decide(tokyo)
    assert [d["CampaignId"] for d in decisions] == [campaign] * 4
    assert decided_indexes(tokyo, decisions) == [0, 1, 4, 5]
    assert remaining(decisions, "Daily") == [1, 0, 1, 0]


async def test_utc_midnight_is_no_new_day_for_an_endpoint_in_tokyo(app, topics):
    app.campaign("daily-cap-utc", ["cap_daily_utc"], Limits={"Daily": 2})
    events = straddling(app, "tokyo-2", NEXT_DAY, "cap_daily_utc")  # 08:40–09:20 in Tokyo
    decisions = await topics.decide(events)
    assert decided_indexes(events, decisions) == [0, 1]


@pytest.mark.parametrize("endpoint", ["no-zone", "bad-zone"])
async def test_without_a_valid_zone_the_day_is_the_utc_day(app, topics, endpoint):
    app.campaign(f"daily-{endpoint}", [f"cap_{endpoint}"], Limits={"Daily": 2})
    # Tokyo's midnight changes nothing here; UTC midnight starts a new day
    events = straddling(app, endpoint, DAY + timedelta(hours=15), f"cap_{endpoint}")
    events += straddling(app, endpoint, NEXT_DAY, f"cap_{endpoint}")
    decisions = await topics.decide(events)
    assert decided_indexes(events, decisions) == [0, 1, 12, 13]
    assert remaining(decisions, "Daily") == [1, 0, 1, 0]


async def test_total_cap_holds_across_sessions_and_days(app, topics):
    app.campaign("total-cap", ["cap_total"], Limits={"Total": 5})
    events = [event(app.app_id, "total", "cap_total", session_id=f"s-{n // 4}",
                    session_start=DAY + timedelta(days=n // 6, hours=n // 4),
                    when=DAY + timedelta(days=n // 6, hours=n // 4, minutes=n))
              for n in range(12)]
    decisions = await topics.decide(events)
    assert decided_indexes(events, decisions) == [0, 1, 2, 3, 4]
    assert remaining(decisions, "Total") == [4, 3, 2, 1, 0]


async def test_session_daily_and_total_caps_together(app, topics):
    app.campaign("all-caps", ["cap_all"], Limits={"Session": 2, "Daily": 3, "Total": 4})
    plan = [(DAY, "a", 3), (DAY, "b", 3), (NEXT_DAY, "c", 3), (NEXT_DAY, "d", 2)]
    events = []
    for n, (day, session, count) in enumerate(plan):
        started = day + timedelta(hours=8 + n)
        events += [event(app.app_id, "all-caps", "cap_all", session_id=session, session_start=started,
                         when=started + timedelta(minutes=i)) for i in range(count)]
    decisions = await topics.decide(events)
    # day 1: session a gives 2 (session cap), session b 1 (daily cap 3); day 2: session c
    # gives 1 (total cap 4); session d nothing
    assert decided_indexes(events, decisions) == [0, 1, 3, 6]
    assert [tuple(d["Remaining"].values()) for d in decisions] == [
        (1, 2, 3), (0, 1, 2), (1, 0, 1), (1, 2, 0)]


async def test_zero_limits_mean_unlimited(app, topics):
    app.campaign("unlimited", ["cap_zero"], Limits={"Session": 0, "Daily": 0, "Total": 0})
    events = [event(app.app_id, "unlimited", "cap_zero", when=DAY + timedelta(minutes=n)) for n in range(40)]
    decisions = await topics.decide(events)
    assert len(decisions) == 40
    assert {tuple(d["Remaining"].values()) for d in decisions} == {(None, None, None)}


async def test_a_confirmed_display_is_not_counted_again_but_a_client_side_one_is(app, topics):
    campaign = app.campaign("engaged", ["cap_engaged"], Limits={"Total": 4})
    [first] = await topics.decide([event(app.app_id, "engaged", "cap_engaged")])
    assert first["Remaining"]["Total"] == 3
    confirm = {"campaign_id": campaign, "treatment_id": first["TreatmentId"], "decision_id": first["DecisionId"]}
    engagement = [
        event(app.app_id, "engaged", "_inapp.message_displayed", attributes=confirm),
        event(app.app_id, "engaged", "_inapp.message_displayed", attributes=confirm),  # a repeat
        # a client that decided on its own after GetInAppMessages: counts once
        event(app.app_id, "engaged", "_inapp.message_displayed",
              attributes={"campaign_id": campaign, "treatment_id": "0"}),
    ]
    assert await topics.decide(engagement) == []
    more = [event(app.app_id, "engaged", "cap_engaged") for _ in range(5)]
    decisions = await topics.decide(more)
    assert remaining(decisions, "Total") == [1, 0]


async def test_editing_a_campaign_keeps_its_counts(app, topics):
    campaign = app.campaign("edited", ["cap_edited"], Limits={"Total": 2})
    events = [event(app.app_id, "total", "cap_edited", when=DAY + timedelta(hours=n)) for n in range(3)]
    assert remaining(await topics.decide(events), "Total") == [1, 0]
    app.update_campaign(campaign, MessageConfiguration=in_app_message("edited v2"))
    events = [event(app.app_id, "total", "cap_edited", when=DAY + timedelta(hours=4 + n)) for n in range(3)]
    assert await topics.decide(events) == []  # a new version is not a new campaign
    app.update_campaign(campaign, Limits={"Total": 4})
    events = [event(app.app_id, "total", "cap_edited", when=DAY + timedelta(hours=8 + n)) for n in range(3)]
    decisions = await topics.decide(events)
    assert remaining(decisions, "Total") == [1, 0]
    assert {header_of(d) for d in decisions} == {"edited v2"}


async def test_app_limits_apply_where_a_campaign_sets_none(pinpoint, topics):
    app = PinpointApp.create(pinpoint, "caps-app-limits")
    app.endpoints({f"e-{n}": {"Demographic": {"Timezone": "UTC"}} for n in range(4)})
    app.settings(Limits={"Total": 3})
    app.campaign("inherits", ["inherit"])
    app.campaign("own-total", ["own_total"], Limits={"Total": 5})
    app.campaign("own-zero", ["own_zero"], Limits={"Total": 0})
    # only Daily is its own: Total still comes from the app
    app.campaign("own-daily", ["own_daily"], Limits={"Daily": 2})

    def run(endpoint: str, event_type: str) -> list[dict]:
        return [event(app.app_id, endpoint, event_type, when=DAY + timedelta(days=n // 4, minutes=n))
                for n in range(8)]

    cases = {"inherit": run("e-0", "inherit"), "own_total": run("e-1", "own_total"),
             "own_zero": run("e-2", "own_zero"), "own_daily": run("e-3", "own_daily")}
    decisions = await topics.decide([e for events in cases.values() for e in events])
    counts = {name: len([d for d in decisions if d["EventType"] == name]) for name in cases}
    assert counts == {"inherit": 3, "own_total": 5, "own_zero": 8, "own_daily": 3}
    assert remaining([d for d in decisions if d["EventType"] == "inherit"], "Total") == [2, 1, 0]

    # raising the app's limit lets the inheriting campaign through again
    app.settings(Limits={"Total": 6})
    later = [event(app.app_id, "e-0", "inherit", when=NEXT_DAY + timedelta(hours=1, minutes=n)) for n in range(5)]
    decisions = await topics.decide(later)
    assert remaining(decisions, "Total") == [2, 1, 0]
