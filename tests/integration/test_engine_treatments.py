"""Holdout and A/B treatments over 200 endpoints (PRODUCT.md semantics 6).

A stable hash of (campaign id, endpoint id) gives each endpoint a bucket 0–99: below
``HoldoutPercent`` it is held out (no decision), the rest is split by ``SizePercent``
between the default treatment "0" and the ``AdditionalTreatments`` "1", "2", … Shares are
checked within four standard deviations of the binomial count (campaign ids, hence
buckets, differ from run to run); the same endpoint must always get the same treatment.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event, header_of, in_app_message
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = [f"user-{n:03d}" for n in range(200)]


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "treatments")
    created.endpoints({eid: {"Demographic": {"Timezone": "UTC"}} for eid in ENDPOINTS})
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


def one_each(app: PinpointApp, event_type: str) -> list[dict]:
    return [event(app.app_id, eid, event_type) for eid in ENDPOINTS]


def assert_share(count: int, percent: int, population: int = len(ENDPOINTS)) -> None:
    p = percent / 100
    expected = population * p
    tolerance = 4 * math.sqrt(population * p * (1 - p))
    assert abs(count - expected) <= tolerance, f"{count} of {population}, expected about {expected:.0f} ({percent}%)"


def treatment(size: int, header: str) -> dict:
    return {"SizePercent": size, "TreatmentName": header, "MessageConfiguration": in_app_message(header)}


async def test_holdout_100_means_nobody_gets_the_campaign(app, topics):
    app.campaign("all-held-out", ["held"], HoldoutPercent=100)
    assert await topics.decide(one_each(app, "held")) == []


async def test_treatments_split_endpoints_by_size_percent_and_stick(app, topics):
    campaign = app.campaign("ab-test", ["ab"], header="variant-default", HoldoutPercent=0,
                            AdditionalTreatments=[treatment(30, "variant-b"), treatment(20, "variant-c")])
    first = await topics.decide(one_each(app, "ab"))
    assert sorted(d["EndpointId"] for d in first) == ENDPOINTS  # no holdout: everyone
    assert {d["CampaignId"] for d in first} == {campaign}
    shares = Counter(d["TreatmentId"] for d in first)
    assert set(shares) == {"0", "1", "2"}
    assert_share(shares["0"], 50)
    assert_share(shares["1"], 30)
    assert_share(shares["2"], 20)
    # each treatment delivers its own content
    assert {(d["TreatmentId"], header_of(d)) for d in first} == {
        ("0", "variant-default"), ("1", "variant-b"), ("2", "variant-c")}

    # two more rounds: every endpoint keeps its treatment
    assigned = {d["EndpointId"]: d["TreatmentId"] for d in first}
    again = await topics.decide(one_each(app, "ab") + one_each(app, "ab"))
    assert len(again) == 2 * len(ENDPOINTS)
    assert [(d["EndpointId"], d["TreatmentId"]) for d in again] == [
        (d["EndpointId"], assigned[d["EndpointId"]]) for d in again]


async def test_a_partial_holdout_always_holds_out_the_same_endpoints(app, topics):
    app.campaign("partial-holdout", ["partial"], HoldoutPercent=40,
                 AdditionalTreatments=[treatment(20, "partial-b")])
    first = await topics.decide(one_each(app, "partial"))
    shares = Counter(d["TreatmentId"] for d in first)
    assert_share(len(ENDPOINTS) - len(first), 40)  # held out
    assert_share(shares["0"], 40)
    assert_share(shares["1"], 20)
    assert set(shares) <= {"0", "1"}
    again = await topics.decide(one_each(app, "partial"))
    assert [(d["EndpointId"], d["TreatmentId"]) for d in again] == [
        (d["EndpointId"], d["TreatmentId"]) for d in first]


async def test_each_campaign_draws_its_own_buckets(app, topics):
    # two campaigns with holdout 50: an endpoint held out of one is not thereby held out of
    # the other (PRODUCT.md: the hash is of campaign id *and* endpoint id)
    app.campaign("half-a", ["half_a"], HoldoutPercent=50)
    app.campaign("half-b", ["half_b"], HoldoutPercent=50)
    got_a = {d["EndpointId"] for d in await topics.decide(one_each(app, "half_a"))}
    got_b = {d["EndpointId"] for d in await topics.decide(one_each(app, "half_b"))}
    assert_share(len(got_a), 50)
    assert_share(len(got_b), 50)
    assert got_a != got_b
    assert_share(len(got_a & got_b), 25)


async def test_held_out_endpoints_fall_through_to_the_next_campaign(app, topics):
    top = app.campaign("top-with-holdout", ["fall"], Priority=1, HoldoutPercent=50)
    fallback = app.campaign("fallback", ["fall"], Priority=2)
    decisions = await topics.decide(one_each(app, "fall"))
    assert sorted(d["EndpointId"] for d in decisions) == ENDPOINTS  # exactly one each
    winners = Counter(d["CampaignId"] for d in decisions)
    assert set(winners) == {top, fallback}
    assert_share(winners[fallback], 50)
    # the same endpoints are held out the next time
    again = await topics.decide(one_each(app, "fall"))
    assert [(d["EndpointId"], d["CampaignId"]) for d in again] == [
        (d["EndpointId"], d["CampaignId"]) for d in decisions]
