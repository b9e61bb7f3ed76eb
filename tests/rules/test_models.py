"""Wire shapes and validation of the Pinpoint-shaped models (reference §2.2, §2.5, §4)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from rules.errors import DefinitionError, EventError, describe
from rules.models import (
    ApplicationSettingsResource,
    CampaignResponse,
    CreateApplicationRequest,
    Endpoint,
    EndpointRequest,
    InAppTemplateRequest,
    WireModel,
    WriteApplicationSettingsRequest,
    WriteCampaignRequest,
    WriteSegmentRequest,
    decode_app_event,
    parse_resource,
)

CANONICAL_CAMPAIGN: dict[str, Any] = {  # reference §8.1
    "Name": "welcome-banner",
    "SegmentId": "seg",
    "Priority": 3,
    "Limits": {"Session": 1, "Daily": 0, "Total": 0},
    "Schedule": {
        "StartTime": "2026-01-01T00:15:00Z",
        "EndTime": "2026-02-01T00:00:00Z",
        "Frequency": "IN_APP_EVENT",
        "EventFilter": {
            "FilterType": "ENDPOINT",
            "Dimensions": {
                "EventType": {"DimensionType": "INCLUSIVE", "Values": ["my_first_event"]},
                "Attributes": {"item": {"AttributeType": "INCLUSIVE", "Values": ["gloves"]}},
                "Metrics": {"price": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 10}},
            },
        },
        "QuietTime": {"Start": "22:00", "End": "07:00"},
    },
    "MessageConfiguration": {
        "InAppMessage": {
            "Layout": "TOP_BANNER",
            "Content": [
                {
                    "BackgroundColor": "#000000",
                    "HeaderConfig": {"Alignment": "CENTER", "Header": "Welcome!", "TextColor": "#FFFFFF"},
                    "BodyConfig": {"Alignment": "CENTER", "Body": "Hello", "TextColor": "#FFFFFF"},
                    "PrimaryBtn": {
                        "DefaultConfig": {"ButtonAction": "CLOSE", "Text": "OK"},
                        "Web": {"ButtonAction": "LINK", "Link": "https://example.com"},
                        "IOS": {"ButtonAction": "DEEP_LINK", "Link": "app://x"},
                    },
                }
            ],
            "CustomConfig": {"PromoCode": "12345"},
        }
    },
    "tags": {"team": "growth"},
}

INPUT_EVENT: dict[str, Any] = {  # PRODUCT.md "Input event"
    "ApplicationId": "retail",
    "EndpointId": "111",
    "EventId": "5b0c",
    "Event": {
        "EventType": "app_launch",
        "Timestamp": "2026-11-28T10:00:00.000Z",
        "Attributes": {"screen": "home"},
        "Metrics": {"cart_value": 120.0},
        "Session": {"Id": "s-42", "StartTimestamp": "2026-11-28T09:58:00.000Z"},
    },
}


def test_campaign_request_round_trips_with_pinpoint_names() -> None:
    model = WriteCampaignRequest.model_validate(CANONICAL_CAMPAIGN)
    assert model.to_wire() == CANONICAL_CAMPAIGN
    assert model.to_wire() == model.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert model.tags == {"team": "growth"}
    button = model.message_configuration.in_app_message.content[0].primary_btn  # type: ignore[union-attr,index]
    assert button is not None and button.ios is not None and button.ios.link == "app://x"


def test_tags_are_lowercase_on_the_wire_and_Tags_is_not_read() -> None:
    wire = CreateApplicationRequest(name="a", tags={"k": "v"}).to_wire()
    assert wire == {"Name": "a", "tags": {"k": "v"}}
    assert CreateApplicationRequest.model_validate({"Name": "a", "Tags": {"k": "v"}}).tags is None


def test_models_accept_snake_case_names_too() -> None:
    assert WriteSegmentRequest(name="s").to_wire() == {"Name": "s"}


def test_models_are_frozen() -> None:
    model = CreateApplicationRequest(name="a")
    with pytest.raises(ValidationError):
        model.name = "b"  # type: ignore[misc]


def _with(path: str, value: Any, base: dict[str, Any] = CANONICAL_CAMPAIGN) -> dict[str, Any]:
    data = copy.deepcopy(base)
    node: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    node[keys[-1]] = value
    return data


BAD_CAMPAIGNS = [  # (path to change, bad value, field reported, words in the reason)
    ("Schedule.Frequency", "NOPE", "Schedule.Frequency", "IN_APP_EVENT"),
    ("Schedule.StartTime", "tomorrow", "Schedule.StartTime", "ISO-8601"),
    ("Schedule.EndTime", "2025-01-01T00:00:00Z", "Schedule", "EndTime must be later"),
    ("Schedule.Timezone", "Mars/Base", "Schedule.Timezone", "UTC offset"),
    ("Schedule.QuietTime.Start", "24:00", "Schedule.QuietTime.Start", "HH:MM"),
    ("Schedule.QuietTime.End", "7:00", "Schedule.QuietTime.End", "HH:MM"),
    ("Limits.Daily", -1, "Limits.Daily", "greater than or equal to 0"),
    ("Limits.Total", 101, "Limits.Total", "less than or equal to 100"),
    ("Limits.MessagesPerSecond", 0, "Limits.MessagesPerSecond", "greater than or equal to 1"),
    ("HoldoutPercent", 101, "HoldoutPercent", "less than or equal to 100"),
    ("Priority", -1, "Priority", "greater than or equal to 0"),
    ("Schedule.EventFilter.FilterType", "ALL", "Schedule.EventFilter.FilterType", "SYSTEM"),
    (
        "Schedule.EventFilter.Dimensions.EventType.DimensionType",
        "MAYBE",
        "Schedule.EventFilter.Dimensions.EventType.DimensionType",
        "EXCLUSIVE",
    ),
    (
        "Schedule.EventFilter.Dimensions.Attributes.item.AttributeType",
        "STARTS_WITH",
        "Schedule.EventFilter.Dimensions.Attributes.item.AttributeType",
        "BETWEEN",
    ),
    (
        "Schedule.EventFilter.Dimensions.Attributes.item",
        {"AttributeType": "BETWEEN", "Values": ["2026-01-01"]},
        "Schedule.EventFilter.Dimensions.Attributes.item",
        "exactly two",
    ),
    (
        "Schedule.EventFilter.Dimensions.Attributes.item",
        {"AttributeType": "BETWEEN", "Values": ["2026-02-01", "2026-01-01"]},
        "Schedule.EventFilter.Dimensions.Attributes.item",
        "after its end",
    ),
    (
        "Schedule.EventFilter.Dimensions.Attributes.item",
        {"AttributeType": "BEFORE", "Values": ["last week"]},
        "Schedule.EventFilter.Dimensions.Attributes.item",
        "ISO-8601",
    ),
    (
        "Schedule.EventFilter.Dimensions.Metrics.price.ComparisonOperator",
        "BETWEEN",
        "Schedule.EventFilter.Dimensions.Metrics.price.ComparisonOperator",
        "GREATER_THAN",
    ),
    ("MessageConfiguration.InAppMessage.Layout", "FULL_SCREEN", "MessageConfiguration.InAppMessage.Layout", "OVERLAYS"),
    (
        "MessageConfiguration.InAppMessage.Content.0.HeaderConfig.Alignment",
        "MIDDLE",
        "MessageConfiguration.InAppMessage.Content[0].HeaderConfig.Alignment",
        "CENTER",
    ),
    (
        "MessageConfiguration.InAppMessage.Content.0.PrimaryBtn.DefaultConfig.ButtonAction",
        "OPEN",
        "MessageConfiguration.InAppMessage.Content[0].PrimaryBtn.DefaultConfig.ButtonAction",
        "DEEP_LINK",
    ),
    (
        "MessageConfiguration.InAppMessage.Content",
        [{"BackgroundColor": "#fff"}] * 2,
        "MessageConfiguration.InAppMessage",
        "CAROUSEL",
    ),
    ("AdditionalTreatments", [{"SizePercent": 60}, {"SizePercent": 50}], "AdditionalTreatments", "110"),
    ("AdditionalTreatments", [{"TreatmentName": "b"}], "AdditionalTreatments[0].SizePercent", "required"),
]


@pytest.mark.parametrize(("path", "value", "field", "words"), BAD_CAMPAIGNS, ids=[c[0] for c in BAD_CAMPAIGNS])
def test_bad_campaign_reports_field_path_and_reason(path: str, value: Any, field: str, words: str) -> None:
    data = _with(path, value)
    with pytest.raises(ValidationError) as caught:
        WriteCampaignRequest.model_validate(data)
    text = describe(caught.value)
    assert text.startswith(f"{field}: "), text
    assert words in text
    with pytest.raises(DefinitionError) as structured:
        parse_resource(WriteCampaignRequest, data, resource_id="c1")
    assert structured.value.field == field
    assert words in structured.value.reason
    assert structured.value.resource_id == "c1"


def test_carousel_takes_five_items_but_not_six() -> None:
    item = {"BackgroundColor": "#fff"}
    ok = _with("MessageConfiguration.InAppMessage", {"Layout": "CAROUSEL", "Content": [item] * 5})
    WriteCampaignRequest.model_validate(ok)
    with pytest.raises(ValidationError, match="at most 5"):
        InAppTemplateRequest.model_validate({"Layout": "CAROUSEL", "Content": [item] * 6})


def test_immediate_start_is_valid_and_holdout_plus_sizes_may_reach_100() -> None:
    data = _with("Schedule.StartTime", "IMMEDIATE")
    data["HoldoutPercent"] = 20
    data["AdditionalTreatments"] = [{"SizePercent": 30}, {"SizePercent": 50}]
    WriteCampaignRequest.model_validate(data)


def test_campaign_response_needs_server_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        CampaignResponse.model_validate(CANONICAL_CAMPAIGN)
    missing = {e["loc"][0] for e in caught.value.errors()}
    assert {"ApplicationId", "Arn", "CreationDate", "Id", "LastModifiedDate", "SegmentVersion"} <= missing


def test_segment_dimensions_and_groups_are_exclusive() -> None:
    with pytest.raises(ValidationError, match="mutually exclusive"):
        WriteSegmentRequest.model_validate({"Dimensions": {}, "SegmentGroups": {"Groups": []}})
    segment = {
        "SegmentGroups": {
            "Include": "ANY",
            "Groups": [
                {"Type": "ALL", "SourceType": "ANY", "SourceSegments": [{"Id": "s", "Version": 2}],
                 "Dimensions": [{"Location": {"GPSPoint": {"Coordinates": {"Latitude": 1, "Longitude": 2},
                                                           "RangeInKilometers": 5}}}]}
            ],
        }
    }
    assert WriteSegmentRequest.model_validate(segment).to_wire()["SegmentGroups"]["Groups"][0]["Dimensions"][0][
        "Location"
    ]["GPSPoint"]["RangeInKilometers"] == 5
    with pytest.raises(ValidationError, match="Include"):
        WriteSegmentRequest.model_validate({"SegmentGroups": {"Include": "SOME"}})
    with pytest.raises(ValidationError, match="Latitude"):
        WriteSegmentRequest.model_validate(
            {"Dimensions": {"Location": {"GPSPoint": {"Coordinates": {"Latitude": 91, "Longitude": 0}}}}}
        )
    with pytest.raises(ValidationError, match="Duration"):
        WriteSegmentRequest.model_validate(
            {"Dimensions": {"Behavior": {"Recency": {"Duration": "DAY_3", "RecencyType": "ACTIVE"}}}}
        )


@pytest.mark.parametrize(
    ("member", "value", "field"),
    [
        ("ChannelType", "PIGEON", "ChannelType"),
        ("OptOut", "SOME", "OptOut"),
        ("EndpointStatus", "ASLEEP", "EndpointStatus"),
        ("EffectiveDate", "now", "EffectiveDate"),
        ("Location", {"Latitude": -91}, "Location.Latitude"),
        ("Metrics", {"m": "x"}, "Metrics.m"),
        ("Attributes", {"a": "not-a-list"}, "Attributes.a"),
    ],
)
def test_bad_endpoint_fields(member: str, value: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EndpointRequest.model_validate({"ChannelType": "IN_APP", member: value})
    assert describe(caught.value).startswith(f"{field}: ")


def test_endpoint_imported_segments_are_internal() -> None:
    endpoint = Endpoint.model_validate(
        {"Id": "e", "ChannelType": "IN_APP", "CohortId": "42", "ImportedSegments": ["b", "a", "b"]}
    )
    assert endpoint.imported_segments == frozenset({"a", "b"})
    assert endpoint.to_wire()["ImportedSegments"] == ["a", "b"]
    assert "ImportedSegments" not in endpoint.to_response().to_wire()
    assert Endpoint.model_validate(endpoint.to_wire()) == endpoint
    with pytest.raises(ValidationError):
        Endpoint.model_validate({"CohortId": "100"})


def test_settings_request_and_resource() -> None:
    body = {"Limits": {"Daily": 5, "Total": 20, "Session": 1}, "QuietTime": {"Start": "22:00", "End": "06:30"},
            "CloudWatchMetricsEnabled": True}
    assert WriteApplicationSettingsRequest.model_validate(body).to_wire() == body
    stored = ApplicationSettingsResource.model_validate({"ApplicationId": "a", **body})
    assert "CloudWatchMetricsEnabled" not in stored.to_wire()  # write-only (reference §5.2)


def test_input_event_decodes_from_dict_and_bytes() -> None:
    event = decode_app_event(INPUT_EVENT)
    assert event.to_wire() == INPUT_EVENT
    assert event.event.instant == 1795860000.0
    assert decode_app_event(b'{"ApplicationId":"a","EndpointId":"e","EventId":"1",'
                            b'"Event":{"EventType":"t","Timestamp":"2026-11-28T10:00:00Z"}}').event_id == "1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"EventId": ""}, "EventId"),
        ({"Event": {"Timestamp": "2026-11-28T10:00:00Z"}}, "Event.EventType"),
        ({"Event": {"EventType": "x", "Timestamp": "yesterday"}}, "Event.Timestamp"),
        ({"Event": {"EventType": "x", "Timestamp": "2026-11-28T10:00:00Z", "Metrics": {"m": "lots"}}}, "Event.Metrics.m"),
        ({"Event": {"EventType": "x", "Timestamp": "2026-11-28T10:00:00Z", "Attributes": {"a": 1}}}, "Event.Attributes.a"),
        ({"Event": {"EventType": "x", "Timestamp": "2026-11-28T10:00:00Z", "Session": {}}}, "Event.Session.Id"),
    ],
)
def test_bad_input_event_is_an_event_error(change: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as caught:
        decode_app_event({**INPUT_EVENT, **change})
    assert caught.value.field == field
    assert caught.value.event_id == change.get("EventId", "5b0c")
    with pytest.raises(EventError, match="JSON"):
        decode_app_event(b"{not json")


def test_every_model_uses_the_wire_base() -> None:
    import rules.models as models

    classes = [getattr(models, name) for name in models.__all__]
    assert all(issubclass(c, WireModel) for c in classes if isinstance(c, type))
