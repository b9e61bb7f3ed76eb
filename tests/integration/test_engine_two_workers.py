"""Two workers in one group over 8 partitions: work splits, state moves, results stay exact."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from engine.launcher import Deployment, WorkerProcess
from engine.scenario import BlogScenario, app_event
from tests.integration.replay import decisions_of, read_topic
from tests.integration.workers import CREDENTIALS, pinpoint_client, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = [f"u-{i:03d}" for i in range(80)]
TOTAL_CAP = 3


async def _group_members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
        return sum(len(groups[5]) for response in described for groups in response.groups)
    finally:
        await admin.close()


def _setup(client) -> tuple[str, str]:  # noqa: ANN001
    app_id = client.create_app(CreateApplicationRequest={"Name": "two"})["ApplicationResponse"]["Id"]
    items = [{"Id": eid, "ChannelType": "IN_APP", "Attributes": {"cohort": ["a"]}} for eid in ENDPOINTS]
    client.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    segment = client.create_segment(ApplicationId=app_id, WriteSegmentRequest={
        "Name": "all", "Dimensions": {"Attributes": {"cohort": {"AttributeType": "INCLUSIVE", "Values": ["a"]}}}})
    end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign = client.create_campaign(ApplicationId=app_id, WriteCampaignRequest={
        "Name": "welcome", "SegmentId": segment["SegmentResponse"]["Id"], "Limits": {"Total": TOTAL_CAP},
        "Schedule": {"StartTime": "IMMEDIATE", "EndTime": end, "Frequency": "IN_APP_EVENT",
                     "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
                         "EventType": {"DimensionType": "INCLUSIVE", "Values": ["open"]}}}},
        "MessageConfiguration": {"InAppMessage": {"Layout": "CAROUSEL", "Content": [{
            "BodyConfig": {"Alignment": "CENTER", "Body": "hi", "TextColor": "#000000"}}]}}})
    return app_id, campaign["CampaignResponse"]["Id"]


def test_two_workers_split_the_work_and_hand_over_state(kafka_bootstrap, broker_kind, tmp_path):
    tag = uuid.uuid4().hex[:8]
    deployment = Deployment(bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"two{tag}.",
                            app_id=f"inapp-two-{tag}", partitions=8, data_dir=tmp_path,
                            embedded_broker=broker_kind == "tansu")
    first = WorkerProcess(deployment).start()
    second: WorkerProcess | None = None
    try:
        app_id, campaign_id = _setup(pinpoint_client(first.base_url))
        second = WorkerProcess(deployment).start()
        wait_until(lambda: asyncio.run(_group_members(kafka_bootstrap, deployment.app_id)) == 2,
                   timeout=120, message="both workers in the group")
        blog = BlogScenario(pinpoint_client(first.base_url), kafka_bootstrap, prefix=deployment.prefix, app_id=app_id)
        decisions_topic = f"{deployment.prefix}decisions"

        # round 1: two opens per endpoint, both workers deciding
        asyncio.run(blog.publish([app_event(app_id, e, "open") for e in ENDPOINTS for _ in range(2)]))
        wait_until(lambda: len(decisions_of(asyncio.run(read_topic(kafka_bootstrap, decisions_topic, idle=0.5))))
                   >= 2 * len(ENDPOINTS), timeout=120, message="round-1 decisions")

        # GetInAppMessages from either worker's port answers for every endpoint (routed to the owner)
        for worker in (first, second):
            client = pinpoint_client(worker.base_url)
            for endpoint_id in ENDPOINTS[:20]:
                listed = client.get_in_app_messages(ApplicationId=app_id, EndpointId=endpoint_id)
                campaigns = listed["InAppMessagesResponse"]["InAppMessageCampaigns"]
                assert [(c["CampaignId"], c["TotalCap"]) for c in campaigns] == [(campaign_id, TOTAL_CAP - 2)]

        # the second worker leaves: the first takes over its partitions and their cap state
        second.stop()
        wait_until(lambda: asyncio.run(_group_members(kafka_bootstrap, deployment.app_id)) == 1,
                   timeout=120, message="the group shrinking to one worker")
        asyncio.run(blog.publish([app_event(app_id, e, "open") for e in ENDPOINTS for _ in range(3)]))
        wait_until(lambda: len(decisions_of(asyncio.run(read_topic(kafka_bootstrap, decisions_topic, idle=0.5))))
                   >= TOTAL_CAP * len(ENDPOINTS), timeout=180, message="round-2 decisions")
        observed = decisions_of(asyncio.run(read_topic(kafka_bootstrap, decisions_topic)))
        unique = {d["DecisionId"]: d for d in observed}
        per_endpoint = Counter(d["EndpointId"] for d in unique.values())
        assert per_endpoint == {e: TOTAL_CAP for e in ENDPOINTS}, "total caps must hold across the handover"
        remaining = sorted(d["Remaining"]["Total"] for d in unique.values() if d["EndpointId"] == ENDPOINTS[0])
        assert remaining == [0, 1, 2]
    finally:
        if second is not None:
            second.stop()
        first.stop()
