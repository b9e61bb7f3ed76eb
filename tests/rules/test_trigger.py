"""Trigger matching, table-driven (PRODUCT.md semantics 3; reference §4.1, §7.2)."""

from __future__ import annotations

from typing import Any

import pytest

from rules.models import CampaignEventFilter
from rules.predicates import Interner
from rules.trigger import compile_trigger
from tests.rules.builders import APP, campaign, endpoint, event, index, trigger, winner


def compiled(**kwargs: Any):  # type: ignore[no-untyped-def]
    return compile_trigger(CampaignEventFilter.model_validate(trigger(**kwargs)), Interner())


@pytest.mark.parametrize(
    ("values", "exclusive", "event_type", "expected"),
    [
        (["promo"], False, "promo", True),
        (["promo"], False, "Promo", False),  # case-sensitive
        (["promo", "launch"], False, "launch", True),
        (["promo"], False, "promo ", False),  # exact
        (["promo"], True, "promo", False),
        (["promo"], True, "launch", True),
        (["promo"], True, "Promo", True),
        ([], True, "anything", True),
        ([], False, "anything", False),
    ],
)
def test_event_type(values: list[str], exclusive: bool, event_type: str, expected: bool) -> None:
    assert compiled(event_type=values, exclusive=exclusive).matches(event_type, None, None) is expected
    # and through the index: only campaigns the type can trigger are candidates
    idx = index([campaign("c1", event_filter=trigger(values, exclusive=exclusive))])
    assert (winner(idx, endpoint(), event(event_type)) == "c1") is expected
    assert bool(idx.candidates(APP, event_type)) is expected


D = "2026-06-01"
ATTRIBUTE_CASES = [
    # (AttributeType, Values, event value (None = absent), expected)
    ("INCLUSIVE", ["gloves"], "gloves", True),
    ("INCLUSIVE", ["gloves", "hats"], "hats", True),
    ("INCLUSIVE", ["gloves"], "Gloves", False),
    ("INCLUSIVE", ["gloves"], None, False),  # missing under INCLUSIVE: no match
    (None, ["gloves"], "gloves", True),  # absent AttributeType = INCLUSIVE
    ("EXCLUSIVE", ["gloves"], "gloves", False),
    ("EXCLUSIVE", ["gloves"], "hats", True),
    ("EXCLUSIVE", ["gloves"], None, True),  # missing under EXCLUSIVE: match
    ("CONTAINS", ["lov"], "gloves", True),
    ("CONTAINS", ["LOV"], "gloves", False),
    ("CONTAINS", ["x", "ove"], "gloves", True),
    ("CONTAINS", ["lov"], None, False),
    ("BEFORE", [f"{D}T12:00:00Z"], f"{D}T11:59:59Z", True),
    ("BEFORE", [f"{D}T12:00:00Z"], f"{D}T12:00:00Z", False),
    ("BEFORE", [f"{D}T12:00:00Z"], f"{D}T13:00:00+02:00", True),  # 11:00Z
    ("BEFORE", [f"{D}T12:00:00Z"], "not a date", False),
    ("BEFORE", [f"{D}T12:00:00Z"], None, False),
    ("AFTER", [f"{D}T12:00:00Z"], f"{D}T12:00:01Z", True),
    ("AFTER", [f"{D}T12:00:00Z"], f"{D}T12:00:00Z", False),
    ("AFTER", [f"{D}T12:00:00Z"], "2026-06-02", True),
    ("ON", [D], f"{D}T00:00:00Z", True),
    ("ON", [D], f"{D}T23:59:59.999Z", True),
    ("ON", [D], "2026-06-02T00:00:00Z", False),
    ("ON", [D], "2026-05-31T23:59:59Z", False),
    # ON across midnight: 23:30 at UTC-5 is 04:30Z the next day
    ("ON", ["2026-06-02"], f"{D}T23:30:00-05:00", True),
    ("ON", [D], f"{D}T23:30:00-05:00", False),
    ("ON", [f"{D}T18:00:00Z"], f"{D}T01:00:00Z", True),  # the time of the criteria is ignored
    ("BETWEEN", [f"{D}T00:00:00Z", f"{D}T12:00:00Z"], f"{D}T00:00:00Z", True),  # lower bound inclusive
    ("BETWEEN", [f"{D}T00:00:00Z", f"{D}T12:00:00Z"], f"{D}T12:00:00Z", True),  # upper bound inclusive
    ("BETWEEN", [f"{D}T00:00:00Z", f"{D}T12:00:00Z"], f"{D}T12:00:00.001Z", False),
    ("BETWEEN", [f"{D}T00:00:00Z", f"{D}T12:00:00Z"], "2026-05-31T23:59:59.999Z", False),
    ("BETWEEN", [f"{D}T00:00:00Z", f"{D}T12:00:00Z"], None, False),
]


