"""Benchmark of the pure decision core (``rules/``): events per second of evaluation.

A program that prints numbers, not a timed test (STYLE.md §14). Scenario: one app,
50 event types, 100,000 endpoints, and 1,000 or 10,000 live in-app campaigns spread over
the event types, with a realistic mix of attribute/metric trigger filters, shared segments
(platform, country, plan, metric, imported), priorities, caps, quiet time and holdouts.
Events are pre-decoded ``AppEvent`` models (decoding is measured on its own line).

Measured per event, on one core:

* stream     — ``rules.decide.decide`` per event, then ``rules.caps.record_decision``
               when it decides, each endpoint's cap state evolving (what the engine does);
* worst case — ``decide`` against empty cap state: nothing is ever capped, so almost
               every event walks to a winner and builds a decision;
* other types — 20 campaigns on one event type plus 0 / 1,000 / 10,000 campaigns on
               *other* event types: the cost for that type must stay flat.

Events come in sessions (10–30 events of one endpoint); timings are the best of three
passes, since the machine may be shared.

Run:  .venv/bin/python bench/rules_bench.py            (about a minute)
      .venv/bin/python bench/rules_bench.py --quick    (smaller, for a smoke run)
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules.caps import EndpointCaps, record_decision  # noqa: E402
from rules.decide import decide  # noqa: E402
from rules.index import CampaignIndex, compile_index  # noqa: E402
from rules.models import (  # noqa: E402
    AppEvent,
    ApplicationResponse,
    ApplicationSettingsResource,
    CampaignResponse,
    Endpoint,
    SegmentResponse,
    decode_app_event,
)
from rules.timeutil import format_instant, instant_seconds  # noqa: E402

APP = "0123456789abcdef0123456789abcdef"
CREATED = "2026-01-01T00:00:00.000Z"
NOW = instant_seconds("2026-06-15T12:00:00Z")
EVENT_TYPES = [f"event_{i:02d}" for i in range(50)]
PLATFORMS = ["ios", "android", "web"]
COUNTRIES = ["US", "CA", "FR", "DE", "JP", "BR", "IN", "GB"]
PLANS = ["free", "silver", "gold", "platinum"]
SCREENS = [f"screen_{i}" for i in range(10)]
ZONES = ["America/New_York", "Europe/Paris", "Asia/Tokyo", "UTC", None, "America/Los_Angeles"]
CONTENT = [{"BackgroundColor": "#000000",
            "HeaderConfig": {"Alignment": "CENTER", "Header": "Hello", "TextColor": "#FFFFFF"},
            "BodyConfig": {"Alignment": "CENTER", "Body": "A message", "TextColor": "#FFFFFF"},
            "PrimaryBtn": {"DefaultConfig": {"ButtonAction": "CLOSE", "Text": "OK"}}}]


def segments(rng: random.Random) -> dict[str, SegmentResponse]:
    """40 segments: everyone, and single/double dimension segments over endpoint data."""
    dims: list[dict[str, Any]] = [{}]
    dims += [{"Demographic": {"Platform": {"Values": [p]}}} for p in PLATFORMS]
    dims += [{"Location": {"Country": {"Values": rng.sample(COUNTRIES, 3)}}} for _ in range(8)]
    dims += [{"Attributes": {"plan": {"Values": rng.sample(PLANS, 2)}}} for _ in range(8)]
    dims += [{"Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["free"]}},
              "Demographic": {"Platform": {"Values": [p]}}} for p in PLATFORMS]
    dims += [{"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": v}}}
             for v in (0, 3, 10, 30)]
    dims += [{"UserAttributes": {"tier": {"Values": ["vip"]}}}]
    while len(dims) < 39:
        dims.append({"Location": {"Country": {"Values": rng.sample(COUNTRIES, 4)}},
                     "Attributes": {"plan": {"Values": rng.sample(PLANS, 3)}}})
    found = {}
    for i, d in enumerate(dims):
        found[f"seg{i:02d}"] = SegmentResponse.model_validate(
            {"ApplicationId": APP, "Arn": "arn", "CreationDate": CREATED, "Id": f"seg{i:02d}",
             "SegmentType": "DIMENSIONAL", "Version": 1, "Dimensions": d})
    found["imported"] = SegmentResponse.model_validate(
        {"ApplicationId": APP, "Arn": "arn", "CreationDate": CREATED, "Id": "imported", "SegmentType": "IMPORT",
         "Version": 1})
    return found


def campaign(rng: random.Random, number: int, event_type: str, segment_ids: list[str]) -> CampaignResponse:
    dims: dict[str, Any] = {"EventType": {"DimensionType": "INCLUSIVE", "Values": [event_type]}}
    roll = rng.random()
    if roll < 0.5:
        dims["Attributes"] = {"screen": {"Values": rng.sample(SCREENS, rng.randint(1, 3))}}
    elif roll < 0.7:
        dims["Metrics"] = {"cart_value": {"ComparisonOperator": "GREATER_THAN", "Value": rng.choice([0, 50, 100])}}
    # the console default is SessionCap 1 (reference §8.2); some campaigns add daily/total
    limits = rng.choices([{"Session": 1}, {"Session": 1, "Daily": 2, "Total": 5}, {"Daily": 3}, None],
                         weights=[50, 20, 10, 20])[0]
    schedule: dict[str, Any] = {"StartTime": "2026-01-01T00:00:00Z", "EndTime": "2027-01-01T00:00:00Z",
                                "Frequency": "IN_APP_EVENT", "EventFilter": {"FilterType": "SYSTEM", "Dimensions": dims}}
    if rng.random() < 0.1:
        schedule["QuietTime"] = {"Start": "22:00", "End": "07:00"}
    data: dict[str, Any] = {
        "ApplicationId": APP, "Arn": "arn", "CreationDate": CREATED, "LastModifiedDate": CREATED,
        "Id": f"{number:032x}", "SegmentId": rng.choice(segment_ids), "SegmentVersion": 1,
        "Priority": rng.randint(1, 5), "Schedule": schedule,
        "MessageConfiguration": {"InAppMessage": {"Layout": "MIDDLE_BANNER", "Content": CONTENT}},
    }
    if limits:
        data["Limits"] = limits
    if rng.random() < 0.2:
        data["HoldoutPercent"] = 10
    return CampaignResponse.model_validate(data)


def build_index(campaigns: list[CampaignResponse], segs: dict[str, SegmentResponse]) -> tuple[CampaignIndex, float]:
    started = time.perf_counter()
    index = compile_index(
        {APP: ApplicationResponse(arn="arn", id=APP, name="bench")},
        {APP: ApplicationSettingsResource(application_id=APP)},
        segs, {}, {c.id: c for c in campaigns},
    )
    elapsed = time.perf_counter() - started
    assert not index.errors, index.errors[:3]
    return index, elapsed


def endpoints(rng: random.Random, count: int) -> list[Endpoint]:
    built = []
    for i in range(count):
        data: dict[str, Any] = {
            "Id": f"endpoint-{i:06d}", "ApplicationId": APP, "ChannelType": "IN_APP",
            "Attributes": {"plan": [rng.choice(PLANS)]},
            "Demographic": {"Platform": rng.choice(PLATFORMS), "Timezone": rng.choice(ZONES)},
            "Location": {"Country": rng.choice(COUNTRIES)},
            "Metrics": {"visits": float(rng.randint(0, 40))},
            "EffectiveDate": "2026-06-01T00:00:00Z",
        }
        if i % 10 == 0:
            data["User"] = {"UserId": f"u{i}", "UserAttributes": {"tier": ["vip"]}}
        if i % 50 == 0:
            data["ImportedSegments"] = ["imported"]
        built.append(Endpoint.model_validate(data))
    return built


def events(rng: random.Random, count: int, n_endpoints: int, types: list[str]) -> list[dict[str, Any]]:
    """Sessions of 10–30 events (one endpoint, one ``Session.Id``, a few minutes) for
    random endpoints, spread over six days around ``NOW``: what an app backend publishes."""
    raw: list[dict[str, Any]] = []
    while len(raw) < count:
        endpoint_id = f"endpoint-{rng.randrange(n_endpoints):06d}"
        start = NOW + rng.uniform(-3 * 86400, 3 * 86400)
        session = {"Id": f"s-{len(raw):08x}", "StartTimestamp": format_instant(start)}
        at = start
        for _ in range(rng.randint(10, 30)):
            at += rng.uniform(5, 90)
            body: dict[str, Any] = {"EventType": rng.choice(types), "Timestamp": format_instant(at),
                                    "Attributes": {"screen": rng.choice(SCREENS)}, "Session": session}
            if rng.random() < 0.5:
                body["Metrics"] = {"cart_value": float(rng.randint(0, 200))}
            raw.append({"ApplicationId": APP, "EndpointId": endpoint_id,
                        "EventId": f"{len(raw):08x}-0000-4000-8000-000000000000", "Event": body})
    return raw[:count]


def run(index: CampaignIndex, by_id: dict[str, Endpoint], batch: list[AppEvent], record: bool,
        repeat: int = 3) -> tuple[float, float]:
    """Best events/s of ``repeat`` passes (the machine is shared), and decisions/event.
    With ``record`` each endpoint's cap state evolves as in the engine; without, every
    event is evaluated against empty cap state (nothing is ever capped: the worst case)."""
    best = 0.0
    decided = 0
    for _ in range(repeat):
        caps: dict[str, EndpointCaps | None] = {}
        decided = 0
        gc.collect()
        started = time.perf_counter()
        for offset, event in enumerate(batch):
            endpoint_id = event.endpoint_id
            state = caps.get(endpoint_id)
            decision = decide(index, by_id[endpoint_id], state, event, NOW)
            if decision is not None:
                decided += 1
                if record:
                    caps[endpoint_id] = record_decision(state, decision, source=(0, offset))
        best = max(best, len(batch) / (time.perf_counter() - started))
    return best, decided / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 endpoints and 40,000 events")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n_endpoints, n_events = (10_000, 40_000) if args.quick else (100_000, 200_000)
    rng = random.Random(args.seed)
    print(f"rules benchmark — Python {platform.python_version()} on {platform.machine()}, one core")
    segs = segments(rng)
    segment_ids = sorted(segs)
    t = time.perf_counter()
    population = endpoints(rng, n_endpoints)
    by_id = {e.id: e for e in population if e.id}
    raw = events(rng, n_events, n_endpoints, EVENT_TYPES)
    print(f"setup: {n_endpoints:,} endpoints, {n_events:,} events over {len(EVENT_TYPES)} event types "
          f"({time.perf_counter() - t:.1f} s)")

    decoded = [decode_app_event(r) for r in raw]
    gc.collect()
    gc.freeze()  # setup objects are long-lived, like the engine's tables: keep them out of GC passes
    sample = raw[:20_000]
    encoded = [json.dumps(r).encode() for r in sample]
    for label, inputs in (("orjson-parsed dict", sample), ("JSON bytes", encoded)):
        best = 0.0
        for _ in range(3):
            t = time.perf_counter()
            for item in inputs:
                decode_app_event(item)  # decoded and dropped, as in the engine
            best = max(best, len(inputs) / (time.perf_counter() - t))
        print(f"decode_app_event ({label} -> AppEvent): {best:,.0f} events/s")

    print("\n| live campaigns | compile | stream: decide + record_decision | decisions/event "
          "| worst case: decide, no cap state | decisions/event |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_campaigns in (1_000, 10_000):
        camps = [campaign(rng, i, EVENT_TYPES[i % len(EVENT_TYPES)], segment_ids) for i in range(n_campaigns)]
        index, compile_s = build_index(camps, segs)
        rate, share = run(index, by_id, decoded, record=True)
        worst, worst_share = run(index, by_id, decoded, record=False)
        print(f"| {n_campaigns:,} | {compile_s:.2f} s | {rate:,.0f} events/s | {share:.2f} "
              f"| {worst:,.0f} events/s | {worst_share:.2f} |")

    print("\nOne event type while campaigns for *other* types grow (20 campaigns trigger on "
          "`event_00`; every event is `event_00`; stream mode):")
    print("\n| campaigns on other event types | events/s | decisions/event |")
    print("|---:|---:|---:|")
    own = [campaign(rng, i, "event_00", segment_ids) for i in range(20)]
    same_type = [AppEvent.model_validate({**r, "Event": {**r["Event"], "EventType": "event_00"}})
                 for r in raw[: n_events // 2]]
    for others in (0, 1_000, 10_000):
        extra = [campaign(rng, 100_000 + i, EVENT_TYPES[1 + i % 49], segment_ids) for i in range(others)]
        index, _ = build_index(own + extra, segs)
        rate, share = run(index, by_id, same_type, record=True)
        print(f"| {others:,} | {rate:,.0f} | {share:.2f} |")


if __name__ == "__main__":
    main()
