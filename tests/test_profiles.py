"""Endpoint upserts merge as Pinpoint documents (reference §6.1, §6.2)."""

from rules.profiles import cohort_id, merge_endpoint

NOW = "2026-11-28T10:00:00.000Z"
LATER = "2026-11-28T11:00:00.000Z"


def test_create_sets_identity_dates_status_and_cohort():
    created = merge_endpoint(None, {"ChannelType": "IN_APP", "Attributes": {"tier": ["gold"]}},
                             application_id="retail", endpoint_id="111", now_iso=NOW)
    assert created["Id"] == "111" and created["ApplicationId"] == "retail"
    assert created["CreationDate"] == NOW and created["EffectiveDate"] == NOW
    assert created["EndpointStatus"] == "ACTIVE"
    assert created["CohortId"] == cohort_id("111") and 0 <= int(created["CohortId"]) <= 99


def test_named_attributes_replace_and_unnamed_ones_stay():
    stored = merge_endpoint(None, {"Attributes": {"tier": ["gold"], "city": ["Paris"]},
                                   "Metrics": {"LastPurchaseValue": 600.0}},
                            application_id="a", endpoint_id="e", now_iso=NOW)
    updated = merge_endpoint(stored, {"Attributes": {"tier": ["silver", "bronze"]}, "Metrics": {}},
                             application_id="a", endpoint_id="e", now_iso=LATER)
    assert updated["Attributes"] == {"tier": ["silver", "bronze"], "city": ["Paris"]}
    assert updated["Metrics"] == {"LastPurchaseValue": 600.0}
    assert updated["CreationDate"] == NOW and updated["EffectiveDate"] == LATER


def test_empty_request_changes_nothing():
    stored = merge_endpoint(None, {"ChannelType": "IN_APP", "EndpointStatus": "INACTIVE"},
                            application_id="a", endpoint_id="e", now_iso=NOW)
    assert merge_endpoint(stored, {}, application_id="a", endpoint_id="e", now_iso=LATER) == stored


def test_user_attributes_merge_and_imports_accumulate():
    stored = merge_endpoint(None, {"User": {"UserId": "u1", "UserAttributes": {"a": ["1"]}}},
                            application_id="a", endpoint_id="e", now_iso=NOW, imported_segments=["s1"])
    updated = merge_endpoint(stored, {"User": {"UserAttributes": {"b": ["2"]}}},
                             application_id="a", endpoint_id="e", now_iso=LATER, imported_segments=["s2"])
    assert updated["User"] == {"UserId": "u1", "UserAttributes": {"a": ["1"], "b": ["2"]}}
    assert updated["ImportedSegments"] == ["s1", "s2"]
