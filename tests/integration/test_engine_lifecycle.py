"""Campaign changes take effect while events keep flowing.

An :class:`EventFlow` publishes a triggering event every 50 ms while the test creates,
updates, pauses, resumes and deletes a campaign through boto3 (in a thread, so traffic
never stops). An API write returns once the worker applied it, so every event published
after the call returned must follow the new version; the first such decision must arrive
within seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.engine_helpers import (
    EngineTopics,
    EventFlow,
    PinpointApp,
    Sent,
    at,
    event,
    eventually,
    header_of,
    in_app_message,
    schedule,
)
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = ("life-1", "life-2")
WITHIN = 10.0  # seconds: "within seconds" for a subscriber


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "lifecycle")
    created.endpoints({eid: {"Demographic": {"Timezone": "UTC"}} for eid in ENDPOINTS})
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


def flow_of(topics: EngineTopics, app: PinpointApp, *event_types: str) -> EventFlow:
    """Events for both endpoints, cycling through ``event_types``."""
    return EventFlow(topics, lambda n: event(app.app_id, ENDPOINTS[n % 2], event_types[(n // 2) % len(event_types)]))


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Run a boto3 call in a thread (the flow keeps publishing); the loop time it returned."""
    await asyncio.to_thread(function, *args, **kwargs)
    return asyncio.get_running_loop().time()


async def first_decision(flow: EventFlow, after: float, accept: Callable[[dict[str, Any]], bool]) -> float:
    """Seconds from ``after`` until a decision accepted by ``accept`` arrived for an event
    published after ``after``."""
    loop = asyncio.get_running_loop()

    async def arrived() -> bool:
        return any(accept(d) for d in (await flow.decided(flow.since(after))).values())

    await eventually(arrived, timeout=WITHIN, message="the first decision after the change")
    return loop.time() - after


async def more_events(flow: EventFlow, after: float, count: int = 10) -> list[Sent]:
    """Wait until ``count`` events were published after ``after``; return them."""
    async def enough() -> list[Sent]:
        sent = flow.since(after)
        return sent if len(sent) >= count else []

    return await eventually(enough, message=f"{count} more events")


def event_type_of(sent: Sent) -> str:
    return str(sent.event["Event"]["EventType"])


async def test_a_new_campaign_decides_within_seconds(app, topics):
    async with flow_of(topics, app, "life_new") as flow:
        before = await more_events(flow, 0.0, 5)
        campaign_id = await asyncio.to_thread(app.campaign, "new", ["life_new"], start="IMMEDIATE")
        created = asyncio.get_running_loop().time()
        latency = await first_decision(flow, created, lambda d: True)
        after = await more_events(flow, created)
    creation = at(app.pinpoint.get_campaign(ApplicationId=app.app_id, CampaignId=campaign_id)
                  ["CampaignResponse"]["CreationDate"])
    decided = await flow.settled(flow.sent)
    assert latency < WITHIN
    # an IMMEDIATE campaign starts at its creation: older events never get it
    older = [s for s in flow.sent if at(s.event["Event"]["Timestamp"]) < creation]
    assert before and all(s in older for s in before)
    assert [s.event_id for s in older if s.event_id in decided] == []
    assert [decided.get(s.event_id, {}).get("CampaignId") for s in after] == [campaign_id] * len(after)


async def test_an_update_switches_the_content_within_seconds(app, topics):
    campaign_id = app.campaign("content", ["life_content"], header="version-1")
    async with flow_of(topics, app, "life_content") as flow:
        await first_decision(flow, 0.0, lambda d: header_of(d) == "version-1")
        updated = await call(app.update_campaign, campaign_id, MessageConfiguration=in_app_message("version-2"))
        latency = await first_decision(flow, updated, lambda d: header_of(d) == "version-2")
        after = await more_events(flow, updated)
    decided = await flow.settled(flow.sent)
    assert latency < WITHIN
    headers = [header_of(decided[s.event_id]) for s in flow.sent]  # every event decided
    assert [header_of(decided[s.event_id]) for s in after] == ["version-2"] * len(after)
    # one switch, never back: per endpoint, once version 2 is decided, version 1 is gone
    for endpoint in ENDPOINTS:
        mine = [h for s, h in zip(flow.sent, headers, strict=True) if s.event["EndpointId"] == endpoint]
        switch = mine.index("version-2")
        assert set(mine[:switch]) == {"version-1"} and set(mine[switch:]) == {"version-2"}


async def test_an_update_of_the_trigger_moves_decisions_to_the_new_event(app, topics):
    campaign_id = app.campaign("trigger", ["life_old_trigger"])
    async with flow_of(topics, app, "life_old_trigger", "life_new_trigger") as flow:
        await first_decision(flow, 0.0, lambda d: d["EventType"] == "life_old_trigger")
        updated = await call(app.update_campaign, campaign_id, Schedule=schedule(["life_new_trigger"]))
        latency = await first_decision(flow, updated, lambda d: d["EventType"] == "life_new_trigger")
        after = await more_events(flow, updated, 12)
    decided = await flow.settled(after)
    assert latency < WITHIN
    assert sorted({event_type_of(s) for s in after}) == ["life_new_trigger", "life_old_trigger"]
    assert [(event_type_of(s), s.event_id in decided) for s in after] == [
        (event_type_of(s), event_type_of(s) == "life_new_trigger") for s in after]


async def test_pausing_stops_decisions_and_resuming_restarts_them(app, topics):
    campaign_id = app.campaign("pause", ["life_pause"])
    async with flow_of(topics, app, "life_pause") as flow:
        await first_decision(flow, 0.0, lambda d: True)
        paused = await call(app.update_campaign, campaign_id, IsPaused=True)
        while_paused = await more_events(flow, paused)
        # processed before the campaign resumes: none of them may be decided
        decided_while_paused = await flow.settled(while_paused)
        resumed = await call(app.update_campaign, campaign_id, IsPaused=False)
        latency = await first_decision(flow, resumed, lambda d: True)
        after = await more_events(flow, resumed)
    decided = await flow.settled(after)
    assert decided_while_paused == {}
    assert latency < WITHIN
    assert all(s.event_id in decided for s in after)


async def test_deleting_stops_decisions(app, topics):
    campaign_id = app.campaign("delete", ["life_delete"])
    async with flow_of(topics, app, "life_delete") as flow:
        await first_decision(flow, 0.0, lambda d: True)
        deleted = await call(app.pinpoint.delete_campaign, ApplicationId=app.app_id, CampaignId=campaign_id)
        after = await more_events(flow, deleted, 20)
    decided = await flow.settled(flow.sent)
    assert any(s.event_id in decided for s in flow.sent)  # it did decide before
    assert [s.event_id for s in after if s.event_id in decided] == []
