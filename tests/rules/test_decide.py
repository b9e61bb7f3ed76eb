"""decide(): eligibility, winner, content, caps, replays (PRODUCT.md semantics 1–7)."""

from __future__ import annotations

from typing import Any

import pytest

from rules.caps import EndpointCaps, record_decision
from rules.decide import decide, decision_id_for, display_decision
from rules.index import CampaignIndex
from rules.timeutil import instant_seconds
from tests.rules.builders import (
    APP,
    CONTENT,
    campaign,
    endpoint,
    event,
    index,
    run,
    settings,
    template,
    trigger,
    winner,
)


@pytest.mark.parametrize(
    ("campaigns", "expected"),
    [
        ([campaign("b", priority=2), campaign("a", priority=3)], "b"),  # lowest Priority wins
        ([campaign("b", priority=None), campaign("a", priority=5)], "a"),  # absent = least
        ([campaign("a", priority=0), campaign("b", priority=1)], "a"),  # 0 is just a number
        # tie → earlier StartTime
        ([campaign("a", schedule={"StartTime": "2026-02-01T00:00:00Z"}),
          campaign("b", schedule={"StartTime": "2026-01-15T00:00:00Z"})], "b"),
        # tie on both → smaller CampaignId
        ([campaign("b"), campaign("a")], "a"),
        ([campaign("b", priority=None), campaign("a", priority=None)], "a"),
        # IMMEDIATE starts at CreationDate (2026-01-01), earlier than 2026-01-02
        ([campaign("a", schedule={"StartTime": "2026-01-02T00:00:00Z"}),
          campaign("b", schedule={"StartTime": "IMMEDIATE"})], "b"),
        # the winner must be eligible: a higher priority that does not match loses
        ([campaign("a", priority=1, event_filter=trigger(attributes={"x": {"Values": ["1"]}})),
          campaign("b", priority=2)], "b"),
    ],
)
def test_winner(campaigns: list[Any], expected: str) -> None:
    assert winner(index(campaigns), endpoint(), event()) == expected


@pytest.mark.parametrize(
    ("members", "eligible"),
    [
        ({}, True),
        ({"ChannelType": "EMAIL"}, False),
        ({"ChannelType": None}, False),
        ({"OptOut": "ALL"}, False),
        ({"OptOut": "NONE"}, True),
        ({"EndpointStatus": "INACTIVE"}, False),
        ({"EndpointStatus": "ACTIVE"}, True),
        ({"ApplicationId": "other"}, False),
    ],
)
def test_endpoint_eligibility(members: dict[str, Any], eligible: bool) -> None:
    ep = endpoint(**members)
    assert (winner(index([campaign()]), ep, event()) == "c1") is eligible


def test_unknown_app_or_endpoint_or_event_type_decides_nothing() -> None:
    idx = index([campaign()])
    assert winner(idx, None, event()) is None
    assert winner(idx, endpoint(ApplicationId=None), event(app_id="nope")) is None
    assert winner(idx, endpoint(), event("other")) is None


@pytest.mark.parametrize(
    "wire",
    [{"IsPaused": True}, {"State": {"CampaignStatus": "DELETED"}}, {"State": {"CampaignStatus": "INVALID"}}],
)
def test_paused_and_deleted_campaigns_are_left_out_quietly(wire: dict[str, Any]) -> None:
    idx = index([campaign("c1", **wire), campaign("c2", priority=9)])
    assert idx.errors == ()
    assert winner(idx, endpoint(), event()) == "c2"


def test_non_in_app_campaigns_are_ignored() -> None:
    email = campaign("c1", MessageConfiguration={"EmailMessage": {"Title": "hi"}})
    idx = index([email])
    assert idx.errors == () and idx.arms(APP) == ()


def test_template_content_is_resolved_at_compile_time() -> None:
    camp = campaign("c1", TemplateConfiguration={"InAppTemplate": {"Name": "tpl"}})
    pinned = campaign("c2", priority=2, TemplateConfiguration={"InAppTemplate": {"Name": "tpl", "Version": "1"}})
    idx = index([camp, pinned], templates=[template("tpl", version="2", layout="CAROUSEL",
                                                    CustomConfig={"k": "v"})],
                template_versions={("tpl", "1"): template("tpl", version="1", layout="BOTTOM_BANNER")})
    message = run(idx, endpoint(), event()).in_app_message  # type: ignore[union-attr]
    assert message == {"Layout": "CAROUSEL", "Content": CONTENT, "CustomConfig": {"k": "v"}}
    arms = {a.campaign_id: a for a in idx.arms(APP)}
    assert arms["c2"].in_app_message["Layout"] == "BOTTOM_BANNER"


