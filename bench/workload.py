"""Workload W1 as data: endpoints, segments, campaigns and a stream of events (no I/O).

W1 (issue 6): 100,000 IN_APP endpoints; 1,000 live in-app campaigns over 50 event types
(20 per type) with attribute and metric trigger filters, dynamic segments and caps; events
keyed by EndpointId, in sessions, of which about 20 % end in a display decision. The
vocabulary (event types, platforms, countries, plans, zones, message content) is the one of
``bench/rules_bench.py`` so both benchmarks speak of the same population; the trigger mix is
tighter than rules_bench's (which decides on ~98 % of events) to reach the ~20 % share.

Everything is deterministic for a seed, except EventIds (they carry a per-run tag so a run
never matches decisions of an earlier run on the same broker) and timestamps (relative to
the moment the stream is created, so that the engine's clock-skew clamp never applies).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from bench.rules_bench import CONTENT, COUNTRIES, EVENT_TYPES, PLANS, PLATFORMS, ZONES
from rules.timeutil import format_instant

__all__ = [
    "PRESETS",
    "PROBE_EVENT_TYPE",
    "Sizes",
    "EventStream",
    "OutgoingEvent",
    "app_settings_request",
    "compact_json",
    "campaign_requests",
    "endpoint_id",
    "endpoint_requests",
    "probe_campaign_request",
    "segment_requests",
]

# 30 screens: a campaign's screen filter names one or two, so a trigger matches ~3-7 % of
# the events of its type before segment, caps, holdout and quiet time
SCREENS = [f"screen_{i:02d}" for i in range(30)]
SOURCES = ["organic"] * 19 + ["push"]  # 5 % of events come from a push notification
PAST_START = "2020-01-01T00:00:00Z"
FAR_END = "2099-01-01T00:00:00Z"
# not a workload type: one uncapped campaign on it tells when a restarted worker decides again
PROBE_EVENT_TYPE = "bench_probe"


@dataclass(frozen=True)
class Sizes:
    endpoints: int
    campaigns: int
    event_types: int  # campaigns per event type = campaigns / event_types (20 in both presets)
    events: int  # the backlog of phase (b); the yardstick (a) copies the same events
    latency_seconds: float  # length of the paced phase (c)
    api_seconds: float  # length of the GetInAppMessages phase (d)


PRESETS: dict[str, Sizes] = {
    "quick": Sizes(endpoints=5_000, campaigns=100, event_types=5, events=15_000, latency_seconds=6.0, api_seconds=5.0),
    "w1": Sizes(endpoints=100_000, campaigns=1_000, event_types=50, events=1_000_000, latency_seconds=60.0, api_seconds=20.0),
}


def endpoint_id(number: int) -> str:
    return f"ep-{number:06d}"


def endpoint_requests(count: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(EndpointId, EndpointRequest wire dict): platform, country, plan, visits, zone; 10 %
    with user attributes (the ``tier`` segment)."""
    rng = random.Random(seed * 1_000_003 + 1)
    for i in range(count):
        body: dict[str, Any] = {
            "ChannelType": "IN_APP",
            "Attributes": {"plan": [rng.choice(PLANS)]},
            "Demographic": {"Platform": rng.choice(PLATFORMS), "AppVersion": f"4.{rng.randint(0, 9)}.0"},
            "Location": {"Country": rng.choice(COUNTRIES)},
            "Metrics": {"visits": float(rng.randint(0, 40))},
            "EffectiveDate": "2026-06-01T00:00:00.000Z",
        }
        zone = rng.choice(ZONES)
        if zone is not None:
            body["Demographic"]["Timezone"] = zone
        if i % 10 == 0:
            body["User"] = {"UserId": f"u{i}", "UserAttributes": {"tier": ["vip"]}}
        yield endpoint_id(i), body