@pytest.mark.parametrize(("kind", "values", "value", "expected"), ATTRIBUTE_CASES)
def test_attribute_types_on_event_attributes(kind: str | None, values: list[str], value: str | None,
                                             expected: bool) -> None:
    dimension: dict[str, Any] = {"Values": values}
    if kind is not None:
        dimension["AttributeType"] = kind
    test = compiled(attributes={"item": dimension})
    attributes = {"other": "x"} if value is None else {"item": value, "other": "x"}
    assert test.matches("promo", attributes, None) is expected
    if value is None:
        assert test.matches("promo", None, None) is expected  # an event without attributes


def test_all_attribute_filters_must_hold() -> None:
    test = compiled(attributes={"a": {"Values": ["1"]}, "b": {"AttributeType": "EXCLUSIVE", "Values": ["2"]}})
    assert test.matches("promo", {"a": "1", "b": "3"}, None)
    assert not test.matches("promo", {"a": "1", "b": "2"}, None)
    assert not test.matches("promo", {"a": "0", "b": "3"}, None)


METRIC_CASES = [
    # (operator, Value, event metric (None = absent), expected)
    ("EQUAL", 10, 10.0, True),
    ("EQUAL", 10, 10.5, False),
    ("GREATER_THAN", 10, 10.0, False),
    ("GREATER_THAN", 10, 10.01, True),
    ("GREATER_THAN_OR_EQUAL", 10, 10.0, True),
    ("GREATER_THAN_OR_EQUAL", 10, 9.99, False),
    ("LESS_THAN", 10, 10.0, False),
    ("LESS_THAN", 10, 9.99, True),
    ("LESS_THAN_OR_EQUAL", 10, 10.0, True),
    ("LESS_THAN_OR_EQUAL", 10, 10.01, False),
    # Value: 0 works (Amplify v6 never matches it, reference §10.2)
    ("EQUAL", 0, 0.0, True),
    ("GREATER_THAN", 0, 0.5, True),
    ("GREATER_THAN", 0, -0.5, False),
    ("LESS_THAN_OR_EQUAL", 0, 0.0, True),
    ("GREATER_THAN_OR_EQUAL", 0, -1.0, False),
    ("EQUAL", 0, None, False),  # a missing metric fails
    ("LESS_THAN", 5, None, False),
]


@pytest.mark.parametrize(("operator", "value", "metric", "expected"), METRIC_CASES)
def test_metric_operators(operator: str, value: float, metric: float | None, expected: bool) -> None:
    test = compiled(metrics={"price": {"ComparisonOperator": operator, "Value": value}})
    metrics = {"other": 1.0} if metric is None else {"price": metric}
    assert test.matches("promo", None, metrics) is expected
    idx = index([campaign("c1", event_filter=trigger(metrics={"price": {"ComparisonOperator": operator,
                                                                        "Value": value}}))])
    assert (winner(idx, endpoint(), event(metrics=metrics)) == "c1") is expected


def test_metric_filter_fails_for_event_without_metrics() -> None:
    test = compiled(metrics={"price": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 0}})
    assert not test.matches("promo", {"price": "5"}, None)


def test_identical_triggers_are_interned() -> None:
    idx = index([campaign("c1"), campaign("c2"), campaign("c3", event_filter=trigger("other"))])
    arms = {arm.campaign_id: arm for arm in idx.arms(APP)}
    assert arms["c1"].trigger is arms["c2"].trigger
    assert arms["c1"].trigger is not arms["c3"].trigger
