"""kill -9 a worker mid-stream and restart it: nothing lost, nothing counted twice.

Every triggering event ends with its decision (a repeat after a crash carries the identical
DecisionId and body), no cap is exceeded, and the decisions and final cap state equal a
replay of the same events through the pure core (PRODUCT.md semantics 4).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from engine.launcher import WorkerProcess
from engine.scenario import BlogScenario, app_event
from tests.integration.replay import decisions_of, index_of, read_topic, replay
from tests.integration.workers import pinpoint_client, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINT_COUNT = int(os.environ.get("INAPP_CRASH_ENDPOINTS", "200"))
NOISE_EVENTS = int(os.environ.get("INAPP_CRASH_NOISE_EVENTS", "4000"))
KILLS = int(os.environ.get("INAPP_CRASH_KILLS", "1"))
LIMITS = {"Session": 2, "Daily": 0, "Total": 3}


def _setup(client) -> tuple[str, str, dict[str, dict]]:  # noqa: ANN001
    app_id = client.create_app(CreateApplicationRequest={"Name": "crash"})["ApplicationResponse"]["Id"]
    endpoints = {
        f"ep-{i:04d}": {"ChannelType": "IN_APP", "Attributes": {"plan": ["pro"]},
                        "Demographic": {"Timezone": "UTC"}}
        for i in range(ENDPOINT_COUNT)
    }
    items = [{"Id": eid, **body} for eid, body in endpoints.items()]
    for start in range(0, len(items), 100):
        client.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items[start:start + 100]})
    segment_id = client.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "pro", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}}},
    })["SegmentResponse"]["Id"]
    end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign_id = client.create_campaign(ApplicationId=app_id, WriteCampaignRequest={
        "Name": "checkout-nudge", "SegmentId": segment_id, "Priority": 2, "Limits": LIMITS,
        "Schedule": {"StartTime": "IMMEDIATE", "EndTime": end, "Frequency": "IN_APP_EVENT",
                     "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
                         "EventType": {"DimensionType": "INCLUSIVE", "Values": ["checkout"]}}}},
        "MessageConfiguration": {"InAppMessage": {"Layout": "MIDDLE_BANNER", "Content": [{
            "BodyConfig": {"Alignment": "LEFT", "Body": "Free shipping today", "TextColor": "#000000"}}]}},
    })["CampaignResponse"]["Id"]
    return app_id, campaign_id, {eid: {**body, "Id": eid, "ApplicationId": app_id} for eid, body in endpoints.items()}


def _events(app_id: str) -> list[dict]:
    start = datetime.now(UTC)
    events = []
    for i in range(ENDPOINT_COUNT):
        for j in range(i % 9):  # 0..8 triggering events, sessions of four
            events.append(app_event(app_id, f"ep-{i:04d}", "checkout", session_id=f"s-{j // 4}",
                                    at=start + timedelta(milliseconds=j)))
    for n in range(NOISE_EVENTS):
        events.append(app_event(app_id, f"ep-{n % ENDPOINT_COUNT:04d}", "page_view", at=start))
    return events


def test_kill_minus_nine_loses_nothing_and_never_exceeds_caps(deployment):
    worker = WorkerProcess(deployment).start()
    try:
        client = pinpoint_client(worker.base_url)
        app_id, campaign_id, endpoints = _setup(client)
        events = _events(app_id)
        blog = BlogScenario(client, deployment.bootstrap, prefix=deployment.prefix, app_id=app_id)
        asyncio.run(blog.publish(events))
        expected, expected_caps = replay(asyncio.run(index_of(deployment.bootstrap, deployment.prefix)),
                                         endpoints, events)
        assert expected, "the workload must trigger decisions"
        decisions_topic = f"{deployment.prefix}decisions"

        kills = 0
        for kill in range(KILLS):
            target = len(expected) * (kill + 1) // (KILLS + 1)
            wait_until(lambda: len(decisions_of(asyncio.run(read_topic(deployment.bootstrap, decisions_topic, idle=0.5))))
                       >= target, timeout=240, interval=1.0, message=f"{target} decisions before kill {kill + 1}")
            worker.kill()
            kills += 1
            worker = WorkerProcess(deployment).start()

        def all_decided() -> bool:
            seen = {d["DecisionId"] for d in decisions_of(asyncio.run(read_topic(deployment.bootstrap, decisions_topic, idle=0.5)))}
            return seen >= set(expected)

        wait_until(all_decided, timeout=300, interval=2.0, message="every expected decision")
        time.sleep(3)  # anything extra would show up now
        observed = [d for d in decisions_of(asyncio.run(read_topic(deployment.bootstrap, decisions_topic)))
                    if d["ApplicationId"] == app_id]

        by_id = defaultdict(list)
        for decision in observed:
            by_id[decision["DecisionId"]].append(decision)
        assert set(by_id) == set(expected), "decisions differ from the pure core's replay"
        for decision_id, copies in by_id.items():
            bodies = {tuple(sorted((k, str(v)) for k, v in c.items() if k != "DecidedAt")) for c in copies}
            assert len(bodies) == 1, f"repeats of {decision_id} differ"
            assert copies[0]["Remaining"] == expected[decision_id]["Remaining"]
        per_endpoint = Counter(d["EndpointId"] for d in (copies[0] for copies in by_id.values()))
        assert max(per_endpoint.values()) <= LIMITS["Total"], "a total cap was exceeded"
        per_session = Counter((d["EndpointId"], d["EventId"]) for d in observed)
        assert per_session  # every decision names its event

        # final cap state equals the replay: remaining TotalCap as GetInAppMessages reports it
        client = pinpoint_client(worker.base_url)
        for endpoint_id in sorted(endpoints)[:60]:
            used = expected_caps[endpoint_id].total_count(campaign_id) if endpoint_id in expected_caps else 0
            listed = client.get_in_app_messages(ApplicationId=app_id, EndpointId=endpoint_id)
            campaigns = listed["InAppMessagesResponse"]["InAppMessageCampaigns"]
            if used >= LIMITS["Total"]:
                assert campaigns == [], f"{endpoint_id} exhausted its total cap but still lists the campaign"
            else:
                assert [c["TotalCap"] for c in campaigns] == [LIMITS["Total"] - used], endpoint_id
        duplicates = len(observed) - len(by_id)
        print(f"\ncrash test: {len(events)} events, {kills} kill -9, {len(by_id)} decisions checked, "
              f"{duplicates} repeats after crashes (identical DecisionIds), max per endpoint {max(per_endpoint.values())}")
    finally:
        worker.stop()