def test_inline_message_beats_template_and_empty_inline_falls_back() -> None:
    both = campaign("c1", MessageConfiguration={"InAppMessage": {"Layout": "OVERLAYS", "Content": CONTENT}},
                    TemplateConfiguration={"InAppTemplate": {"Name": "tpl"}})
    empty_inline = campaign("c2", MessageConfiguration={"InAppMessage": {}},
                            TemplateConfiguration={"InAppTemplate": {"Name": "tpl"}})
    idx = index([both, empty_inline], templates=[template("tpl")])
    arms = {a.campaign_id: a for a in idx.arms(APP)}
    assert arms["c1"].in_app_message["Layout"] == "OVERLAYS"
    assert arms["c2"].in_app_message["Layout"] == "MIDDLE_BANNER"


BAD_DEFINITIONS = [
    # (campaign wire overrides, field, words)
    ({"TemplateConfiguration": {"InAppTemplate": {"Name": "missing"}}},
     "TemplateConfiguration.InAppTemplate.Name", "no in-app template"),
    ({"TemplateConfiguration": {"InAppTemplate": {"Name": "tpl", "Version": "7"}}},
     "TemplateConfiguration.InAppTemplate.Version", "no version"),
    ({"TemplateConfiguration": {"InAppTemplate": {}}}, "TemplateConfiguration.InAppTemplate.Name", "needs a Name"),
    ({"MessageConfiguration": {"InAppMessage": {"Layout": "TOP_BANNER"}}},
     "MessageConfiguration.InAppMessage.Content", "needs content"),
    ({"Schedule": {"StartTime": "2026-01-01T00:00:00Z", "Frequency": "EVENT", "EventFilter": trigger()}},
     "Schedule.Frequency", "IN_APP_EVENT"),
    ({"Schedule": {"StartTime": "2026-01-01T00:00:00Z", "Frequency": "IN_APP_EVENT"}},
     "Schedule.EventFilter", "needs an EventFilter"),
    ({"Schedule": {"StartTime": "2026-01-01T00:00:00Z", "Frequency": "IN_APP_EVENT",
                   "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {}}}},
     "Schedule.EventFilter.Dimensions.EventType", "needs an EventType"),
    ({"Schedule": None}, "Schedule", "needs a Schedule"),
    ({"ApplicationId": "ghost"}, "ApplicationId", "does not exist"),
]


@pytest.mark.parametrize(("wire", "field", "words"), BAD_DEFINITIONS)
def test_bad_definitions_are_reported_and_left_out(wire: dict[str, Any], field: str, words: str) -> None:
    bad = campaign("bad", **wire)
    idx = index([bad, campaign("good", priority=5)], templates=[template("tpl")])
    assert len(idx.errors) == 1
    error = idx.errors[0]
    assert (error.campaign_id, error.field) == ("bad", field) and words in error.reason
    assert idx.campaign_ids() == {"good"}
    assert winner(idx, endpoint(), event()) == "good"


CAPS_CASES = [
    # (campaign Limits, app Limits, displays allowed in one session/day out of 6 events)
    ({"Session": 2}, None, 2),
    ({"Daily": 3}, None, 3),
    ({"Total": 1}, None, 1),
    ({"Session": 0, "Daily": 0, "Total": 0}, None, 6),  # 0 = unlimited
    (None, None, 6),
    (None, {"Daily": 2}, 2),  # project default applies
    ({"Daily": 4}, {"Daily": 2}, 4),  # campaign overrides
    ({"Daily": 0}, {"Daily": 2}, 6),  # an explicit 0 overrides with "unlimited"
    ({"Total": 5}, {"Session": 1}, 1),  # field by field: Session from the app
]


@pytest.mark.parametrize(("own", "app_limits", "allowed"), CAPS_CASES)
def test_caps(own: dict[str, int] | None, app_limits: dict[str, int] | None, allowed: int) -> None:
    app_settings = [settings(Limits=app_limits)] if app_limits else []
    idx = index([campaign("c1", limits=own)], app_settings=app_settings)
    caps: EndpointCaps | None = None
    shown = 0
    for i in range(6):
        decision = run(idx, endpoint(), event(event_id=f"e{i}", at=f"2026-06-01T12:0{i}:00Z",
                                              session_start="2026-06-01T12:00:00Z"), caps)
        if decision is not None:
            shown += 1
            caps = record_decision(caps, decision, source=(0, i))
    assert shown == allowed


def test_session_cap_is_per_session_and_remaining_counts_down() -> None:
    idx = index([campaign("c1", limits={"Session": 2, "Daily": 3, "Total": 4})])
    caps = None
    remaining = []
    for i, session in enumerate(["s1", "s1", "s1", "s2", "s2", "s3"]):
        decision = run(idx, endpoint(), event(event_id=f"e{i}", session=session,
                                              at=f"2026-06-01T12:0{i}:00Z"), caps)
        if decision is not None:
            caps = record_decision(caps, decision, source=(0, i))
            remaining.append(decision.remaining.to_wire())
    assert remaining == [{"Session": 1, "Daily": 2, "Total": 3}, {"Session": 0, "Daily": 1, "Total": 2},
                         {"Session": 1, "Daily": 0, "Total": 1}]


def test_no_session_means_no_session_cap() -> None:
    idx = index([campaign("c1", limits={"Session": 1})])
    caps = None
    for i in range(3):
        decision = run(idx, endpoint(), event(event_id=f"e{i}", session=None), caps)
        assert decision is not None and decision.remaining.session is None
        caps = record_decision(caps, decision)


def test_daily_cap_resets_at_the_endpoints_local_midnight() -> None:
    idx = index([campaign("c1", limits={"Daily": 1})])
    tokyo = endpoint(Demographic={"Timezone": "Asia/Tokyo"})
    first = run(idx, tokyo, event(event_id="a", at="2026-06-01T14:00:00Z"))  # 23:00 JST
    assert first is not None
    caps = record_decision(None, first)
    assert run(idx, tokyo, event(event_id="b", at="2026-06-01T14:59:00Z"), caps) is None  # 23:59 JST
    assert run(idx, tokyo, event(event_id="c", at="2026-06-01T15:00:00Z"), caps) is not None  # 00:00 JST
    # a UTC endpoint has the same UTC day for both instants → still capped
    utc_caps = record_decision(None, run(idx, endpoint(), event(event_id="a", at="2026-06-01T14:00:00Z")))  # type: ignore[arg-type]
    assert run(idx, endpoint(), event(event_id="c", at="2026-06-01T15:00:00Z"), utc_caps) is None


def test_replayed_event_re_emits_the_same_decision_and_counts_once() -> None:
    idx = index([campaign("c1", limits={"Total": 2})])
    ev = event(event_id="evt-1")
    first = run(idx, endpoint(), ev)
    assert first is not None and first.decision_id == decision_id_for("evt-1", "c1")
    caps = record_decision(None, first, source=(3, 100))
    replay = decide(idx, endpoint(), caps, ev, instant_seconds(ev.event.timestamp) + 60, source=(3, 100))
    assert replay == first
    assert replay is not None and record_decision(caps, replay, source=(3, 100)) is caps
    assert caps.total_count("c1") == 1
    # an earlier offset that had produced no decision stays without one
    now = instant_seconds(ev.event.timestamp)
    assert decide(idx, endpoint(), caps, event(event_id="evt-0"), now, source=(3, 99)) is None
    # a low offset on another partition is a different record
    assert decide(idx, endpoint(), caps, event(event_id="evt-2"), now, source=(4, 1)) is not None


def test_future_timestamps_are_clamped_to_receive_time() -> None:
    idx = index([campaign("c1", schedule={"EndTime": "2026-06-01T13:00:00Z"})])
    now = instant_seconds("2026-06-01T12:00:00Z")
    late = event(at="2026-06-01T14:00:00Z")  # two hours ahead of the receive time
    decision = decide(idx, endpoint(), None, late, now)
    assert decision is not None and decision.decided_at == now
    near = event(at="2026-06-01T12:04:00Z")  # within the default 300 s skew: kept
    assert decide(idx, endpoint(), None, near, now).decided_at == now + 240  # type: ignore[union-attr]
    assert decide(idx, endpoint(), None, late, now, max_skew=7200) is None  # 14:00 is past EndTime


def test_display_decision_wire_shape() -> None:
    decision = run(index([campaign("c1", limits={"Daily": 3})]), endpoint(), event())
    assert decision is not None
    wire = display_decision(decision)
    assert list(wire) == ["DecisionId", "ApplicationId", "EndpointId", "EventId", "EventType", "CampaignId",
                          "TreatmentId", "Priority", "InAppMessage", "Remaining", "DecidedAt"]
    assert wire["Remaining"] == {"Session": None, "Daily": 2, "Total": None}
    assert wire["DecidedAt"] == "2026-06-01T12:00:00.000Z"
    assert wire["InAppMessage"]["Layout"] == "TOP_BANNER"


def test_candidates_only_touch_campaigns_of_the_event_type() -> None:
    camps = [campaign(f"c{i}", event_filter=trigger(f"type{i % 5}")) for i in range(50)]
    camps.append(campaign("x", event_filter=trigger(["type0", "type1"], exclusive=True)))
    idx: CampaignIndex = index(camps)
    assert {a.campaign_id for a in idx.candidates(APP, "type2")} == {f"c{i}" for i in range(2, 50, 5)} | {"x"}
    assert {a.campaign_id for a in idx.candidates(APP, "type0")} == {f"c{i}" for i in range(0, 50, 5)}
    assert [a.campaign_id for a in idx.candidates(APP, "unheard-of")] == ["x"]
    assert idx.candidates("other-app", "type0") == ()


def test_interaction_events_trigger_only_campaigns_that_name_them() -> None:
    anything = campaign("any", event_filter=trigger(["promo"], exclusive=True))
    follow_up = campaign("follow", priority=5, event_filter=trigger("_inapp.message_dismissed"))
    idx = index([anything, follow_up])
    assert winner(idx, endpoint(), event("_inapp.message_displayed")) is None
    assert winner(idx, endpoint(), event("_inapp.message_dismissed")) == "follow"
    assert winner(idx, endpoint(), event("app_launch")) == "any"
    arm = idx.arm("any", "0")
    assert arm is not None and not arm.trigger.accepts_type("_inapp.message_clicked")
