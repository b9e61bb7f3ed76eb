"""One decision per triggering event, and the right one (PRODUCT.md semantics 1).

Several campaigns of one app are triggered by the same event; the subscriber of the
decisions topic must receive exactly one decision: the lowest ``Priority`` number (absent =
least important), ties going to the earlier ``Schedule.StartTime``, then to the smaller
``CampaignId``. Each case has its own event type, so one worker serves them all.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event, header_of
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = ("p-1", "p-2", "p-3")


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "priority")
    created.endpoints({eid: {"Demographic": {"Timezone": "Europe/Berlin"}} for eid in ENDPOINTS})
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


def events_for(app: PinpointApp, event_type: str, **kwargs) -> list[dict]:
    return [event(app.app_id, eid, event_type, **kwargs) for eid in ENDPOINTS]


async def test_the_lowest_priority_number_wins(app, topics):
    app.campaign("prio-3", ["checkout"], Priority=3)
    winner = app.campaign("prio-1", ["checkout"], Priority=1)
    app.campaign("prio-2", ["checkout"], Priority=2)
    app.campaign("prio-absent", ["checkout"])
    decisions = await topics.decide(events_for(app, "checkout"))
    assert [(d["EndpointId"], d["CampaignId"], d["Priority"]) for d in decisions] == [
        (eid, winner, 1) for eid in ENDPOINTS]
    assert {header_of(d) for d in decisions} == {"prio-1"}


async def test_any_priority_beats_a_campaign_without_one(app, topics):
    app.campaign("no-priority", ["browse"])
    winner = app.campaign("prio-100", ["browse"], Priority=100)
    decisions = await topics.decide(events_for(app, "browse"))
    assert [d["CampaignId"] for d in decisions] == [winner] * len(ENDPOINTS)


async def test_a_priority_tie_goes_to_the_earlier_start_even_with_the_larger_id(app, topics):
    first = app.campaign("tie-a", ["search"], Priority=2, start="2021-06-01T00:00:00Z")
    second = app.campaign("tie-b", ["search"], Priority=2, start="2021-06-01T00:00:00Z")
    # give the campaign with the larger id the earlier start: start time must beat id
    larger = max(first, second)
    schedule = app.pinpoint.get_campaign(ApplicationId=app.app_id, CampaignId=larger)["CampaignResponse"]["Schedule"]
    app.update_campaign(larger, Schedule={**schedule, "StartTime": "2021-05-01T00:00:00Z"})
    decisions = await topics.decide(events_for(app, "search"))
    assert [d["CampaignId"] for d in decisions] == [larger] * len(ENDPOINTS)


async def test_a_full_tie_goes_to_the_smaller_campaign_id(app, topics):
    ids = [app.campaign(f"same-{n}", ["share"], Priority=4, start="2022-01-01T00:00:00Z") for n in range(3)]
    decisions = await topics.decide(events_for(app, "share"))
    assert [d["CampaignId"] for d in decisions] == [min(ids)] * len(ENDPOINTS)


async def test_priority_zero_is_a_number_and_beats_one(app, topics):
    app.campaign("prio-one", ["rate"], Priority=1)
    winner = app.campaign("prio-zero", ["rate"], Priority=0)
    decisions = await topics.decide(events_for(app, "rate"))
    assert [(d["CampaignId"], d["Priority"]) for d in decisions] == [(winner, 0)] * len(ENDPOINTS)


async def test_an_ineligible_winner_yields_to_the_next_priority(app, topics):
    # the most important campaign only fires for the "vip" tier; everyone else gets the runner-up
    vip = app.campaign("vip-only", ["open"], Priority=1,
                       attributes={"tier": {"AttributeType": "INCLUSIVE", "Values": ["vip"]}})
    runner_up = app.campaign("everyone", ["open"], Priority=2)
    vip_event = event(app.app_id, "p-1", "open", attributes={"tier": "vip"})
    plain = [event(app.app_id, eid, "open", attributes={"tier": "basic"}) for eid in ("p-2", "p-3")]
    decisions = await topics.decide([vip_event, *plain])
    assert [(d["EndpointId"], d["CampaignId"]) for d in decisions] == [
        ("p-1", vip), ("p-2", runner_up), ("p-3", runner_up)]


async def test_a_winner_past_its_end_time_yields_to_the_next_priority(app, topics):
    app.campaign("ended", ["scroll"], Priority=1, start="2021-01-01T00:00:00Z", end="2021-02-01T00:00:00Z")
    live = app.campaign("live", ["scroll"], Priority=5)
    decisions = await topics.decide(events_for(app, "scroll"))
    assert [d["CampaignId"] for d in decisions] == [live] * len(ENDPOINTS)


async def test_a_capped_out_winner_yields_to_the_next_priority(app, topics):
    capped = app.campaign("capped", ["like"], Priority=1, Limits={"Total": 2})
    fallback = app.campaign("fallback", ["like"], Priority=2)
    events = [event(app.app_id, "p-1", "like") for _ in range(5)]
    decisions = await topics.decide(events)
    assert [d["CampaignId"] for d in decisions] == [capped, capped, fallback, fallback, fallback]


async def test_a_winner_in_quiet_time_yields_to_the_next_priority(app, topics):
    # p-1 is in Berlin: 03:00 there is inside the winner's quiet time, 15:00 is not
    quiet = app.campaign("quiet-at-night", ["comment"], Priority=1, quiet_time={"Start": "01:00", "End": "05:00"})
    loud = app.campaign("always", ["comment"], Priority=2)
    night = event(app.app_id, "p-1", "comment", when=datetime.fromisoformat("2025-01-10T03:00:00+01:00"))
    day = event(app.app_id, "p-1", "comment", when=datetime.fromisoformat("2025-01-10T15:00:00+01:00"))
    decisions = await topics.decide([night, day])
    assert [d["CampaignId"] for d in decisions] == [loud, quiet]


async def test_every_triggering_event_gets_exactly_one_decision(app, topics):
    # five eligible campaigns, thirty events: thirty decisions, one per event
    for n in range(5):
        app.campaign(f"many-{n}", ["tap"], Priority=10 + n)
    events = [event(app.app_id, ENDPOINTS[n % 3], "tap") for n in range(30)]
    decisions = await topics.decide(events)
    assert [d["EventId"] for d in decisions] == [e["EventId"] for e in events]
    assert {d["Priority"] for d in decisions} == {10}
    assert len({d["DecisionId"] for d in decisions}) == 30
