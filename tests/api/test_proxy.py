"""Partitioned reads are answered by the owning worker (architecture.md, engine shape).

Two API servers, each with its own in-memory backend: keys starting with "a-" belong to
server A, keys starting with "b-" to server B. A request sent to the wrong server is
proxied unchanged to the owner, which verifies the client's own SigV4 signature and answers;
the answer is relayed verbatim.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.harness import ACCESS_KEY, OTHER_KEY, OTHER_SECRET, SECRET_KEY, RunningApi, api_settings
from tests.api.memory_backend import InMemoryBackend
from tests.api.samples import campaign_request, segment_request


def make_pair(api_factory: Any, settings_b: Any = None) -> tuple[RunningApi, RunningApi]:
    urls: dict[str, str] = {}

    def owner_for(me: str) -> Any:
        def owner(what: str, key: str) -> str | None:
            for name in ("a", "b"):
                if key.startswith(f"{name}-") and name != me:
                    return urls[name]
            if key.startswith("loop-"):  # both think the other one owns it
                return urls["b" if me == "a" else "a"]
            return None

        return owner

    a = api_factory(InMemoryBackend(name="a", owner=owner_for("a")))
    b = api_factory(InMemoryBackend(name="b", owner=owner_for("b")), settings_b)
    urls.update(a=a.base_url, b=b.base_url)
    # the control plane is on every worker: same app, segment and campaign on both
    client = a.client()
    app_id = client.create_app(CreateApplicationRequest={"Name": "shared"})["ApplicationResponse"]["Id"]
    segment = client.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]
    client.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))
    b.backend.records = a.backend.records
    return a, b


@pytest.fixture
def pair(api_factory: Any) -> tuple[RunningApi, RunningApi]:
    return make_pair(api_factory)


def _app_id(api: RunningApi) -> str:
    return api.backend.control_records("app")[0][0]


def _campaign_id(api: RunningApi) -> str:
    return api.backend.control_records("campaign")[0][1].current["Id"]


def test_get_endpoint_is_answered_by_the_owner(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    b.backend.endpoints[(app_id, "b-1")] = {"Id": "b-1", "ApplicationId": app_id, "ChannelType": "IN_APP", "CohortId": "7"}
    answer = a.client().get_endpoint(ApplicationId=app_id, EndpointId="b-1")
    assert answer["EndpointResponse"]["ChannelType"] == "IN_APP"
    assert b.backend.served == ["GetEndpoint:b-1"]
    assert a.backend.served == []

    # the owner's error is relayed as is, and boto3 parses it
    with pytest.raises(a.client().exceptions.NotFoundException):
        a.client().get_endpoint(ApplicationId=app_id, EndpointId="b-unknown")
    assert b.backend.served[-1] == "GetEndpoint:b-unknown"

    # keys owned locally are not proxied
    a.backend.endpoints[(app_id, "a-1")] = {"Id": "a-1", "ApplicationId": app_id}
    assert b.client().get_endpoint(ApplicationId=app_id, EndpointId="a-1")["EndpointResponse"]["Id"] == "a-1"
    assert a.backend.served == ["GetEndpoint:a-1"]


def test_request_id_and_body_come_from_the_owner(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    b.backend.endpoints[(app_id, "b-2 x")] = {"Id": "b-2 x", "ApplicationId": app_id}
    path = f"/v1/apps/{app_id}/endpoints/b-2%20x"  # the encoded path reaches B as sent
    via_a = a.raw("GET", path)
    direct = b.raw("GET", path)
    assert via_a.status == direct.status == 200
    assert via_a.body == direct.body
    assert via_a.headers["x-amzn-requestid"] != direct.headers["x-amzn-requestid"]
    assert b.backend.served == ["GetEndpoint:b-2 x", "GetEndpoint:b-2 x"]


def test_in_app_messages_and_kpis_are_proxied(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    b.backend.endpoints[(app_id, "b-7")] = {"Id": "b-7", "ApplicationId": app_id}
    b.backend.messages[(app_id, "b-7")] = [{"CampaignId": "c" * 32, "TreatmentId": "0"}]
    messages = a.client().get_in_app_messages(ApplicationId=app_id, EndpointId="b-7")
    assert messages["InAppMessagesResponse"]["InAppMessageCampaigns"] == [{"CampaignId": "c" * 32, "TreatmentId": "0"}]
    assert b.backend.served[-1] == "GetInAppMessages:b-7"

    # campaign metrics are keyed by campaign id; make B own this campaign's metrics
    campaign_id = _campaign_id(a)
    a.backend.owner = lambda what, key: b.base_url if what == "campaign-metrics" else None
    b.backend.kpis[(app_id, campaign_id, "inapp-clicks")] = {"Rows": [{"GroupedBys": [], "Values": [{"Key": "Clicks", "Type": "Double", "Value": "3.0"}]}]}
    kpi = a.client().get_campaign_date_range_kpi(ApplicationId=app_id, CampaignId=campaign_id, KpiName="inapp-clicks")
    assert kpi["CampaignDateRangeKpiResponse"]["KpiResult"]["Rows"][0]["Values"][0]["Value"] == "3.0"
    assert a.backend.kpi_calls == [] and len(b.backend.kpi_calls) == 1


def test_delete_endpoint_is_proxied(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    b.backend.endpoints[(app_id, "b-9")] = {"Id": "b-9", "ApplicationId": app_id}
    deleted = a.client().delete_endpoint(ApplicationId=app_id, EndpointId="b-9")
    assert deleted["EndpointResponse"]["Id"] == "b-9"
    assert [r.Op for r in b.backend.endpoint_writes] == ["delete"]
    assert a.backend.endpoint_writes == []


def test_a_misrouted_request_is_proxied_only_once(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    with pytest.raises(a.client().exceptions.NotFoundException):
        a.client().get_endpoint(ApplicationId=app_id, EndpointId="loop-1")
    # A forwarded to B; B, seeing the marker, answered itself instead of bouncing it back
    assert a.backend.served == []
    assert b.backend.served == ["GetEndpoint:loop-1"]


def test_bad_signatures_are_refused_before_proxying(pair: tuple[RunningApi, RunningApi]) -> None:
    a, b = pair
    app_id = _app_id(a)
    answer = a.raw("GET", f"/v1/apps/{app_id}/endpoints/b-1", secret_key="wrong")
    assert answer.status == 403
    assert b.backend.served == []


def test_owner_verifies_the_forwarded_signature(api_factory: Any) -> None:
    """A knows two keys, B only the first: through A, a request signed with the first key is
    answered by B (the forwarded signature is still valid there), one signed with the second
    is refused by B — the owner verifies the client's signature itself."""
    a, b = make_pair(api_factory, api_settings(credentials=f"{ACCESS_KEY}:{SECRET_KEY}"))
    app_id = _app_id(a)
    b.backend.endpoints[(app_id, "b-1")] = {"Id": "b-1", "ApplicationId": app_id}
    assert a.client().get_endpoint(ApplicationId=app_id, EndpointId="b-1")["EndpointResponse"]["Id"] == "b-1"
    other = a.client(access_key=OTHER_KEY, secret_key=OTHER_SECRET)
    assert other.get_apps()["ResponseMetadata"]["HTTPStatusCode"] == 200  # A accepts this key
    with pytest.raises(other.exceptions.ForbiddenException, match="unknown access key"):
        other.get_endpoint(ApplicationId=app_id, EndpointId="b-1")
    assert b.backend.served == ["GetEndpoint:b-1"]
