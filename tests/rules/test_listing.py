"""GetInAppMessages (PRODUCT.md semantics 8; reference §4.1, §9.2, §14)."""

from __future__ import annotations

from typing import Any

import pytest

from rules.caps import EndpointCaps, record_decision
from rules.listing import in_app_messages, in_app_messages_response
from rules.models import InAppMessagesResponse
from rules.timeutil import instant_seconds
from tests.rules.builders import APP, T0, campaign, endpoint, event, index, run, trigger

NOW = instant_seconds(T0)


def listed(idx: Any, ep: Any = None, caps: EndpointCaps | None = None, *, report: str = "remaining",
           now: float = NOW) -> list[dict[str, Any]]:
    return in_app_messages(idx, APP, ep if ep is not None else endpoint(), caps, now, report)  # type: ignore[arg-type]


def test_entry_shape_parses_as_pinpoint_and_always_carries_filter_members() -> None:
    camp = campaign("c1", limits={"Session": 1, "Daily": 0, "Total": 3},
                    schedule={"QuietTime": {"Start": "22:00", "End": "07:00"}})
    (entry,) = listed(index([camp]))
    InAppMessagesResponse.model_validate(in_app_messages_response([entry]))
    assert entry["CampaignId"] == "c1" and entry["TreatmentId"] == "0" and entry["Priority"] == 1
    assert (entry["SessionCap"], entry["DailyCap"], entry["TotalCap"]) == (1, 0, 3)
    dims = entry["Schedule"]["EventFilter"]["Dimensions"]
    assert dims["EventType"]["Values"] == ["promo"] and dims["Attributes"] == {} and dims["Metrics"] == {}
    assert entry["Schedule"]["EndDate"] == "2027-01-01T00:00:00Z"
    assert entry["Schedule"]["QuietTime"] == {"Start": "22:00", "End": "07:00"}
    assert entry["InAppMessage"]["Layout"] == "TOP_BANNER"


def test_order_limit_and_trigger_not_evaluated() -> None:
    camps = [campaign(f"c{i:02d}", priority=(i % 4) + 1,
                      event_filter=trigger(f"type{i}", attributes={"a": {"Values": ["never"]}}))
             for i in range(15)]
    camps.append(campaign("none", priority=None))
    ids = [e["CampaignId"] for e in listed(index(camps))]
    expected = sorted((c for c in camps if c.priority is not None), key=lambda c: (c.priority, c.id))
    assert ids == [c.id for c in expected][:10]
    everything = in_app_messages(index(camps), APP, endpoint(), None, NOW, limit=100)
    assert everything[-1]["CampaignId"] == "none" and "Priority" not in everything[-1]


@pytest.mark.parametrize(
    ("members", "expected"),
    [({}, 1), ({"OptOut": "ALL"}, 0), ({"EndpointStatus": "INACTIVE"}, 0), ({"ChannelType": "PUSH"}, 0)],
)
def test_endpoint_filter(members: dict[str, Any], expected: int) -> None:
    assert len(listed(index([campaign()]), endpoint(**members))) == expected


def test_window_quiet_time_and_holdout_apply_at_now() -> None:
    camps = [campaign("ended", schedule={"EndTime": T0}),
             campaign("future", schedule={"StartTime": "2026-06-01T12:00:01Z"}),
             campaign("quiet", schedule={"QuietTime": {"Start": "11:00", "End": "13:00"}}),
             campaign("held", HoldoutPercent=100),
             campaign("ok")]
    assert [e["CampaignId"] for e in listed(index(camps), endpoint(Demographic={"Timezone": "UTC"}))] == ["ok"]
    assert listed(index([]), None) == []
    assert in_app_messages(index([campaign()]), "nope", endpoint(), None, NOW) == []


def test_caps_remaining_vs_configured_and_exhausted_left_out() -> None:
    idx = index([campaign("daily", limits={"Daily": 2, "Session": 1}),
                 campaign("total", priority=2, limits={"Total": 1}),
                 campaign("free", priority=3)])
    caps = record_decision(None, run(idx, endpoint(), event(event_id="a")), source=(0, 1))  # type: ignore[arg-type]
    remaining = {e["CampaignId"]: (e["SessionCap"], e["DailyCap"], e["TotalCap"]) for e in listed(idx, caps=caps)}
    assert remaining == {"daily": (1, 1, 0), "total": (0, 0, 1), "free": (0, 0, 0)}
    configured = {e["CampaignId"]: (e["SessionCap"], e["DailyCap"], e["TotalCap"])
                  for e in listed(idx, caps=caps, report="configured")}
    assert configured == {"daily": (1, 2, 0), "total": (0, 0, 1), "free": (0, 0, 0)}
    # exhaust both
    caps = record_decision(caps, run(idx, endpoint(), event(event_id="b", session="s2"), caps), source=(0, 2))  # type: ignore[arg-type]
    caps = record_decision(caps, run(idx, endpoint(), event(event_id="c", session="s3"), caps), source=(0, 3))  # type: ignore[arg-type]
    assert [e["CampaignId"] for e in listed(idx, caps=caps)] == ["free"]
    # a session cap alone never hides a campaign (the session is the client's)
    only_session = index([campaign("s", limits={"Session": 1})])
    caps = record_decision(None, run(only_session, endpoint(), event()), source=(0, 1))  # type: ignore[arg-type]
    assert [e["CampaignId"] for e in listed(only_session, caps=caps)] == ["s"]


def test_listing_and_decide_agree_on_treatments() -> None:
    camp = campaign("ab", AdditionalTreatments=[{"Id": "1", "SizePercent": 50}], HoldoutPercent=20)
    idx = index([camp])
    for i in range(60):
        ep = endpoint(f"Endpoint-{i}")
        entries = listed(idx, ep)
        decision = run(idx, ep, event(endpoint_id=f"endpoint-{i}"))  # ids are case-insensitive
        assert [e["TreatmentId"] for e in entries] == ([decision.treatment_id] if decision else [])
