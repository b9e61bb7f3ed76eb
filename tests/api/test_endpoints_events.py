"""Endpoints, PutEvents, GetInAppMessages and campaign KPIs through boto3 (reference §6, §9, §11)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson
import pytest

from tests.api.harness import RunningApi
from tests.api.samples import campaign_request, event, segment_request

ENDPOINT = {
    "ChannelType": "IN_APP",
    "Demographic": {"Platform": "web", "Timezone": "Europe/Paris"},
    "Attributes": {"plan": ["gold"]},
    "User": {"UserId": "u-1"},
    "RequestId": "req-1",
}


@pytest.fixture
def app_id(pinpoint: Any) -> str:
    return pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"]


def test_update_get_delete_endpoint(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    answer = pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="ep 1", EndpointRequest=ENDPOINT)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["MessageBody"] == {"Message": "Accepted", "RequestID": answer["ResponseMetadata"]["RequestId"]}
    record = api.backend.endpoint_writes[-1]
    assert (record.ApplicationId, record.EndpointId, record.Op) == (app_id, "ep 1", "upsert")
    assert record.Endpoint == ENDPOINT and record.RequestId == "req-1"

    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ep 1")["EndpointResponse"]
    assert endpoint["Id"] == "ep 1" and endpoint["ApplicationId"] == app_id
    assert endpoint["ChannelType"] == "IN_APP" and endpoint["Attributes"] == {"plan": ["gold"]}
    assert endpoint["EndpointStatus"] == "ACTIVE" and endpoint["CohortId"].isdigit()

    deleted = pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="ep 1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["EndpointResponse"] == endpoint
    assert api.backend.endpoint_writes[-1].Op == "delete"
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ep 1")
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="ep 1")


def test_endpoint_validation(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="ep", EndpointRequest={"ChannelType": "PIGEON"})
    assert "ChannelType" in raised.value.response["Error"]["Message"]
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="ep", EndpointRequest={"OptOut": "SOME"})
    assert "OptOut" in raised.value.response["Error"]["Message"]
    # "/" arrives percent-encoded as %2F and is decoded: Pinpoint forbids it in endpoint ids
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="a/b", EndpointRequest=ENDPOINT)
    assert "EndpointId" in raised.value.response["Error"]["Message"]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.update_endpoint(ApplicationId="0" * 32, EndpointId="ep", EndpointRequest=ENDPOINT)


@pytest.mark.parametrize(
    "endpoint, reason",
    [
        ({"Attributes": {"plan": ["x" * 101]}}, "Attributes.plan: values are at most 100"),
        ({"Attributes": {"p" * 51: ["x"]}}, "attribute names are at most 50"),
        ({"User": {"UserAttributes": {"tags": [str(i) for i in range(51)]}}}, "User.UserAttributes.tags: at most 50 values"),
        ({"Attributes": {f"a{i}": ["x" * 100] * 5 for i in range(40)}}, "at most 15360 bytes"),
    ],
)
def test_endpoint_quotas(api: RunningApi, pinpoint: Any, app_id: str, endpoint: dict[str, Any], reason: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException, match=reason):
        pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="ep", EndpointRequest=endpoint)
    answer = pinpoint.put_events(
        ApplicationId=app_id, EventsRequest={"BatchItem": {"ep": {"Endpoint": endpoint, "Events": {"e": event()}}}}
    )["EventsResponse"]["Results"]["ep"]
    assert answer["EndpointItemResponse"]["StatusCode"] == 400 and reason in answer["EndpointItemResponse"]["Message"]
    assert api.backend.endpoint_writes == [] and "Endpoint" not in api.backend.events[0]


def test_update_endpoints_batch(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    items = [{"Id": f"ep-{i}", "ChannelType": "IN_APP"} for i in range(100)]
    answer = pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["MessageBody"]["Message"] == "Accepted"
    assert {r.EndpointId for r in api.backend.endpoint_writes} == {f"ep-{i}" for i in range(100)}
    assert all("Id" not in r.Endpoint for r in api.backend.endpoint_writes)
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ep-7")["EndpointResponse"]["ChannelType"] == "IN_APP"

    with pytest.raises(pinpoint.exceptions.BadRequestException, match="at most 100"):
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items + [{"Id": "one-more"}]})
    with pytest.raises(pinpoint.exceptions.BadRequestException, match=r"Item\[1\].Id"):
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": [{"Id": "a"}, {"ChannelType": "IN_APP"}]})
    with pytest.raises(pinpoint.exceptions.BadRequestException, match=r"Item\[0\]\.ChannelType"):
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": [{"Id": "a", "ChannelType": "FAX"}]})


def test_put_events_accepts_valid_and_reports_invalid_per_item(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    request = {
        "BatchItem": {
            "ep-1": {
                "Endpoint": {},
                "Events": {
                    "ev-ok": event(),
                    "ev-no-type": event(EventType=""),
                    "ev-bad-time": event(Timestamp="not a time"),
                    "ev-long-value": event(Attributes={"k": "v" * 201}),
                },
            },
            "ep-2": {"Endpoint": {"ChannelType": "IN_APP", "Demographic": {"Platform": "ios"}}, "Events": {"ev-2": event("_session.start")}},
            "ep-3": {"Endpoint": {"ChannelType": "CARRIER_PIGEON"}, "Events": {"ev-3": event()}},
        }
    }
    answer = pinpoint.put_events(ApplicationId=app_id, EventsRequest=request)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    results = answer["EventsResponse"]["Results"]
    assert results["ep-1"]["EndpointItemResponse"] == {"StatusCode": 202, "Message": "Accepted"}
    events_1 = results["ep-1"]["EventsItemResponse"]
    assert events_1["ev-ok"] == {"StatusCode": 202, "Message": "Accepted"}
    assert events_1["ev-no-type"]["StatusCode"] == 400 and "EventType" in events_1["ev-no-type"]["Message"]
    assert events_1["ev-bad-time"]["StatusCode"] == 400 and "Timestamp" in events_1["ev-bad-time"]["Message"]
    assert events_1["ev-long-value"]["StatusCode"] == 400
    assert results["ep-2"]["EventsItemResponse"]["ev-2"]["StatusCode"] == 202
    assert results["ep-3"]["EndpointItemResponse"]["StatusCode"] == 400
    assert "ChannelType" in results["ep-3"]["EndpointItemResponse"]["Message"]
    assert results["ep-3"]["EventsItemResponse"]["ev-3"]["StatusCode"] == 202

    envelopes = {e["EventId"]: e for e in api.backend.events}
    assert set(envelopes) == {"ev-ok", "ev-2", "ev-3"}
    ok = envelopes["ev-ok"]
    assert ok["ApplicationId"] == app_id and ok["EndpointId"] == "ep-1"
    assert ok["Event"]["EventType"] == "my_first_event" and ok["Event"]["Metrics"] == {"price": 12.0}
    assert "Endpoint" not in ok  # an empty Endpoint changes nothing
    assert envelopes["ev-2"]["Endpoint"] == {"ChannelType": "IN_APP", "Demographic": {"Platform": "ios"}}
    assert "Endpoint" not in envelopes["ev-3"]


def test_put_events_limits(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    many = {"BatchItem": {"ep": {"Endpoint": {}, "Events": {f"e{i}": event() for i in range(101)}}}}
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="at most 100 events"):
        pinpoint.put_events(ApplicationId=app_id, EventsRequest=many)
    assert api.backend.events == []

    attrs = {f"k{i}": "v" * 190 for i in range(40)}
    big_events = {f"e{i}": event(Attributes=attrs) for i in range(100)}
    big = {"BatchItem": {f"ep{j}": {"Endpoint": {}, "Events": big_events} for j in range(1)}}
    size = len(orjson.dumps(big))
    assert size < 4 * 1024 * 1024
    # same events, padded past 4 MB with a long unknown member
    big["Padding"] = "x" * (4 * 1024 * 1024)
    answer = api.raw("POST", f"/v1/apps/{app_id}/events", orjson.dumps(big))
    assert answer.status == 413
    assert answer.headers["x-amzn-errortype"] == "PayloadTooLargeException"
    assert api.backend.events == []

    # boto3 sees the modelled exception for an oversized body
    huge = {"BatchItem": {"ep": {"Endpoint": {}, "Events": {f"e{i}": event(Attributes={"k": "v" * 50_000}) for i in range(90)}}}}
    with pytest.raises(pinpoint.exceptions.PayloadTooLargeException):
        pinpoint.put_events(ApplicationId=app_id, EventsRequest=huge)
    assert api.backend.events == []

    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.put_events(ApplicationId="0" * 32, EventsRequest={"BatchItem": {}})


def test_put_events_with_endpoint_data_only_upserts_the_endpoint(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    pinpoint.put_events(
        ApplicationId=app_id, EventsRequest={"BatchItem": {"ep-9": {"Endpoint": {"ChannelType": "IN_APP"}, "Events": {}}}}
    )
    assert api.backend.endpoint_writes[-1].EndpointId == "ep-9"
    assert pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ep-9")["EndpointResponse"]["ChannelType"] == "IN_APP"


def test_get_in_app_messages(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    message = {
        "CampaignId": "0123456789abcdef0123456789abcdef", "TreatmentId": "0", "Priority": 1,
        "SessionCap": 1, "DailyCap": 0, "TotalCap": 3,
        "Schedule": {"EndDate": "2030-01-01T00:00:00.000Z", "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
            "EventType": {"DimensionType": "INCLUSIVE", "Values": ["promo"]}, "Attributes": {}, "Metrics": {}}}},
        "InAppMessage": {"Layout": "MIDDLE_BANNER", "CustomConfig": {}, "Content": [{"BackgroundColor": "#f8e71c"}]},
    }
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId="ep 1/x".replace("/", "-"), EndpointRequest=ENDPOINT)
    api.backend.messages[(app_id, "ep 1-x")] = [message]
    answer = pinpoint.get_in_app_messages(ApplicationId=app_id, EndpointId="ep 1-x")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["InAppMessagesResponse"] == {"InAppMessageCampaigns": [message]}

    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_in_app_messages(ApplicationId=app_id, EndpointId="unknown")
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_in_app_messages(ApplicationId="0" * 32, EndpointId="ep 1-x")


def test_campaign_date_range_kpi(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    segment = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))["CampaignResponse"]
    rows = {"Rows": [{"GroupedBys": [], "Values": [{"Key": "Displays", "Type": "Double", "Value": "42.0"}]}]}
    api.backend.kpis[(app_id, campaign["Id"], "inapp-displays")] = rows
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    end = datetime(2026, 11, 28, 12, 30, tzinfo=timezone.utc)
    answer = pinpoint.get_campaign_date_range_kpi(
        ApplicationId=app_id, CampaignId=campaign["Id"], KpiName="inapp-displays", StartTime=start, EndTime=end
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    kpi = answer["CampaignDateRangeKpiResponse"]
    assert kpi["ApplicationId"] == app_id and kpi["CampaignId"] == campaign["Id"]
    assert kpi["KpiName"] == "inapp-displays" and kpi["KpiResult"] == rows
    assert kpi["StartTime"] == start and kpi["EndTime"] == end
    assert api.backend.kpi_calls[-1] == (app_id, campaign["Id"], "inapp-displays", start, end)

    for name in ("inapp-clicks-grouped-by-date", "inapp-unique-displays", "inapp-dismissals", "inapp-decisions"):
        result = pinpoint.get_campaign_date_range_kpi(ApplicationId=app_id, CampaignId=campaign["Id"], KpiName=name)
        assert result["CampaignDateRangeKpiResponse"]["KpiResult"] == {"Rows": []}

    with pytest.raises(pinpoint.exceptions.BadRequestException, match="not supported"):
        pinpoint.get_campaign_date_range_kpi(ApplicationId=app_id, CampaignId=campaign["Id"], KpiName="email-open-rate")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="start-time"):
        pinpoint.get_campaign_date_range_kpi(
            ApplicationId=app_id, CampaignId=campaign["Id"], KpiName="inapp-displays", StartTime=end, EndTime=start
        )
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_campaign_date_range_kpi(ApplicationId=app_id, CampaignId="c" * 32, KpiName="inapp-displays")
