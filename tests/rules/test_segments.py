"""Segment membership for every dimension type and group combination (reference §7.2;
PRODUCT.md semantics 2 and 9)."""

from __future__ import annotations

from typing import Any

import pytest

from rules.index import CampaignIndex
from tests.rules.builders import APP, T0, campaign, endpoint, event, index, segment, winner


def targeted(seg: dict[str, Any], *extra: Any) -> CampaignIndex:
    idx = index([campaign("c1", segment_id="s")], segments=[segment("s", **seg), *extra])
    assert idx.errors == ()
    return idx


def member(seg: dict[str, Any], ep: dict[str, Any], *extra: Any, at: str = T0) -> bool:
    return winner(targeted(seg, *extra), endpoint(**ep), event(at=at)) == "c1"


D = "2026-06-01"
DIMENSION_CASES = [
    # (id, segment Dimensions, endpoint members, expected)
    ("attr-inclusive", {"Attributes": {"plan": {"Values": ["gold"]}}}, {"Attributes": {"plan": ["silver", "gold"]}}, True),
    ("attr-inclusive-no", {"Attributes": {"plan": {"Values": ["gold"]}}}, {"Attributes": {"plan": ["silver"]}}, False),
    ("attr-inclusive-missing", {"Attributes": {"plan": {"Values": ["gold"]}}}, {}, False),
    ("attr-inclusive-empty-list", {"Attributes": {"plan": {"Values": ["gold"]}}}, {"Attributes": {"plan": []}}, False),
    ("attr-exclusive", {"Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["gold"]}}},
     {"Attributes": {"plan": ["silver", "gold"]}}, False),
    ("attr-exclusive-other", {"Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["gold"]}}},
     {"Attributes": {"plan": ["silver"]}}, True),
    ("attr-exclusive-missing", {"Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["gold"]}}}, {}, True),
    ("attr-contains", {"Attributes": {"email": {"AttributeType": "CONTAINS", "Values": ["@example."]}}},
     {"Attributes": {"email": ["a@example.com"]}}, True),
    ("attr-contains-case", {"Attributes": {"email": {"AttributeType": "CONTAINS", "Values": ["@EXAMPLE."]}}},
     {"Attributes": {"email": ["a@example.com"]}}, False),
    ("attr-before", {"Attributes": {"signup": {"AttributeType": "BEFORE", "Values": [D]}}},
     {"Attributes": {"signup": ["2026-05-31T23:00:00Z"]}}, True),
    ("attr-before-no", {"Attributes": {"signup": {"AttributeType": "BEFORE", "Values": [D]}}},
     {"Attributes": {"signup": [D]}}, False),
    ("attr-after", {"Attributes": {"signup": {"AttributeType": "AFTER", "Values": [D]}}},
     {"Attributes": {"signup": ["junk", "2026-06-01T00:00:01Z"]}}, True),
    ("attr-on-across-midnight", {"Attributes": {"birthday": {"AttributeType": "ON", "Values": ["2026-06-02"]}}},
     {"Attributes": {"birthday": ["2026-06-01T22:00:00-04:00"]}}, True),
    ("attr-between-upper", {"Attributes": {"d": {"AttributeType": "BETWEEN", "Values": ["2026-01-01", D]}}},
     {"Attributes": {"d": [D]}}, True),
    ("attr-between-outside", {"Attributes": {"d": {"AttributeType": "BETWEEN", "Values": ["2026-01-01", D]}}},
     {"Attributes": {"d": ["2025-12-31T23:59:59Z"]}}, False),
    ("user-attr", {"UserAttributes": {"tier": {"Values": ["vip"]}}}, {"User": {"UserId": "u", "UserAttributes": {"tier": ["vip"]}}}, True),
    ("user-attr-missing-user", {"UserAttributes": {"tier": {"Values": ["vip"]}}}, {}, False),
    ("user-attr-exclusive-missing", {"UserAttributes": {"tier": {"AttributeType": "EXCLUSIVE", "Values": ["vip"]}}}, {}, True),
    ("user-attr-not-endpoint-attr", {"UserAttributes": {"tier": {"Values": ["vip"]}}}, {"Attributes": {"tier": ["vip"]}}, False),
    ("metric-gte", {"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 3}}}, {"Metrics": {"visits": 3}}, True),
    ("metric-lt", {"Metrics": {"visits": {"ComparisonOperator": "LESS_THAN", "Value": 3}}}, {"Metrics": {"visits": 3}}, False),
    ("metric-zero", {"Metrics": {"visits": {"ComparisonOperator": "EQUAL", "Value": 0}}}, {"Metrics": {"visits": 0}}, True),
    ("metric-missing", {"Metrics": {"visits": {"ComparisonOperator": "LESS_THAN", "Value": 3}}}, {}, False),
    ("platform-inclusive", {"Demographic": {"Platform": {"Values": ["ios", "android"]}}}, {"Demographic": {"Platform": "ios"}}, True),
    ("platform-case", {"Demographic": {"Platform": {"Values": ["iOS"]}}}, {"Demographic": {"Platform": "ios"}}, False),
    ("platform-exclusive", {"Demographic": {"Platform": {"DimensionType": "EXCLUSIVE", "Values": ["web"]}}},
     {"Demographic": {"Platform": "web"}}, False),
    ("platform-exclusive-missing", {"Demographic": {"Platform": {"DimensionType": "EXCLUSIVE", "Values": ["web"]}}}, {}, True),
    ("app-version", {"Demographic": {"AppVersion": {"Values": ["2.0"]}}}, {"Demographic": {"AppVersion": "2.0"}}, True),
    ("make", {"Demographic": {"Make": {"Values": ["Apple"]}}}, {"Demographic": {"Make": "Samsung"}}, False),
    ("model", {"Demographic": {"Model": {"Values": ["iPhone"]}}}, {"Demographic": {"Model": "iPhone"}}, True),
    ("model-missing", {"Demographic": {"Model": {"Values": ["iPhone"]}}}, {}, False),
    ("channel", {"Demographic": {"Channel": {"Values": ["IN_APP"]}}}, {}, True),
    ("channel-exclusive", {"Demographic": {"Channel": {"DimensionType": "EXCLUSIVE", "Values": ["IN_APP"]}}}, {}, False),
    ("country", {"Location": {"Country": {"Values": ["US", "CA"]}}}, {"Location": {"Country": "CA"}}, True),
    ("country-no", {"Location": {"Country": {"Values": ["US"]}}}, {"Location": {"Country": "FR"}}, False),
    ("country-exclusive-missing", {"Location": {"Country": {"DimensionType": "EXCLUSIVE", "Values": ["US"]}}}, {}, True),
    # Paris → Versailles is ~17 km
    ("gps-in", {"Location": {"GPSPoint": {"Coordinates": {"Latitude": 48.8566, "Longitude": 2.3522},
                                          "RangeInKilometers": 20}}},
     {"Location": {"Latitude": 48.8049, "Longitude": 2.1204}}, True),
    ("gps-out", {"Location": {"GPSPoint": {"Coordinates": {"Latitude": 48.8566, "Longitude": 2.3522},
                                           "RangeInKilometers": 15}}},
     {"Location": {"Latitude": 48.8049, "Longitude": 2.1204}}, False),
    ("gps-default-range", {"Location": {"GPSPoint": {"Coordinates": {"Latitude": 48.8566, "Longitude": 2.3522}}}},
     {"Location": {"Latitude": 48.8600, "Longitude": 2.3522}}, True),
    ("gps-no-coordinates", {"Location": {"GPSPoint": {"Coordinates": {"Latitude": 0, "Longitude": 0},
                                                      "RangeInKilometers": 20000}}}, {}, False),
    ("recency-active", {"Behavior": {"Recency": {"Duration": "HR_24", "RecencyType": "ACTIVE"}}},
     {"EffectiveDate": "2026-05-31T12:00:00Z"}, True),
    ("recency-active-stale", {"Behavior": {"Recency": {"Duration": "HR_24", "RecencyType": "ACTIVE"}}},
     {"EffectiveDate": "2026-05-31T11:59:59Z"}, False),
    ("recency-inactive", {"Behavior": {"Recency": {"Duration": "DAY_7", "RecencyType": "INACTIVE"}}},
     {"EffectiveDate": "2026-05-20T00:00:00Z"}, True),
    ("recency-inactive-recent", {"Behavior": {"Recency": {"Duration": "DAY_30", "RecencyType": "INACTIVE"}}},
     {"EffectiveDate": "2026-05-20T00:00:00Z"}, False),
    ("recency-inactive-never", {"Behavior": {"Recency": {"Duration": "DAY_14", "RecencyType": "INACTIVE"}}}, {}, True),
    ("all-dimensions-and", {"Attributes": {"plan": {"Values": ["gold"]}}, "Location": {"Country": {"Values": ["US"]}}},
     {"Attributes": {"plan": ["gold"]}, "Location": {"Country": "FR"}}, False),
    ("no-dimensions", {}, {}, True),
]


@pytest.mark.parametrize(("dimensions", "members", "expected"), [c[1:] for c in DIMENSION_CASES],
                         ids=[c[0] for c in DIMENSION_CASES])
def test_dimension(dimensions: dict[str, Any], members: dict[str, Any], expected: bool) -> None:
    assert member({"Dimensions": dimensions}, members) is expected


GOLD = {"Attributes": {"plan": {"Values": ["gold"]}}}
US = {"Location": {"Country": {"Values": ["US"]}}}
GROUP_CASES = [
    # (Type, dimensions, expected for an endpoint that is gold but not in the US)
    ("ALL", [GOLD, US], False),
    ("ANY", [GOLD, US], True),
    ("NONE", [GOLD, US], False),
    ("NONE", [US], True),
    (None, [GOLD, US], False),  # Type defaults to ALL
    ("ANY", [], True),  # an empty list constrains nothing
]


@pytest.mark.parametrize(("kind", "dims", "expected"), GROUP_CASES)
def test_group_type_combines_dimensions(kind: str | None, dims: list[Any], expected: bool) -> None:
    group: dict[str, Any] = {"Dimensions": dims}
    if kind:
        group["Type"] = kind
    seg = {"SegmentGroups": {"Groups": [group]}}
    assert member(seg, {"Attributes": {"plan": ["gold"]}, "Location": {"Country": "FR"}}) is expected


def _source(segment_id: str, **dims: Any) -> Any:
    return segment(segment_id, Dimensions=dims)


SOURCES = (_source("gold", **GOLD), _source("us", **US))
SOURCE_CASES = [
    ("ALL", False), ("ANY", True), ("NONE", False), (None, True),  # SourceType defaults to ANY
]


@pytest.mark.parametrize(("kind", "expected"), SOURCE_CASES)
def test_source_type_combines_base_segments(kind: str | None, expected: bool) -> None:
    group: dict[str, Any] = {"SourceSegments": [{"Id": "gold"}, {"Id": "us"}]}
    if kind:
        group["SourceType"] = kind
    seg = {"SegmentGroups": {"Groups": [group]}}
    assert member(seg, {"Attributes": {"plan": ["gold"]}, "Location": {"Country": "FR"}}, *SOURCES) is expected
    # an endpoint in neither base segment
    assert member(seg, {"Location": {"Country": "FR"}}, *SOURCES) is (kind == "NONE")


INCLUDE_CASES = [("ALL", False), ("ANY", True), ("NONE", False), (None, False)]


@pytest.mark.parametrize(("include", "expected"), INCLUDE_CASES)
def test_include_combines_groups(include: str | None, expected: bool) -> None:
    groups: dict[str, Any] = {"Groups": [{"Dimensions": [GOLD]}, {"Dimensions": [US]}]}
    if include:
        groups["Include"] = include
    assert member({"SegmentGroups": groups}, {"Attributes": {"plan": ["gold"]}}) is expected


def test_group_needs_both_its_sources_and_its_dimensions() -> None:
    seg = {"SegmentGroups": {"Groups": [{"SourceSegments": [{"Id": "gold"}], "Dimensions": [US]}]}}
    assert member(seg, {"Attributes": {"plan": ["gold"]}, "Location": {"Country": "US"}}, *SOURCES)
    assert not member(seg, {"Attributes": {"plan": ["gold"]}}, *SOURCES)
    assert not member(seg, {"Location": {"Country": "US"}}, *SOURCES)


def test_imported_segment_membership_lives_on_the_endpoint() -> None:
    imported: dict[str, Any] = {"SegmentType": "IMPORT", "ImportDefinition": {"ExternalId": "x", "Format": "CSV",
                "RoleArn": "arn:role", "S3Url": "s3://b/k", "Size": 2}}
    assert member(imported, {"ImportedSegments": ["s"]})
    assert not member(imported, {"ImportedSegments": ["other"]})
    assert not member(imported, {})
    # as a base segment of a group, too
    group = {"SegmentGroups": {"Groups": [{"SourceSegments": [{"Id": "vip"}], "Dimensions": [US]}]}}
    vip = segment("vip", **imported)
    assert member(group, {"ImportedSegments": ["vip"], "Location": {"Country": "US"}}, vip)
    assert not member(group, {"Location": {"Country": "US"}}, vip)


def test_pinned_segment_versions() -> None:
    v1 = segment("s", version=1, Dimensions=GOLD)
    v2 = segment("s", version=2, Dimensions=US)
    gold_endpoint = endpoint(Attributes={"plan": ["gold"]})
    pinned = index([campaign("c1", segment_id="s")], segments=[v2], segment_versions={("s", 1): v1})
    assert winner(pinned, gold_endpoint, event()) == "c1"  # campaign SegmentVersion 1 → gold
    latest = index([campaign("c1", segment_id="s", SegmentVersion=2)], segments=[v2])
    assert winner(latest, gold_endpoint, event()) is None
    missing = index([campaign("c1", segment_id="s")], segments=[v2])
    assert [(e.campaign_id, e.field) for e in missing.errors] == [("c1", "SegmentVersion")]


@pytest.mark.parametrize(
    ("segments", "segment_id", "field", "words"),
    [
        ([], "nope", "SegmentId", "does not exist"),
        ([segment("s", app_id="app2")], "s", "SegmentId", "another application"),
        ([segment("s", Dimensions={"Demographic": {"DeviceType": {"Values": ["phone"]}}})], "s", "SegmentId",
         "DeviceType"),
        ([segment("s", SegmentGroups={"Groups": [{"SourceSegments": [{"Id": "s"}]}]})], "s", "SegmentId",
         "refers to itself"),
        ([segment("s", SegmentGroups={"Groups": [{"SourceSegments": [{"Id": "gone"}]}]})], "s", "SegmentId",
         "'gone' does not exist"),
    ],
)
def test_bad_segments_leave_the_campaign_out(segments: list[Any], segment_id: str, field: str, words: str) -> None:
    idx = index([campaign("c1", segment_id=segment_id), campaign("ok")], segments=segments, apps=(APP, "app2"))
    assert [e.campaign_id for e in idx.errors] == ["c1"]
    assert idx.errors[0].field == field and words in idx.errors[0].reason
    assert winner(idx, endpoint(), event()) == "ok"


def test_identical_segments_share_one_predicate() -> None:
    idx = index([campaign("c1", segment_id="a"), campaign("c2", segment_id="b")],
                segments=[segment("a", Dimensions=GOLD), segment("b", Dimensions=GOLD)])
    first, second = idx.arms(APP)
    assert first.segment is second.segment
