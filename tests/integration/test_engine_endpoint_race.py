"""An event published right after UpdateEndpoint (which answers 202 before the worker has
applied it) still finds its endpoint: the events agent waits for the co-partitioned
endpoints topic to catch up before calling an endpoint unknown."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def test_events_right_after_update_endpoint_are_decided(worker, deployment):
    client = pinpoint_client(worker.base_url)
    app = PinpointApp.create(client, "race")
    app.campaign("hello", ["hello"])
    topics = EngineTopics(deployment.bootstrap, deployment.prefix)
    endpoint_ids = [f"fresh-{uuid.uuid4().hex[:8]}" for _ in range(30)]
    events = []
    for endpoint_id in endpoint_ids:
        client.update_endpoint(ApplicationId=app.app_id, EndpointId=endpoint_id,
                               EndpointRequest={"ChannelType": "IN_APP"})
        events.append(event(app.app_id, endpoint_id, "hello"))
    decisions = await topics.decide(events)
    assert sorted(d["EndpointId"] for d in decisions) == sorted(endpoint_ids)
    letters = await topics.dead_letters()
    assert not [dl for dl in letters if any(eid in (dl.get("Key") or "") for eid in endpoint_ids)]
