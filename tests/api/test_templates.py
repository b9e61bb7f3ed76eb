"""In-app templates and their versions through boto3 (reference §3, §4.6, §12)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.harness import RunningApi
from tests.api.samples import template_request


def _header(template: dict[str, Any]) -> str:
    return template["Content"][0]["HeaderConfig"]["Header"]


def test_template_lifecycle_with_versions(api: RunningApi, pinpoint: Any) -> None:
    created = pinpoint.create_in_app_template(TemplateName="welcome", InAppTemplateRequest=template_request("v1"))
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    body = created["TemplateCreateMessageBody"]
    assert body["Arn"] == "arn:aws:mobiletargeting:us-east-1:000000000000:templates/welcome/INAPP"
    assert body["RequestID"] == created["ResponseMetadata"]["RequestId"]

    v1 = pinpoint.get_in_app_template(TemplateName="welcome")["InAppTemplateResponse"]
    assert v1["TemplateName"] == "welcome" and v1["TemplateType"] == "INAPP" and v1["Version"] == "1"
    assert v1["Layout"] == "TOP_BANNER" and _header(v1) == "v1" and v1["tags"] == {"team": "growth"}
    assert v1["CustomConfig"] == {"PromoCode": "12345"}

    # overwrite the latest version in place
    answer = pinpoint.update_in_app_template(TemplateName="welcome", InAppTemplateRequest=template_request("v1b"))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["MessageBody"]["Message"] == "Accepted"
    assert _header(pinpoint.get_in_app_template(TemplateName="welcome")["InAppTemplateResponse"]) == "v1b"

    # a new version does not become active by itself
    pinpoint.update_in_app_template(TemplateName="welcome", CreateNewVersion=True, InAppTemplateRequest=template_request("v2"))
    assert pinpoint.get_in_app_template(TemplateName="welcome")["InAppTemplateResponse"]["Version"] == "1"
    v2 = pinpoint.get_in_app_template(TemplateName="welcome", Version="2")["InAppTemplateResponse"]
    assert _header(v2) == "v2" and v2["CreationDate"] == v1["CreationDate"]

    record = api.backend.control_record("template", "welcome")
    assert record.Kind == "template" and record.ActiveVersion == 1 and len(record.Versions) == 2

    versions = pinpoint.list_template_versions(TemplateName="welcome", TemplateType="INAPP")["TemplateVersionsResponse"]
    assert [v["Version"] for v in versions["Item"]] == ["1", "2"]
    assert all(v["TemplateType"] == "INAPP" for v in versions["Item"])

    activated = pinpoint.update_template_active_version(
        TemplateName="welcome", TemplateType="INAPP", TemplateActiveVersionRequest={"Version": "2"}
    )
    assert activated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert pinpoint.get_in_app_template(TemplateName="welcome")["InAppTemplateResponse"]["Version"] == "2"

    # the active version cannot be deleted while others remain; another one can
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.delete_in_app_template(TemplateName="welcome", Version="2")
    deleted = pinpoint.delete_in_app_template(TemplateName="welcome", Version="1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_in_app_template(TemplateName="welcome", Version="1")

    listed = pinpoint.list_templates()["TemplatesResponse"]["Item"]
    assert [t["TemplateName"] for t in listed] == ["welcome"]

    pinpoint.delete_in_app_template(TemplateName="welcome")
    assert api.backend.control_record("template", "welcome") is None
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_in_app_template(TemplateName="welcome")


def test_template_version_rules(pinpoint: Any) -> None:
    pinpoint.create_in_app_template(TemplateName="promo", InAppTemplateRequest=template_request())
    # both flags together is a 400 (reference §14 test vector)
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.update_in_app_template(
            TemplateName="promo", CreateNewVersion=True, Version="1", InAppTemplateRequest={"Layout": "OVERLAYS"}
        )
    pinpoint.update_in_app_template(TemplateName="promo", CreateNewVersion=True, InAppTemplateRequest=template_request())
    # only the latest version can be overwritten
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.update_in_app_template(TemplateName="promo", Version="1", InAppTemplateRequest=template_request())
    pinpoint.update_in_app_template(TemplateName="promo", Version="2", InAppTemplateRequest=template_request("x"))
    # duplicate names are refused
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.create_in_app_template(TemplateName="promo", InAppTemplateRequest=template_request())


def test_unknown_templates_are_not_found(pinpoint: Any) -> None:
    for call in (
        lambda: pinpoint.get_in_app_template(TemplateName="missing"),
        lambda: pinpoint.update_in_app_template(TemplateName="missing", InAppTemplateRequest=template_request()),
        lambda: pinpoint.delete_in_app_template(TemplateName="missing"),
        lambda: pinpoint.list_template_versions(TemplateName="missing", TemplateType="INAPP"),
    ):
        with pytest.raises(pinpoint.exceptions.NotFoundException):
            call()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"Layout": "SIDEWAYS"}, "Layout"),
        ({"Layout": "TOP_BANNER", "Content": [{"HeaderConfig": {"Alignment": "MIDDLE", "Header": "h", "TextColor": "#fff"}}]}, "Content[0].HeaderConfig.Alignment"),
        ({"Layout": "CAROUSEL", "Content": [{}] * 6}, "Content"),
        ({"Layout": "TOP_BANNER", "Content": [{"PrimaryBtn": {"DefaultConfig": {"ButtonAction": "JUMP", "Text": "t"}}}]}, "Content[0].PrimaryBtn.DefaultConfig.ButtonAction"),
    ],
)
def test_invalid_templates_name_the_field(pinpoint: Any, body: dict[str, Any], field: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.create_in_app_template(TemplateName="bad", InAppTemplateRequest=body)
    assert field in raised.value.response["Error"]["Message"]


def test_template_names_are_checked(pinpoint: Any) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.create_in_app_template(TemplateName="-starts-with-dash", InAppTemplateRequest=template_request())
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.create_in_app_template(TemplateName="a" * 129, InAppTemplateRequest=template_request())
