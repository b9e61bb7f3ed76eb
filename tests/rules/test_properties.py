"""Property tests (hypothesis): caps are never exceeded, the index agrees with brute
force, treatment buckets are stable with the configured shares (PRODUCT.md semantics
1, 4, 6)."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.caps import EndpointCaps, record_decision, record_engagement
from rules.decide import Decision, EvaluationContext, decide
from rules.index import CampaignIndex, CompiledArm
from rules.schedule import bucket_of
from rules.timeutil import format_instant, instant_seconds, local_day, zone
from tests.rules.builders import APP, campaign, endpoint, event, index, trigger
from tests.rules.builders import settings as app_settings

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = instant_seconds("2026-06-01T00:00:00Z")
HOUR = 3600.0
ZONES = [None, "UTC", "Asia/Tokyo", "America/New_York", "Europe/Paris", "Pacific/Kiritimati", "Bad/Zone"]

limits = st.one_of(
    # one cap alone, so that pruned sessions and days matter
    st.fixed_dictionaries({"Session": st.integers(1, 2)}),
    st.fixed_dictionaries({"Daily": st.integers(1, 2)}),
    st.fixed_dictionaries({}, optional={"Session": st.integers(0, 3), "Daily": st.integers(0, 3),
                                        "Total": st.integers(0, 4)}),
)


@st.composite
def cap_scenarios(draw: Any) -> dict[str, Any]:
    campaigns = [campaign(f"c{i}", priority=draw(st.sampled_from([None, 1, 2])), limits=draw(limits) or None,
                          event_filter=trigger(draw(st.sampled_from(["a", "b", ["a", "b"]]))))
                 for i in range(draw(st.integers(1, 3)))]
    defaults = draw(limits)
    steps = draw(st.lists(
        st.one_of(
            *[st.tuples(st.just("event"), st.sampled_from(["a", "b"]), st.integers(0, 1),  # endpoint
                        st.integers(0, 4), st.floats(0, 55))] * 3,  # session number, minute in it
            st.tuples(st.just("shown"), st.integers(0, 1), st.integers(0, 4), st.floats(0, 55),
                      st.integers(0, 2), st.booleans()),  # campaign, with decision id?
            st.tuples(st.just("replay"), st.integers(0, 200)),
        ),
        min_size=5, max_size=60,
    ))
    return {"index": index(campaigns, app_settings=[app_settings(Limits=defaults)] if defaults else []),
            "zones": [draw(st.sampled_from(ZONES)) for _ in range(2)], "steps": steps}


def _event(kind: str, endpoint_no: int, session: int, minute: float, offset: int, **attrs: Any) -> Any:
    start = BASE + session * 7 * HOUR  # sessions a few hours apart, spanning several local days
    return event(kind, event_id=f"ev{offset}", endpoint_id=f"e{endpoint_no}", session=f"s{session}",
                 session_start=format_instant(start), at=format_instant(start + minute * 60), **attrs)


@FAST
@given(cap_scenarios())
def test_no_endpoint_campaign_pair_ever_exceeds_a_cap(scenario: dict[str, Any]) -> None:
    idx: CampaignIndex = scenario["index"]
    endpoints = [endpoint(f"e{i}", Demographic={"Timezone": z} if z else None) for i, z in enumerate(scenario["zones"])]
    caps: dict[int, EndpointCaps | None] = defaultdict(lambda: None)
    records: list[tuple[int, Any]] = []  # (endpoint, event) per offset
    ledger: dict[tuple[int, str], list[tuple[str | None, int]]] = defaultdict(list)  # (session, day) per display
    emitted: set[str] = set()
    last_decision: dict[int, Decision] = {}

    def apply(offset: int, number: int, ev: Any) -> None:
        now = instant_seconds(ev.event.timestamp)
        before = caps[number]
        if ev.event.event_type.startswith("_inapp."):
            after = record_engagement(before, endpoints[number], ev, now, source=(0, offset))
            attrs = ev.event.attributes
            if "decision_id" not in attrs and not (before is not None and before.has_applied((0, offset))):
                demographic = endpoints[number].demographic
                day = local_day(now, zone(demographic.timezone if demographic else None)).toordinal()
                ledger[(number, attrs["campaign_id"])].append((ev.event.session.id, day))
            caps[number] = after
            return
        decision = decide(idx, endpoints[number], before, ev, now, source=(0, offset))
        if decision is None:
            return
        caps[number] = record_decision(before, decision, source=(0, offset))
        last_decision[number] = decision
        if decision.decision_id in emitted:
            return  # a replay re-emits the identical decision; subscribers drop it
        emitted.add(decision.decision_id)
        arm = idx.arm(decision.campaign_id, decision.treatment_id)
        assert arm is not None
        shown = ledger[(number, decision.campaign_id)]
        lim = arm.limits
        assert not lim.total or len(shown) < lim.total
        assert not lim.daily or sum(day == decision.local_day for _, day in shown) < lim.daily
        if decision.session_id is not None:
            assert not lim.session or sum(s == decision.session_id for s, _ in shown) < lim.session
        shown.append((decision.session_id, decision.local_day))

    for step in scenario["steps"]:
        offset = len(records)
        if step[0] == "event":
            _, kind, number, session, minute = step
            ev = _event(kind, number, session, minute, offset)
        elif step[0] == "shown":
            _, number, session, minute, campaign_no, confirm = step
            attrs = {"campaign_id": f"c{campaign_no}", "treatment_id": "0"}
            if confirm and number in last_decision:
                attrs = {"campaign_id": last_decision[number].campaign_id, "treatment_id": "0",
                         "decision_id": last_decision[number].decision_id}
            ev = _event("_inapp.message_displayed", number, session, minute, offset, attributes=attrs)
        else:
            if not records:
                continue
            replayed = step[1] % len(records)
            apply(replayed, *records[replayed])  # same record, same source position
            continue
        records.append((number, ev))
        apply(offset, number, ev)


@st.composite
def index_scenarios(draw: Any) -> dict[str, Any]:
    names = ["a", "b", "c", "d"]
    camps = []
    for i in range(draw(st.integers(1, 12))):
        exclusive = draw(st.booleans())
        types = draw(st.lists(st.sampled_from(names), min_size=0 if exclusive else 1, max_size=3, unique=True))
        attrs = draw(st.dictionaries(st.sampled_from(["k1", "k2"]), st.fixed_dictionaries(
            {"AttributeType": st.sampled_from(["INCLUSIVE", "EXCLUSIVE", "CONTAINS"]),
             "Values": st.lists(st.sampled_from(["x", "y", "xy"]), min_size=1, max_size=2)}), max_size=2))
        start = draw(st.sampled_from(["2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", "IMMEDIATE"]))
        camps.append(campaign(
            f"c{draw(st.integers(0, 99)):02d}-{i}", priority=draw(st.sampled_from([None, 1, 2, 3])),
            event_filter=trigger(types, exclusive=exclusive, attributes=attrs),
            schedule={"StartTime": start, "EndTime": draw(st.sampled_from(["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"]))},
            HoldoutPercent=draw(st.sampled_from([0, 0, 30])),
            limits=draw(st.sampled_from([None, {"Total": 1}])),
        ))
    events = draw(st.lists(st.tuples(st.sampled_from(names + ["zzz"]),
                                     st.dictionaries(st.sampled_from(["k1", "k2"]), st.sampled_from(["x", "y", "xy", "z"]),
                                                     max_size=2),
                                     st.sampled_from(["2026-02-01T00:00:00Z", "2026-06-15T00:00:00Z", "2026-08-01T00:00:00Z"]),
                                     st.integers(0, 30)),
                          min_size=1, max_size=8))
    return {"index": index(camps), "events": events}


def brute_force_winner(idx: CampaignIndex, ev: Any, caps: EndpointCaps | None) -> str | None:
    """Every arm of the app, no buckets by event type, no early exit: filter, then min."""
    at = instant_seconds(ev.event.timestamp)
    ep = endpoint(ev.endpoint_id)
    context = EvaluationContext(ep, ev.endpoint_id, caps, at, ev.event)
    eligible: list[CompiledArm] = [
        arm for arm in idx.arms(APP)
        if arm.trigger.matches(ev.event.event_type, ev.event.attributes, ev.event.metrics)
        and context.admits(arm) and context.remaining_after_display(arm) is not None
    ]
    if not eligible:
        return None
    best = min(eligible, key=lambda a: (a.priority if a.priority is not None else float("inf"),
                                        a.window.start, a.campaign_id))
    return best.campaign_id


@FAST
@given(index_scenarios())
def test_index_gives_the_same_winner_as_brute_force(scenario: dict[str, Any]) -> None:
    idx = scenario["index"]
    caps: EndpointCaps | None = None
    for i, (kind, attrs, at, endpoint_no) in enumerate(scenario["events"]):
        ev = event(kind, attributes=attrs, at=at, event_id=f"x{i}", endpoint_id=f"e{endpoint_no}")
        decision = decide(idx, endpoint(f"e{endpoint_no}"), caps, ev, instant_seconds(at))
        assert (decision.campaign_id if decision else None) == brute_force_winner(idx, ev, caps)
        if decision is not None:
            caps = record_decision(caps, decision)


@settings(max_examples=25, deadline=None)
@given(
    campaign_id=st.text("0123456789abcdef", min_size=8, max_size=32),
    holdout=st.integers(0, 40),
    sizes=st.lists(st.integers(0, 30), max_size=3),
)
def test_treatment_buckets_are_stable_and_match_size_percent(campaign_id: str, holdout: int, sizes: list[int]) -> None:
    if holdout + sum(sizes) > 100:
        sizes = []
    treatments = [{"Id": str(i + 1), "SizePercent": s} for i, s in enumerate(sizes)]
    idx = index([campaign(campaign_id, HoldoutPercent=holdout, AdditionalTreatments=treatments or None)])
    arms = idx.arms(APP)
    expected = {"holdout": holdout, "0": 100 - holdout - sum(sizes)}
    expected.update({str(i + 1): size for i, size in enumerate(sizes)})
    n = 4000
    seen: Counter[str] = Counter()
    for i in range(n):
        found = [a.treatment_id for a in arms if a.bucket_low <= bucket_of(a.bucket_key, f"endpoint-{i}") < a.bucket_high]
        assert len(found) <= 1
        seen[found[0] if found else "holdout"] += 1
    for name, percent in expected.items():
        assert abs(seen[name] / n * 100 - percent) < 4.0, (name, percent, seen)
    # stable: the same endpoint gets the same treatment on any event
    for i in range(20):
        ids = {(d.treatment_id if d else None)
               for d in (decide(idx, endpoint(f"endpoint-{i}"), None,
                                event(event_id=f"{i}-{k}", endpoint_id=f"endpoint-{i}"), BASE + 86400 * 30)
                         for k in range(3))}
        assert len(ids) == 1
