"""Campaigns through boto3 (reference §3, §4.2, §8)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.harness import RunningApi
from tests.api.samples import campaign_request, in_days, segment_request, template_request

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def app_id(pinpoint: Any) -> str:
    return pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"]


@pytest.fixture
def segment(pinpoint: Any, app_id: str) -> dict[str, Any]:
    return pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]


def test_campaign_lifecycle_and_versions(api: RunningApi, pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    created = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    campaign = created["CampaignResponse"]
    assert HEX32.match(campaign["Id"])
    assert campaign["Arn"].endswith(f":apps/{app_id}/campaigns/{campaign['Id']}")
    assert campaign["ApplicationId"] == app_id
    assert campaign["SegmentId"] == segment["Id"] and campaign["SegmentVersion"] == 1
    assert campaign["Version"] == 1
    assert campaign["State"] == {"CampaignStatus": "EXECUTING"}
    assert campaign["HoldoutPercent"] == 0 and campaign["IsPaused"] is False
    assert campaign["Priority"] == 3 and campaign["Limits"] == {"Session": 1, "Daily": 0, "Total": 0}
    assert campaign["tags"] == {"team": "growth"}
    assert campaign["Schedule"]["EventFilter"]["Dimensions"]["EventType"]["Values"] == ["my_first_event"]
    assert campaign["MessageConfiguration"]["InAppMessage"]["Layout"] == "TOP_BANNER"
    assert campaign["CreationDate"] == campaign["LastModifiedDate"]

    key = f"{app_id}/{campaign['Id']}"
    stored = api.backend.control_record("campaign", key)
    assert stored.Kind == "campaign" and len(stored.Versions) == 1
    assert stored.current["Id"] == campaign["Id"]

    updated = pinpoint.update_campaign(
        ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest={"IsPaused": True, "Priority": 1, "tags": {"x": "y"}}
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    v2 = updated["CampaignResponse"]
    assert v2["Version"] == 2 and v2["IsPaused"] is True and v2["Priority"] == 1
    assert v2["State"] == {"CampaignStatus": "PAUSED"}
    assert v2["Schedule"] == campaign["Schedule"]  # members not named in the update are kept
    assert v2["tags"] == {"team": "growth"}  # tags are ignored on update
    assert v2["CreationDate"] == campaign["CreationDate"]

    assert pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])["CampaignResponse"] == v2
    first = pinpoint.get_campaign_version(ApplicationId=app_id, CampaignId=campaign["Id"], Version="1")["CampaignResponse"]
    assert first["Version"] == 1 and first["IsPaused"] is False
    versions = pinpoint.get_campaign_versions(ApplicationId=app_id, CampaignId=campaign["Id"])["CampaignsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [1, 2]
    assert len(api.backend.control_record("campaign", key).Versions) == 2

    listing = pinpoint.get_campaigns(ApplicationId=app_id)["CampaignsResponse"]
    assert listing["Item"] == [v2]

    deleted = pinpoint.delete_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert deleted["CampaignResponse"]["Id"] == campaign["Id"]
    assert api.backend.control_record("campaign", key) is None
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])
    assert pinpoint.get_campaigns(ApplicationId=app_id)["CampaignsResponse"]["Item"] == []


def test_campaign_states_follow_schedule_and_segment(pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    future = campaign_request(segment["Id"])
    future["Schedule"] |= {"StartTime": in_days(2), "EndTime": in_days(3)}
    scheduled = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=future)["CampaignResponse"]
    assert scheduled["State"]["CampaignStatus"] == "SCHEDULED"

    past = campaign_request(segment["Id"])
    past["Schedule"] |= {"StartTime": in_days(-3), "EndTime": in_days(-2)}
    completed = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=past)["CampaignResponse"]
    assert completed["State"]["CampaignStatus"] == "COMPLETED"

    immediate = campaign_request(segment["Id"])
    immediate["Schedule"]["StartTime"] = "IMMEDIATE"
    running = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=immediate)["CampaignResponse"]
    assert running["State"]["CampaignStatus"] == "EXECUTING"

    pinpoint.delete_segment(ApplicationId=app_id, SegmentId=segment["Id"])
    orphan = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=running["Id"])["CampaignResponse"]
    assert orphan["State"]["CampaignStatus"] == "DELETED"


def test_campaign_with_template_and_treatments(pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    pinpoint.create_in_app_template(TemplateName="banner", InAppTemplateRequest=template_request())
    body = campaign_request(
        segment["Id"],
        MessageConfiguration=None,
        TemplateConfiguration={"InAppTemplate": {"Name": "banner"}},
        HoldoutPercent=10,
        AdditionalTreatments=[
            {"SizePercent": 30, "TreatmentName": "B", "TemplateConfiguration": {"InAppTemplate": {"Name": "banner", "Version": "1"}}}
        ],
    )
    del body["MessageConfiguration"]
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=body)["CampaignResponse"]
    assert campaign["TemplateConfiguration"] == {"InAppTemplate": {"Name": "banner"}}
    treatment = campaign["AdditionalTreatments"][0]
    assert treatment["Id"] == "1" and treatment["SizePercent"] == 30 and treatment["TreatmentName"] == "B"
    assert treatment["State"]["CampaignStatus"] == "EXECUTING"
    assert campaign["DefaultState"]["CampaignStatus"] == "EXECUTING"
    assert campaign["HoldoutPercent"] == 10


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"SegmentId": "f" * 32}, "SegmentId"),
        ({"SegmentVersion": 4}, "SegmentVersion"),
        ({"TemplateConfiguration": {"InAppTemplate": {"Name": "no-such-template"}}}, "TemplateConfiguration.InAppTemplate.Name"),
        (
            {"AdditionalTreatments": [{"SizePercent": 10, "TemplateConfiguration": {"InAppTemplate": {"Name": "nope"}}}]},
            "AdditionalTreatments[0].TemplateConfiguration.InAppTemplate.Name",
        ),
    ],
)
def test_campaign_references_must_exist(pinpoint: Any, app_id: str, segment: dict[str, Any], changes: dict[str, Any], field: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"], **changes))
    assert field in raised.value.response["Error"]["Message"]


def _with_schedule(segment_id: str, **schedule: Any) -> dict[str, Any]:
    body = campaign_request(segment_id)
    body["Schedule"] |= schedule
    return body


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda s: _with_schedule(s, Frequency="NOPE"), "Schedule.Frequency"),
        (lambda s: _with_schedule(s, StartTime="yesterday"), "Schedule.StartTime"),
        (lambda s: _with_schedule(s, EndTime="2000-01-01T00:00:00Z"), "EndTime must be later"),
        (lambda s: _with_schedule(s, QuietTime={"Start": "7pm", "End": "07:00"}), "Schedule.QuietTime.Start"),
        (lambda s: campaign_request(s, HoldoutPercent=101), "HoldoutPercent"),
        (lambda s: campaign_request(s, Limits={"Daily": 1000}), "Limits.Daily"),
        (lambda s: campaign_request(s, MessageConfiguration={"InAppMessage": {"Layout": "DIAGONAL"}}), "MessageConfiguration.InAppMessage.Layout"),
        (lambda s: campaign_request(s, HoldoutPercent=60, AdditionalTreatments=[{"SizePercent": 50}]), "AdditionalTreatments"),
    ],
)
def test_invalid_campaigns_name_the_field(pinpoint: Any, app_id: str, segment: dict[str, Any], make: Any, field: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=make(segment["Id"]))
    assert field in raised.value.response["Error"]["Message"]


def test_create_campaign_requires_segment_and_schedule(pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    body = campaign_request(segment["Id"])
    del body["SegmentId"]
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="SegmentId"):
        pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=body)
    body = campaign_request(segment["Id"])
    del body["Schedule"]
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="Schedule"):
        pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=body)


def test_campaign_the_engine_cannot_compile_is_rolled_back(api: RunningApi, pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))["CampaignResponse"]
    api.backend.uncompilable[campaign["Id"]] = "the engine refuses this one"
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="the engine refuses this one"):
        pinpoint.update_campaign(ApplicationId=app_id, CampaignId=campaign["Id"], WriteCampaignRequest={"Priority": 2})
    kept = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign["Id"])["CampaignResponse"]
    assert kept["Version"] == 1 and kept["Priority"] == 3


def test_unknown_campaigns_are_not_found(pinpoint: Any, app_id: str, segment: dict[str, Any]) -> None:
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment["Id"]))["CampaignResponse"]
    for call in (
        lambda: pinpoint.get_campaign(ApplicationId=app_id, CampaignId="a" * 32),
        lambda: pinpoint.update_campaign(ApplicationId=app_id, CampaignId="a" * 32, WriteCampaignRequest={}),
        lambda: pinpoint.delete_campaign(ApplicationId=app_id, CampaignId="a" * 32),
        lambda: pinpoint.get_campaign_version(ApplicationId=app_id, CampaignId=campaign["Id"], Version="3"),
        lambda: pinpoint.get_campaign_versions(ApplicationId=app_id, CampaignId="a" * 32),
        lambda: pinpoint.get_campaigns(ApplicationId="b" * 32),
        lambda: pinpoint.create_campaign(ApplicationId="b" * 32, WriteCampaignRequest=campaign_request(segment["Id"])),
    ):
        with pytest.raises(pinpoint.exceptions.NotFoundException):
            call()