def segment_requests(seed: int) -> list[dict[str, Any]]:
    """20 dynamic segments (WriteSegmentRequest): everyone, platform, countries, plan
    INCLUSIVE/EXCLUSIVE, visits metric, user attribute, and combinations."""
    rng = random.Random(seed * 1_000_003 + 2)
    dims: list[dict[str, Any]] = [{}]
    dims += [{"Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": [p]}}} for p in PLATFORMS]
    dims += [{"Location": {"Country": {"DimensionType": "INCLUSIVE", "Values": rng.sample(COUNTRIES, 3)}}}
             for _ in range(4)]
    dims += [{"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": rng.sample(PLANS, 2)}}}
             for _ in range(3)]
    dims += [{"Attributes": {"plan": {"AttributeType": "EXCLUSIVE", "Values": ["free"]}},
              "Demographic": {"Platform": {"DimensionType": "INCLUSIVE", "Values": [p]}}} for p in PLATFORMS]
    dims += [{"Metrics": {"visits": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": v}}}
             for v in (3, 10, 30)]
    dims += [{"UserAttributes": {"tier": {"AttributeType": "INCLUSIVE", "Values": ["vip"]}}}]
    while len(dims) < 20:
        dims.append({"Location": {"Country": {"DimensionType": "INCLUSIVE", "Values": rng.sample(COUNTRIES, 4)}},
                     "Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": rng.sample(PLANS, 3)}}})
    return [{"Name": f"bench-segment-{i:02d}", "Dimensions": d} for i, d in enumerate(dims)]


def app_settings_request() -> dict[str, Any]:
    """App-wide caps for campaigns that set none (PRODUCT.md semantics 4)."""
    return {"Limits": {"Session": 2, "Daily": 5}}


def _message(number: int) -> dict[str, Any]:
    return {"InAppMessage": {"Layout": "MIDDLE_BANNER", "Content": CONTENT,
                             "CustomConfig": {"campaign": str(number)}}}


def campaign_requests(count: int, event_types: int, segment_ids: list[str], seed: int) -> Iterator[dict[str, Any]]:
    """WriteCampaignRequests: campaign ``i`` triggers on ``EVENT_TYPES[i % event_types]``.

    Trigger mix: 55 % one screen; 20 % two screens and ``cart_value > 100|150``; 15 %
    ``cart_value >= 190`` alone; 10 % ``source`` = push. Caps: 45 % Session 1, 20 %
    Session 1 / Daily 2 / Total 5, 15 % Daily 3, 20 % the app's (Session 2, Daily 5).
    Priority 1-5; 10 % quiet time 22:00-07:00; 20 % with a 10 % holdout.
    """
    rng = random.Random(seed * 1_000_003 + 3)
    for i in range(count):
        dims: dict[str, Any] = {"EventType": {"DimensionType": "INCLUSIVE", "Values": [EVENT_TYPES[i % event_types]]}}
        roll = rng.random()
        if roll < 0.55:
            dims["Attributes"] = {"screen": {"AttributeType": "INCLUSIVE", "Values": [rng.choice(SCREENS)]}}
        elif roll < 0.75:
            dims["Attributes"] = {"screen": {"AttributeType": "INCLUSIVE", "Values": rng.sample(SCREENS, 2)}}
            dims["Metrics"] = {"cart_value": {"ComparisonOperator": "GREATER_THAN", "Value": rng.choice([100, 150])}}
        elif roll < 0.90:
            dims["Metrics"] = {"cart_value": {"ComparisonOperator": "GREATER_THAN_OR_EQUAL", "Value": 190}}
        else:
            dims["Attributes"] = {"source": {"AttributeType": "INCLUSIVE", "Values": ["push"]}}
        schedule: dict[str, Any] = {"StartTime": PAST_START, "EndTime": FAR_END, "Frequency": "IN_APP_EVENT",
                                    "EventFilter": {"FilterType": "SYSTEM", "Dimensions": dims}}
        if rng.random() < 0.1:
            schedule["QuietTime"] = {"Start": "22:00", "End": "07:00"}
        request: dict[str, Any] = {
            "Name": f"bench-campaign-{i:04d}", "SegmentId": rng.choice(segment_ids),
            "Priority": rng.randint(1, 5), "Schedule": schedule, "MessageConfiguration": _message(i),
        }
        limits = rng.choices([{"Session": 1}, {"Session": 1, "Daily": 2, "Total": 5}, {"Daily": 3}, None],
                             weights=[45, 20, 15, 20])[0]
        if limits:
            request["Limits"] = limits
        if rng.random() < 0.2:
            request["HoldoutPercent"] = 10
        yield request


