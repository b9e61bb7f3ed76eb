"""Apps and project settings through a real boto3 client (reference §3, §4.7, §5)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.harness import RunningApi
from tests.api.samples import campaign_request, segment_request

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_create_get_delete_app(pinpoint: Any) -> None:
    created = pinpoint.create_app(CreateApplicationRequest={"Name": "retail", "tags": {"env": "dev"}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    app = created["ApplicationResponse"]
    assert HEX32.match(app["Id"])
    assert app["Arn"] == f"arn:aws:mobiletargeting:us-east-1:000000000000:apps/{app['Id']}"
    assert app["Name"] == "retail" and app["tags"] == {"env": "dev"}
    assert ISO_MS.match(app["CreationDate"])

    fetched = pinpoint.get_app(ApplicationId=app["Id"])
    assert fetched["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert fetched["ApplicationResponse"] == app

    deleted = pinpoint.delete_app(ApplicationId=app["Id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert deleted["ApplicationResponse"] == app
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_app(ApplicationId=app["Id"])


def test_create_app_without_name_is_bad_request(api: RunningApi) -> None:
    answer = api.raw("POST", "/v1/apps", b'{"Name": ""}')
    assert answer.status == 400
    assert answer.headers["x-amzn-errortype"] == "BadRequestException"
    assert "Name" in answer.json()["Message"]


def test_get_apps_paginates_with_opaque_token(pinpoint: Any) -> None:
    ids = {pinpoint.create_app(CreateApplicationRequest={"Name": f"app{i}"})["ApplicationResponse"]["Id"] for i in range(5)}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        kwargs = {"PageSize": "2"} | ({"Token": token} if token else {})
        page = pinpoint.get_apps(**kwargs)["ApplicationsResponse"]
        pages += 1
        assert len(page["Item"]) <= 2
        seen += [a["Id"] for a in page["Item"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_bad_page_size_and_token_are_bad_requests(pinpoint: Any) -> None:
    for kwargs in ({"PageSize": "zero"}, {"PageSize": "0"}, {"Token": "not-a-token!"}):
        with pytest.raises(pinpoint.exceptions.BadRequestException):
            pinpoint.get_apps(**kwargs)


def test_delete_app_deletes_its_segments_and_campaigns(api: RunningApi, pinpoint: Any) -> None:
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "doomed"})["ApplicationResponse"]["Id"]
    other = pinpoint.create_app(CreateApplicationRequest={"Name": "kept"})["ApplicationResponse"]["Id"]
    segment = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]
    kept_segment = pinpoint.create_segment(ApplicationId=other, WriteSegmentRequest=segment_request())["SegmentResponse"]
    pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))

    pinpoint.delete_app(ApplicationId=app_id)

    assert api.backend.control_records("segment", f"{app_id}/") == []
    assert api.backend.control_records("campaign", f"{app_id}/") == []
    assert pinpoint.get_segment(ApplicationId=other, SegmentId=kept_segment["Id"])["SegmentResponse"] == kept_segment
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_segments(ApplicationId=app_id)


def test_application_settings_round_trip(pinpoint: Any) -> None:
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"]
    fresh = pinpoint.get_application_settings(ApplicationId=app_id)["ApplicationSettingsResource"]
    assert fresh["ApplicationId"] == app_id and ISO_MS.match(fresh["LastModifiedDate"])

    updated = pinpoint.update_application_settings(
        ApplicationId=app_id,
        WriteApplicationSettingsRequest={
            "Limits": {"Daily": 5, "Total": 20, "Session": 2},
            "QuietTime": {"Start": "22:00", "End": "07:00"},
            "CloudWatchMetricsEnabled": True,
        },
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    settings = updated["ApplicationSettingsResource"]
    assert settings["Limits"] == {"Daily": 5, "Total": 20, "Session": 2}
    assert settings["QuietTime"] == {"Start": "22:00", "End": "07:00"}
    assert "CloudWatchMetricsEnabled" not in settings  # write-only (reference §5.2)

    # members not named in a later update are kept
    again = pinpoint.update_application_settings(
        ApplicationId=app_id, WriteApplicationSettingsRequest={"QuietTime": {"Start": "23:00", "End": "06:00"}}
    )["ApplicationSettingsResource"]
    assert again["Limits"] == {"Daily": 5, "Total": 20, "Session": 2}
    assert again["QuietTime"]["Start"] == "23:00"
    assert pinpoint.get_application_settings(ApplicationId=app_id)["ApplicationSettingsResource"] == again


@pytest.mark.parametrize(
    "body, field",
    [
        ({"Limits": {"Daily": 101}}, "Limits.Daily"),
        ({"Limits": {"MessagesPerSecond": 0}}, "Limits.MessagesPerSecond"),
        ({"QuietTime": {"Start": "25:00", "End": "07:00"}}, "QuietTime.Start"),
    ],
)
def test_invalid_settings_name_the_field(pinpoint: Any, body: dict[str, Any], field: str) -> None:
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"]
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.update_application_settings(ApplicationId=app_id, WriteApplicationSettingsRequest=body)
    assert field in raised.value.response["Error"]["Message"]


def test_settings_of_unknown_app_are_not_found(pinpoint: Any) -> None:
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_application_settings(ApplicationId="0" * 32)
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.update_application_settings(ApplicationId="0" * 32, WriteApplicationSettingsRequest={})
