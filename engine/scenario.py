"""The AWS blog's retailer scenario, as data and steps shared by ``inapp demo`` and tests.

An app; two IN_APP endpoints (LastPurchaseValue 600 and 200); the dynamic segment
LastPurchaseValue > 500; the in-app template ``my_first_in-app_message_template`` (a
banner with header, body, a claim button and custom data); the campaign
``my_first_in-app_campaign`` (priority 1, caps 10/10/10, trigger ``app_launch``). Resources
go through the Pinpoint API with boto3; events go in and decisions come out through Kafka,
as a backend app would use the engine.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

__all__ = ["BlogScenario", "TEMPLATE_NAME", "CAMPAIGN_NAME", "app_event"]

TEMPLATE_NAME = "my_first_in-app_message_template"
CAMPAIGN_NAME = "my_first_in-app_campaign"
SEGMENT_NAME = "in-app-segment"

ENDPOINTS = {
    "111": {"ChannelType": "IN_APP", "Metrics": {"LastPurchaseValue": 600.0},
            "User": {"UserId": "user-111"}, "Demographic": {"Timezone": "America/New_York"}},
    "222": {"ChannelType": "IN_APP", "Metrics": {"LastPurchaseValue": 200.0},
            "User": {"UserId": "user-222"}, "Demographic": {"Timezone": "Europe/Paris"}},
}

TEMPLATE = {
    "Layout": "TOP_BANNER",
    "Content": [{
        "BackgroundColor": "#FFFFFF",
        "HeaderConfig": {"Alignment": "CENTER", "Header": "Welcome back!", "TextColor": "#000000"},
        "BodyConfig": {"Alignment": "CENTER", "Body": "Thanks for being a top customer: 20% off today.",
                       "TextColor": "#000000"},
        "PrimaryBtn": {"DefaultConfig": {"ButtonAction": "DEEP_LINK", "Link": "retail://offers/top20",
                                         "Text": "Claim offer", "BackgroundColor": "#FF9900",
                                         "TextColor": "#FFFFFF", "BorderRadius": 4}},
    }],
    "CustomConfig": {"promo": "TOP20"},
    "TemplateDescription": "The AWS blog's first in-app message",
}


def app_event(app_id: str, endpoint_id: str, event_type: str, *, attributes: dict[str, str] | None = None,
              session_id: str = "s-1", at: datetime | None = None, event_id: str | None = None) -> dict[str, Any]:
    """An input event as backend apps publish it (PRODUCT.md "Input event")."""
    moment = at or datetime.now(UTC)
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event: dict[str, Any] = {"EventType": event_type, "Timestamp": stamp,
                             "Session": {"Id": session_id, "StartTimestamp": stamp}}
    if attributes:
        event["Attributes"] = attributes
    return {"ApplicationId": app_id, "EndpointId": endpoint_id,
            "EventId": event_id or uuid.uuid4().hex, "Event": event}


@dataclass
class BlogScenario:
    """Runs the scenario's steps against one engine (its API client and its Kafka)."""

    pinpoint: Any  # boto3 pinpoint client
    bootstrap: str
    prefix: str = "inapp."
    app_id: str = ""
    segment_id: str = ""
    campaign_id: str = ""
    decisions: list[dict[str, Any]] = field(default_factory=list)

    # -- resources through the Pinpoint API -------------------------------------------
    def create_resources(self) -> None:
        app = self.pinpoint.create_app(CreateApplicationRequest={"Name": "retail-demo"})
        self.app_id = app["ApplicationResponse"]["Id"]
        self.pinpoint.update_endpoints_batch(
            ApplicationId=self.app_id,
            EndpointBatchRequest={"Item": [{"Id": eid, **body} for eid, body in ENDPOINTS.items()]},
        )
        segment = self.pinpoint.create_segment(
            ApplicationId=self.app_id,
            WriteSegmentRequest={"Name": SEGMENT_NAME, "Dimensions": {"Metrics": {
                "LastPurchaseValue": {"ComparisonOperator": "GREATER_THAN", "Value": 500.0}}}},
        )
        self.segment_id = segment["SegmentResponse"]["Id"]
        self.pinpoint.create_in_app_template(TemplateName=TEMPLATE_NAME, InAppTemplateRequest=TEMPLATE)
        end = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        campaign = self.pinpoint.create_campaign(
            ApplicationId=self.app_id,
            WriteCampaignRequest={
                "Name": CAMPAIGN_NAME,
                "SegmentId": self.segment_id,
                "Priority": 1,
                "Limits": {"Daily": 10, "Session": 10, "Total": 10},
                "Schedule": {
                    "StartTime": "IMMEDIATE",
                    "EndTime": end,
                    "Frequency": "IN_APP_EVENT",
                    "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["app_launch"]}}},
                },
                "TemplateConfiguration": {"InAppTemplate": {"Name": TEMPLATE_NAME}},
            },
        )
        self.campaign_id = campaign["CampaignResponse"]["Id"]

    # -- events in, decisions out through Kafka ---------------------------------------
    async def publish(self, events: list[dict[str, Any]]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5)
        await producer.start()
        try:
            for event in events:
                await producer.send(f"{self.prefix}events", orjson.dumps(event), key=event["EndpointId"].encode())
            await producer.flush()
        finally:
            await producer.stop()

    async def collect_decisions(self, expected: int, timeout: float = 30.0, quiet: float = 3.0) -> list[dict[str, Any]]:
        """Decisions for this app from the start of the topic: ``expected`` of them, then
        ``quiet`` more seconds to catch any that should not be there."""
        consumer = AIOKafkaConsumer(
            f"{self.prefix}decisions", bootstrap_servers=self.bootstrap, group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )
        await consumer.start()
        found: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settle: float | None = None
        try:
            while loop.time() < deadline and (settle is None or loop.time() < settle):
                batches = await consumer.getmany(timeout_ms=300)
                for messages in batches.values():
                    for message in messages:
                        decision = orjson.loads(message.value)
                        if decision.get("ApplicationId") == self.app_id:
                            found.append(decision)
                if len(found) >= expected and settle is None:
                    settle = loop.time() + quiet
        finally:
            await consumer.stop()
        self.decisions = found
        return found

    def engagement(self, decision: dict[str, Any], event_type: str) -> dict[str, Any]:
        return app_event(self.app_id, decision["EndpointId"], event_type, attributes={
            "campaign_id": decision["CampaignId"], "treatment_id": decision["TreatmentId"],
            "delivery_type": "IN_APP_MESSAGE", "decision_id": decision["DecisionId"]})

    def in_app_messages(self, endpoint_id: str) -> list[dict[str, Any]]:
        response = self.pinpoint.get_in_app_messages(ApplicationId=self.app_id, EndpointId=endpoint_id)
        return response["InAppMessagesResponse"].get("InAppMessageCampaigns", [])

    def kpi(self, name: str) -> float:
        now = datetime.now(UTC)
        response = self.pinpoint.get_campaign_date_range_kpi(
            ApplicationId=self.app_id, CampaignId=self.campaign_id, KpiName=name,
            StartTime=now - timedelta(days=1), EndTime=now + timedelta(days=1),
        )
        rows = response["CampaignDateRangeKpiResponse"]["KpiResult"]["Rows"]
        return sum(float(value["Value"]) for row in rows for value in row["Values"])
