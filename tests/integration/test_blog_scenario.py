"""The AWS blog's retailer scenario end to end: boto3 for resources, Kafka for events."""

from __future__ import annotations

import pytest

from engine.scenario import CAMPAIGN_NAME, BlogScenario, app_event
from tests.integration.workers import pinpoint_client, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture(scope="module")
def scenario(worker, deployment):
    blog = BlogScenario(pinpoint_client(worker.base_url), deployment.bootstrap, prefix=deployment.prefix)
    blog.create_resources()
    return blog


async def test_only_the_big_spender_gets_the_campaign(scenario):
    launches = [app_event(scenario.app_id, endpoint_id, "app_launch") for endpoint_id in ("111", "222")]
    await scenario.publish(launches)
    decisions = await scenario.collect_decisions(expected=1)
    assert [d["EndpointId"] for d in decisions] == ["111"]
    decision = decisions[0]
    assert decision["CampaignId"] == scenario.campaign_id
    assert decision["EventId"] == launches[0]["EventId"]
    assert decision["Priority"] == 1 and decision["TreatmentId"] == "0"
    assert decision["InAppMessage"]["Layout"] == "TOP_BANNER"
    assert decision["InAppMessage"]["Content"][0]["PrimaryBtn"]["DefaultConfig"]["Text"] == "Claim offer"
    assert decision["InAppMessage"]["CustomConfig"] == {"promo": "TOP20"}
    assert decision["Remaining"] == {"Session": 9, "Daily": 9, "Total": 9}


async def test_engagement_flows_back_into_caps_and_kpis(scenario):
    decision = scenario.decisions[0]
    await scenario.publish([
        scenario.engagement(decision, "_inapp.message_displayed"),
        scenario.engagement(decision, "_inapp.message_clicked"),
    ])
    wait_until(lambda: scenario.kpi("inapp-clicks") == 1.0, timeout=60, message="the click KPI")
    assert scenario.kpi("inapp-displays") == 1.0
    assert scenario.kpi("inapp-decisions") == 1.0
    messages = scenario.in_app_messages("111")
    assert [m["CampaignId"] for m in messages] == [scenario.campaign_id]
    # the display confirmed the decision: counted once, so 9 of 10 remain
    assert messages[0]["DailyCap"] == 9 and messages[0]["TotalCap"] == 9
    assert scenario.in_app_messages("222") == []


def test_the_campaign_reads_back_through_boto3(scenario):
    campaign = scenario.pinpoint.get_campaign(ApplicationId=scenario.app_id, CampaignId=scenario.campaign_id)
    assert campaign["CampaignResponse"]["Name"] == CAMPAIGN_NAME
    assert campaign["CampaignResponse"]["Limits"] == {"Daily": 10, "Session": 10, "Total": 10}


async def test_the_blog_through_put_events_and_get_in_app_messages(scenario):
    """The same flow as Amplify drives it: PutEvents in, GetInAppMessages out."""
    client = scenario.pinpoint
    new_endpoint = "333"
    launch = app_event(scenario.app_id, new_endpoint, "app_launch")
    answer = client.put_events(ApplicationId=scenario.app_id, EventsRequest={"BatchItem": {
        new_endpoint: {
            "Endpoint": {"ChannelType": "IN_APP", "Metrics": {"LastPurchaseValue": 900.0}},
            "Events": {launch["EventId"]: launch["Event"]},
        }}})
    result = answer["EventsResponse"]["Results"][new_endpoint]
    assert result["EventsItemResponse"][launch["EventId"]]["StatusCode"] == 202
    # the endpoint data that came with the event made 333 a big spender: it gets the message
    decisions = await scenario.collect_decisions(expected=2, quiet=1.0)
    mine = [d for d in decisions if d["EndpointId"] == new_endpoint]
    assert [d["EventId"] for d in mine] == [launch["EventId"]]
    endpoint = client.get_endpoint(ApplicationId=scenario.app_id, EndpointId=new_endpoint)["EndpointResponse"]
    assert endpoint["Metrics"] == {"LastPurchaseValue": 900.0} and endpoint["ChannelType"] == "IN_APP"
    listing = scenario.in_app_messages(new_endpoint)
    assert [(m["CampaignId"], m["DailyCap"], m["TotalCap"], m["SessionCap"]) for m in listing] == [
        (scenario.campaign_id, 9, 9, 10)]
    assert listing[0]["InAppMessage"]["Layout"] == "TOP_BANNER"
    assert listing[0]["Schedule"]["EventFilter"]["Dimensions"]["EventType"]["Values"] == ["app_launch"]