def probe_campaign_request(everyone_segment_id: str) -> dict[str, Any]:
    """Uncapped, priority 1, on an event type the workload never sends."""
    return {
        "Name": "bench-probe", "SegmentId": everyone_segment_id, "Priority": 1,
        "Limits": {"Session": 0, "Daily": 0, "Total": 0},
        "Schedule": {"StartTime": PAST_START, "EndTime": FAR_END, "Frequency": "IN_APP_EVENT",
                     "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
                         "EventType": {"DimensionType": "INCLUSIVE", "Values": [PROBE_EVENT_TYPE]}}}},
        "MessageConfiguration": _message(-1),
    }


def compact_json(value: Any) -> bytes:
    """``orjson.dumps`` copied into an exact-size ``bytes``: orjson 3.12+ returns its ~4 KiB
    output buffer unshrunk, so a million kept events would hold ~4 GiB instead of ~0.35."""
    return bytes(memoryview(orjson.dumps(value)))


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    event_id: str
    key: bytes
    value: bytes


class EventStream:
    """Events as app backends publish them: interleaved sessions of 10-30 events of one
    endpoint (one ``Session.Id``, 5-90 s apart), session starts spread over the 3 days
    before the stream was created. The first ``event_types`` of rules_bench's 50 uniformly; ``screen`` one of 30;
    ``source`` push for 5 %; ``cart_value`` on half the events (0-200)."""

    ACTIVE_SESSIONS = 256

    def __init__(self, app_id: str, endpoints: int, event_types: int, seed: int, tag: str) -> None:
        self.app_id = app_id
        self.event_types = EVENT_TYPES[:event_types]
        self.endpoints = endpoints
        self.tag = tag
        self.produced = 0
        self._rng = random.Random(seed * 1_000_003 + 4)
        self._now = time.time()
        self._sessions_started = 0
        self._active = [self._new_session() for _ in range(self.ACTIVE_SESSIONS)]

    def _new_session(self) -> list[Any]:
        rng = self._rng
        start = self._now - rng.uniform(120, 3 * 86400)
        self._sessions_started += 1
        session = {"Id": f"s-{self.tag}-{self._sessions_started:x}", "StartTimestamp": format_instant(start)}
        # [endpoint id, session, clock, events left]
        return [endpoint_id(rng.randrange(self.endpoints)), session, start, rng.randint(10, 30)]

    def take(self, count: int) -> list[OutgoingEvent]:
        rng = self._rng
        out: list[OutgoingEvent] = []
        for _ in range(count):
            slot = rng.randrange(self.ACTIVE_SESSIONS)
            state = self._active[slot]
            state[2] += rng.uniform(5, 90)
            state[3] -= 1
            body: dict[str, Any] = {
                "EventType": rng.choice(self.event_types),
                "Timestamp": format_instant(min(state[2], self._now)),
                "Attributes": {"screen": rng.choice(SCREENS), "source": rng.choice(SOURCES)},
                "Session": state[1],
            }
            if rng.random() < 0.5:
                body["Metrics"] = {"cart_value": float(rng.randint(0, 200))}
            event_id = f"{self.tag}-{self.produced:08x}"
            self.produced += 1
            record = {"ApplicationId": self.app_id, "EndpointId": state[0], "EventId": event_id, "Event": body}
            out.append(OutgoingEvent(event_id, state[0].encode(), compact_json(record)))
            if state[3] <= 0:
                self._active[slot] = self._new_session()
        return out

    def probe(self, number: int, endpoint: int = 0) -> OutgoingEvent:
        """A ``bench_probe`` event (only the probe campaign triggers on it)."""
        event_id = f"{self.tag}-probe-{number:06d}"
        stamp = format_instant(time.time())
        record = {"ApplicationId": self.app_id, "EndpointId": endpoint_id(endpoint), "EventId": event_id,
                  "Event": {"EventType": PROBE_EVENT_TYPE, "Timestamp": stamp,
                            "Session": {"Id": f"probe-{self.tag}", "StartTimestamp": stamp}}}
        return OutgoingEvent(event_id, endpoint_id(endpoint).encode(), compact_json(record))
