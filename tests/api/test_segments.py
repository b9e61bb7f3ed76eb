"""Segments through boto3 (reference §3, §4.3, §7.1)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.harness import RunningApi
from tests.api.samples import segment_request

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def app_id(pinpoint: Any) -> str:
    return pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"]


def test_segment_lifecycle_and_versions(api: RunningApi, pinpoint: Any, app_id: str) -> None:
    created = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    segment = created["SegmentResponse"]
    assert HEX32.match(segment["Id"])
    assert segment["Arn"].endswith(f":apps/{app_id}/segments/{segment['Id']}")
    assert segment["ApplicationId"] == app_id
    assert segment["SegmentType"] == "DIMENSIONAL"
    assert segment["Version"] == 1
    assert segment["tags"] == {"team": "growth"}
    assert segment["Dimensions"]["Demographic"]["Channel"]["Values"] == ["IN_APP"]

    key = f"{app_id}/{segment['Id']}"
    stored = api.backend.control_record("segment", key)
    assert stored.Kind == "segment" and stored.Versions == [segment]

    updated = pinpoint.update_segment(
        ApplicationId=app_id,
        SegmentId=segment["Id"],
        WriteSegmentRequest={
            "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}},
            "tags": {"ignored": "on update"},
        },
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    v2 = updated["SegmentResponse"]
    assert v2["Version"] == 2
    assert v2["Name"] == "in-app users"  # not named in the update: kept
    assert v2["CreationDate"] == segment["CreationDate"]
    assert v2["LastModifiedDate"] >= segment["LastModifiedDate"]
    assert v2["tags"] == {"team": "growth"}
    assert "Demographic" not in v2["Dimensions"]

    assert pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment["Id"])["SegmentResponse"] == v2
    assert pinpoint.get_segment_version(ApplicationId=app_id, SegmentId=segment["Id"], Version="1")["SegmentResponse"] == segment
    versions = pinpoint.get_segment_versions(ApplicationId=app_id, SegmentId=segment["Id"])["SegmentsResponse"]
    assert [v["Version"] for v in versions["Item"]] == [1, 2]
    assert api.backend.control_record("segment", key).Versions == [segment, v2]

    listing = pinpoint.get_segments(ApplicationId=app_id)["SegmentsResponse"]
    assert listing["Item"] == [v2] and "NextToken" not in listing

    deleted = pinpoint.delete_segment(ApplicationId=app_id, SegmentId=segment["Id"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert deleted["SegmentResponse"] == v2
    assert api.backend.control_record("segment", key) is None
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment["Id"])
    assert pinpoint.get_segments(ApplicationId=app_id)["SegmentsResponse"]["Item"] == []


def test_segment_listing_paginates(pinpoint: Any, app_id: str) -> None:
    ids = [pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request(f"s{i}"))["SegmentResponse"]["Id"] for i in range(3)]
    first = pinpoint.get_segments(ApplicationId=app_id, PageSize="2")["SegmentsResponse"]
    second = pinpoint.get_segments(ApplicationId=app_id, PageSize="2", Token=first["NextToken"])["SegmentsResponse"]
    assert len(first["Item"]) == 2 and len(second["Item"]) == 1 and "NextToken" not in second
    assert sorted(s["Id"] for s in first["Item"] + second["Item"]) == sorted(ids)


def test_unknown_segment_and_version_are_not_found(pinpoint: Any, app_id: str) -> None:
    segment = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]
    for call in (
        lambda: pinpoint.get_segment(ApplicationId=app_id, SegmentId="f" * 32),
        lambda: pinpoint.update_segment(ApplicationId=app_id, SegmentId="f" * 32, WriteSegmentRequest=segment_request()),
        lambda: pinpoint.delete_segment(ApplicationId=app_id, SegmentId="f" * 32),
        lambda: pinpoint.get_segment_version(ApplicationId=app_id, SegmentId=segment["Id"], Version="7"),
        lambda: pinpoint.get_segment_versions(ApplicationId=app_id, SegmentId="f" * 32),
        lambda: pinpoint.create_segment(ApplicationId="0" * 32, WriteSegmentRequest=segment_request()),
    ):
        with pytest.raises(pinpoint.exceptions.NotFoundException):
            call()
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.get_segment_version(ApplicationId=app_id, SegmentId=segment["Id"], Version="latest")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"Dimensions": {"Demographic": {"Channel": {"DimensionType": "SOMETIMES", "Values": ["IN_APP"]}}}}, "Dimensions.Demographic.Channel.DimensionType"),
        ({"Dimensions": {"Attributes": {"d": {"AttributeType": "BETWEEN", "Values": ["2026-01-01"]}}}}, "Dimensions.Attributes.d"),
        ({"Dimensions": {"Metrics": {"m": {"ComparisonOperator": "ABOUT", "Value": 1}}}}, "Dimensions.Metrics.m.ComparisonOperator"),
        ({"Dimensions": {}, "SegmentGroups": {"Include": "ALL"}}, "mutually exclusive"),
        ({"SegmentGroups": {"Include": "MOST", "Groups": []}}, "SegmentGroups.Include"),
    ],
)
def test_invalid_segments_name_the_field(pinpoint: Any, app_id: str, body: dict[str, Any], field: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
        pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=body)
    assert field in raised.value.response["Error"]["Message"]


def test_segment_groups_must_reference_existing_segments(pinpoint: Any, app_id: str) -> None:
    base = pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=segment_request())["SegmentResponse"]
    good = {"SegmentGroups": {"Include": "ALL", "Groups": [{"SourceSegments": [{"Id": base["Id"]}], "SourceType": "ANY"}]}}
    assert pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=good)["SegmentResponse"]["SegmentGroups"]["Include"] == "ALL"
    for source in ({"Id": "e" * 32}, {"Id": base["Id"], "Version": 9}):
        bad = {"SegmentGroups": {"Include": "ALL", "Groups": [{"SourceSegments": [source]}]}}
        with pytest.raises(pinpoint.exceptions.BadRequestException) as raised:
            pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest=bad)
        assert "SegmentGroups.Groups[0].SourceSegments[0]" in raised.value.response["Error"]["Message"]
