"""Wire conventions shared by every operation (reference §2, §2.6, §3.2) and throttling."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from aiohttp import web

from engine.api.throttle import DEFAULT_RATE, OPERATION_RATES, Throttle
from tests.api.harness import RunningApi
from tests.api.samples import segment_request


def _error(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, answer.body
    assert answer.headers["x-amzn-errortype"] == code
    body = answer.json()
    assert set(body) == {"Message", "RequestID"}
    assert body["RequestID"] == answer.headers["x-amzn-requestid"]
    return dict(body)


def test_every_response_carries_a_request_id(api: RunningApi) -> None:
    ok = api.raw("GET", "/v1/apps")
    assert ok.status == 200 and uuid.UUID(ok.headers["x-amzn-requestid"])
    assert ok.headers["content-type"].startswith("application/json")
    assert ok.json() == {"Item": []}
    for answer in (api.raw("GET", "/v1/apps/" + "a" * 32), api.raw("GET", "/v1/apps", sign=False)):
        assert uuid.UUID(answer.headers["x-amzn-requestid"])
    ids = {api.raw("GET", "/v1/apps").headers["x-amzn-requestid"] for _ in range(3)}
    assert len(ids) == 3


def test_boto3_sees_the_request_id(pinpoint: Any) -> None:
    answer = pinpoint.get_apps()
    assert uuid.UUID(answer["ResponseMetadata"]["RequestId"])
    with pytest.raises(pinpoint.exceptions.NotFoundException) as raised:
        pinpoint.get_app(ApplicationId="nope")
    error = raised.value.response
    assert error["Error"]["Code"] == "NotFoundException"
    assert uuid.UUID(error["ResponseMetadata"]["RequestId"])


def test_unknown_route_and_wrong_method(api: RunningApi) -> None:
    _error(api.raw("GET", "/v1/nothing-here"), 404, "NotFoundException")
    _error(api.raw("PATCH", "/v1/apps", b"{}"), 405, "MethodNotAllowedException")
    _error(api.raw("POST", "/v1/apps/" + "a" * 32, b"{}"), 405, "MethodNotAllowedException")


def test_invalid_json_bodies_are_bad_requests(api: RunningApi) -> None:
    for body in (b"{", b"[]", b'"text"', b"\xff\xfe", b""):
        _error(api.raw("POST", "/v1/apps", body, {"Content-Type": "application/json"}), 400, "BadRequestException")


def test_body_size_is_capped_before_buffering(api: RunningApi) -> None:
    big = b'{"Name": "' + b"x" * (7 * 1024 * 1024) + b'"}'
    _error(api.raw("POST", "/v1/apps", big), 413, "PayloadTooLargeException")
    assert api.backend.control_writes == []


def test_routes_outside_v1_are_left_alone(api_factory: Any) -> None:
    """Faust's own web views share the application; the API must not wrap them."""

    async def status(_request: web.Request) -> web.Response:
        return web.Response(text="faust view")

    api = api_factory(prepare=lambda app: app.router.add_get("/status", status))
    answer = api.raw("GET", "/status", sign=False)
    assert answer.status == 200 and answer.body == b"faust view"
    assert "x-amzn-requestid" not in answer.headers
    assert api.raw("GET", "/v1/apps").status == 200


def test_throttled_operation_answers_429(api_factory: Any) -> None:
    api = api_factory(rates={"CreateSegment": 2})
    client = api.client()
    app_id = client.create_app(CreateApplicationRequest={"Name": "a"})["ApplicationResponse"]["Id"]
    client.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())
    client.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())
    # other operations have their own buckets
    assert client.get_segments(ApplicationId=app_id)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_default_rates_are_pinpoints_quotas() -> None:
    now = [0.0]
    throttle = Throttle(clock=lambda: now[0])
    assert throttle.rate("CreateCampaign") == 25 and throttle.rate("GetEndpoint") == 7000
    assert throttle.rate("PutEvents") == 7000 and throttle.rate("DeleteEndpoint") == 1000
    assert throttle.rate("GetInAppMessages") == 5000 and throttle.rate("GetApps") == DEFAULT_RATE == 300
    assert set(OPERATION_RATES) >= {"UpdateEndpoint", "UpdateEndpointsBatch", "UpdateSegment", "DeleteSegment"}
    assert sum(throttle.allow("CreateCampaign") for _ in range(30)) == 25  # burst = rate
    assert not throttle.allow("CreateCampaign")
    now[0] += 0.2  # refills at 25/s
    assert sum(throttle.allow("CreateCampaign") for _ in range(10)) == 5


def test_routes_match_the_botocore_model() -> None:
    """Method, path and success status of every operation are botocore's (reference §3)."""
    import re

    import botocore.session

    from engine.api.routes import OPERATIONS

    model = botocore.session.get_session().get_service_model("pinpoint")
    labels = {"app_id": "application-id", "endpoint_id": "endpoint-id", "segment_id": "segment-id",
              "campaign_id": "campaign-id", "template_name": "template-name", "template_type": "template-type",
              "kpi_name": "kpi-name", "version": "version", "job_id": "job-id"}
    required = {
        "CreateApp", "GetApp", "GetApps", "DeleteApp", "GetApplicationSettings", "UpdateApplicationSettings",
        "UpdateEndpoint", "UpdateEndpointsBatch", "GetEndpoint", "DeleteEndpoint", "CreateSegment", "GetSegment",
        "GetSegments", "UpdateSegment", "DeleteSegment", "GetSegmentVersion", "GetSegmentVersions",
        "CreateInAppTemplate", "GetInAppTemplate", "UpdateInAppTemplate", "DeleteInAppTemplate",
        "ListTemplateVersions", "CreateCampaign", "GetCampaign", "GetCampaigns", "UpdateCampaign", "DeleteCampaign",
        "GetCampaignVersion", "GetCampaignVersions", "PutEvents", "GetInAppMessages", "GetCampaignDateRangeKpi",
    }
    assert required <= {op.name for op in OPERATIONS}
    for op in OPERATIONS:
        http = model.operation_model(op.name).http
        path = re.sub(r"\{(\w+)\}", lambda m: "{" + labels[m.group(1)] + "}", op.path)
        assert (op.method, path, op.status) == (http["method"], http["requestUri"], http["responseCode"]), op.name
