"""The fault suite's workload and its oracle: the pure core replaying the same events.

The setup is test_engine_crash.py's (an app, IN_APP endpoints in one attribute segment, a
``checkout`` campaign capped at 2 per session and 3 in total), scaled up and with a second,
uncapped campaign on ``app_open`` so that most triggering events end with a decision. Events
of different endpoints are interleaved (as real traffic is), each endpoint's in time order.

:meth:`Workload.verify` checks what the engine did against :func:`tests.integration.replay.replay`
of the same events in publish order (per endpoint the order Kafka keeps):

* the unique decisions are exactly the replay's, each body equal to the replay's;
* a repeat (at-least-once, after a crash or a broker restart) is byte-for-byte the same
  decision (same DecisionId, same body);
* no endpoint saw a campaign more often than its session and total caps allow;
* the final cap state (the engine's caps changelog, last value per endpoint) equals the
  replay's, and GetInAppMessages answers what the pure core answers for that state;
* the campaign counters (boto3 ``get_campaign_date_range_kpi``) equal the replay's counts.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from engine.app import endpoint_key
from engine.ingest import ingest_group
from engine.launcher import Deployment
from engine.scenario import app_event
from rules.caps import EndpointCaps
from rules.index import CampaignIndex
from rules.listing import in_app_messages
from rules.models import Endpoint
from tests.faults.kafka_io import committed, end_offsets, publish, read_records
from tests.integration.replay import index_of, replay
from tests.integration.workers import pinpoint_client

__all__ = ["CHECKOUT_LIMITS", "Checked", "Workload"]

CHECKOUT_LIMITS = {"Session": 2, "Daily": 0, "Total": 3}
_KPI = "inapp-decisions"


def _campaign(name: str, segment_id: str, event_type: str, limits: dict[str, int], priority: int,
              end: str, body: str) -> dict[str, Any]:
    return {
        "Name": name, "SegmentId": segment_id, "Priority": priority, "Limits": limits,
        "Schedule": {"StartTime": "IMMEDIATE", "EndTime": end, "Frequency": "IN_APP_EVENT",
                     "EventFilter": {"FilterType": "SYSTEM", "Dimensions": {
                         "EventType": {"DimensionType": "INCLUSIVE", "Values": [event_type]}}}},
        "MessageConfiguration": {"InAppMessage": {"Layout": "MIDDLE_BANNER", "Content": [{
            "BodyConfig": {"Alignment": "LEFT", "Body": body, "TextColor": "#000000"}}]}},
    }


@dataclass(frozen=True)
class Checked:
    """What :meth:`Workload.verify` looked at (the figures a fault test prints)."""

    decisions: int  # unique decisions, each compared with the replay's
    repeats: int  # extra copies of a DecisionId (at-least-once), each identical to the first
    caps_compared: int  # endpoints whose final cap state was compared with the replay's
    listings_compared: int  # GetInAppMessages answers compared with the pure core's
    slowest_listing: float  # seconds (reported, not asserted: reads wait for writes before them)
    kpis: dict[str, int]  # campaign name -> inapp-decisions KPI (equal to the replay's)


@dataclass
class Workload:
    """One app on one deployment, its events, and what the pure core says they give."""

    deployment: Deployment
    app_id: str
    campaigns: dict[str, str]  # name -> campaign id
    endpoints: dict[str, dict[str, Any]]  # endpoint id -> profile (as the replay reads it)
    events: list[dict[str, Any]] = field(default_factory=list)
    index: CampaignIndex | None = None
    expected: dict[str, dict[str, Any]] = field(default_factory=dict)  # DecisionId -> wire dict
    expected_caps: dict[str, EndpointCaps] = field(default_factory=dict)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)  # EventId -> (partition, offset)

    # -- setup through the API, events through Kafka ----------------------------------
    @classmethod
    def create(cls, deployment: Deployment, base_url: str, *, endpoints: int, events: int,
               seed: int = 7) -> Workload:
        client = pinpoint_client(base_url)
        app_id = client.create_app(CreateApplicationRequest={"Name": "faults"})["ApplicationResponse"]["Id"]
        profiles = {
            f"ep-{i:05d}": {"ChannelType": "IN_APP", "Attributes": {"plan": ["pro"]},
                            "Demographic": {"Timezone": "UTC"}}
            for i in range(endpoints)
        }
        items = [{"Id": eid, **body} for eid, body in profiles.items()]
        for start in range(0, len(items), 100):
            client.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items[start:start + 100]})
        segment_id = client.create_segment(ApplicationId=app_id, WriteSegmentRequest={
            "Name": "pro", "Dimensions": {"Attributes": {"plan": {"AttributeType": "INCLUSIVE", "Values": ["pro"]}}},
        })["SegmentResponse"]["Id"]
        end = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        campaigns = {}
        for name, event_type, limits, priority in (("checkout-nudge", "checkout", CHECKOUT_LIMITS, 2),
                                                   ("welcome-back", "app_open", {}, 3)):
            request = _campaign(name, segment_id, event_type, limits, priority, end, f"{name} body")
            campaigns[name] = client.create_campaign(
                ApplicationId=app_id, WriteCampaignRequest=request)["CampaignResponse"]["Id"]
        # endpoints are upserted asynchronously (202): the last one read back means all applied
        # before the events that name them arrive (reads wait for writes acked before them)
        for eid in (items[0]["Id"], items[-1]["Id"]):
            client.get_endpoint(ApplicationId=app_id, EndpointId=eid)
        workload = cls(deployment, app_id, campaigns,
                       {eid: {**body, "Id": eid, "ApplicationId": app_id} for eid, body in profiles.items()})
        workload.events = workload._make_events(events, seed)
        return workload

    def _make_events(self, total: int, seed: int) -> list[dict[str, Any]]:
        """``total`` events: per endpoint sessions of up to four events, about 12% checkout
        (capped campaign), 18% app_open (uncapped), the rest page_view (no campaign)."""
        rng = random.Random(seed)
        start = datetime.now(UTC)  # campaigns start IMMEDIATE: at their creation
        endpoint_ids = list(self.endpoints)
        per_endpoint: dict[str, int] = defaultdict(int)
        events = []
        for _ in range(total):
            eid = rng.choice(endpoint_ids)
            n = per_endpoint[eid]
            per_endpoint[eid] += 1
            roll = rng.random()
            kind = "checkout" if roll < 0.12 else "app_open" if roll < 0.30 else "page_view"
            events.append(app_event(self.app_id, eid, kind, session_id=f"s-{n // 4}",
                                    at=start + timedelta(milliseconds=n)))
        return events

    def replay(self) -> None:
        """The pure core's decisions and final caps for the events, in publish order."""
        self.index = asyncio.run(index_of(self.deployment.bootstrap, self.deployment.prefix))
        self.expected, self.expected_caps = replay(self.index, self.endpoints, self.events)
        assert self.expected, "the workload must trigger decisions"

    def publish(self, events: list[dict[str, Any]] | None = None, rate: float | None = None) -> None:
        """Publish the events (all of them by default), at most ``rate`` a second."""
        batch = self.events if events is None else events
        landed = asyncio.run(publish(self.deployment.bootstrap, self.topic("events"),
                                     ((e["EndpointId"].encode(), orjson.dumps(e)) for e in batch),
                                     one_per_batch=self.deployment.embedded_broker, rate=rate))
        self.positions.update((e["EventId"], position) for e, position in zip(batch, landed))

    def publish_in_background(self, rate: float) -> threading.Thread:
        """Publish every event at ``rate`` a second from a thread; join it before verifying."""
        thread = threading.Thread(target=self.publish, kwargs={"rate": rate}, name="publisher", daemon=True)
        thread.start()
        return thread

    # -- watching the run ---------------------------------------------------------------
    def topic(self, name: str) -> str:
        return f"{self.deployment.prefix}{name}"

    def processed(self) -> int:
        """Events processed so far, repeats included: each leaves one pinpoint-events record."""
        return sum(asyncio.run(end_offsets(self.deployment.bootstrap, self.topic("pinpoint-events"))).values())

    def caught_up(self) -> bool:
        """The ingest has committed every published event (outputs are flushed before a commit)."""
        topic = self.topic("events")
        ends = asyncio.run(end_offsets(self.deployment.bootstrap, topic))
        done = asyncio.run(committed(self.deployment.bootstrap, ingest_group(self.deployment.app_id), topic))
        return all(done.get(p, 0) >= end for p, end in ends.items())

    def wait_processed(self, count: int, timeout: float, poll: float = 0.5) -> float:
        """Block until ``count`` events were processed; the seconds it took."""
        t0 = time.monotonic()
        while self.processed() < count:
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"{self.processed()} of {count} events processed after {timeout:.0f}s")
            time.sleep(poll)
        return time.monotonic() - t0

    def wait_caught_up(self, timeout: float, alive: Callable[[], bool] | None = None,
                       stalled_after: float = 120.0) -> float:
        """Block until the ingest committed every event; fails early (with the events that
        were never processed) when neither processing nor commits move for ``stalled_after``."""
        t0 = time.monotonic()
        last, moved = None, time.monotonic()
        while not self.caught_up():
            if alive is not None and not alive():
                raise AssertionError("a worker died before the run was processed")
            progress = (self.processed(), sum(asyncio.run(committed(
                self.deployment.bootstrap, ingest_group(self.deployment.app_id), self.topic("events"))).values()))
            if progress != last:
                last, moved = progress, time.monotonic()
            elif time.monotonic() - moved > stalled_after:
                raise AssertionError(f"no progress for {stalled_after:.0f}s: {progress[0]} processed (repeats "
                                     f"included), {progress[1]} of {len(self.events)} committed; "
                                     f"{self.never_processed()}")
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f"events not all committed after {timeout:.0f}s "
                                   f"({self.processed()} of {len(self.events)} processed, repeats included)")
            time.sleep(1.0)
        return time.monotonic() - t0

    # -- the oracle -----------------------------------------------------------------------
    def observed(self) -> list[dict[str, Any]]:
        records = asyncio.run(read_records(self.deployment.bootstrap, self.topic("decisions")))
        return [d for d in (r.json() for r in records) if d["ApplicationId"] == self.app_id]

    def verify(self, base_url: str, *, listings: int = 50, kpi_timeout: float = 60.0) -> Checked:
        """Everything the module docstring lists; the figures of what was checked."""
        observed = self.observed()
        by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for decision in observed:
            by_id[decision["DecisionId"]].append(decision)
        missing = set(self.expected) - set(by_id)
        extra = set(by_id) - set(self.expected)
        assert not missing and not extra, (
            f"decisions differ from the pure core's replay: {len(missing)} missing "
            f"(e.g. {sorted(missing)[:3]}), {len(extra)} unexpected (e.g. {sorted(extra)[:3]}); "
            f"{self.never_processed()}")
        for decision_id, copies in by_id.items():
            assert all(c == copies[0] for c in copies[1:]), f"repeats of {decision_id} differ: {copies}"
            assert copies[0] == self.expected[decision_id], (
                f"decision {decision_id} differs from the replay's:\n{copies[0]}\n{self.expected[decision_id]}")

        checkout = self.campaigns["checkout-nudge"]
        unique = [copies[0] for copies in by_id.values()]
        per_endpoint = Counter(d["EndpointId"] for d in unique if d["CampaignId"] == checkout)
        assert max(per_endpoint.values()) <= CHECKOUT_LIMITS["Total"], "a total cap was exceeded"
        session_of = {e["EventId"]: e["Event"]["Session"]["Id"] for e in self.events}
        per_session = Counter((d["EndpointId"], session_of[d["EventId"]]) for d in unique if d["CampaignId"] == checkout)
        assert max(per_session.values()) <= CHECKOUT_LIMITS["Session"], "a session cap was exceeded"

        caps_compared = self._compare_cap_state()
        listings_compared, slowest = self._compare_listings(base_url, listings)
        kpis = self._compare_kpis(base_url, kpi_timeout)
        return Checked(len(by_id), len(observed) - len(by_id), caps_compared, listings_compared, slowest, kpis)

    def never_processed(self) -> str:
        """Events with no pinpoint-events record (never processed, yet committed), as
        offset ranges per events partition: what a skipped stretch of input looks like."""
        seen = set()
        for record in asyncio.run(read_records(self.deployment.bootstrap, self.topic("pinpoint-events"))):
            for item in record.json()["EventsRequest"]["BatchItem"].values():
                seen.update(item["Events"])
        lost: dict[int, list[int]] = defaultdict(list)
        for event in self.events:
            if event["EventId"] not in seen and event["EventId"] in self.positions:
                partition, offset = self.positions[event["EventId"]]
                lost[partition].append(offset)
        if not lost:
            return "every event was processed"
        ranges = []
        for partition, offsets in sorted(lost.items()):
            offsets.sort()
            start = prev = offsets[0]
            for offset in offsets[1:]:
                if offset != prev + 1:
                    ranges.append(f"p{partition}:{start}-{prev}")
                    start = offset
                prev = offset
            ranges.append(f"p{partition}:{start}-{prev}")
        total = sum(map(len, lost.values()))
        return f"{total} events were never processed (no pinpoint-events record): {', '.join(ranges[:20])}"

    def _compare_cap_state(self) -> int:
        """The caps table's changelog, last value per endpoint, against the replay's caps."""
        topic = f"{self.deployment.app_id}-caps-changelog"
        last: dict[bytes, bytes | None] = {}
        for record in asyncio.run(read_records(self.deployment.bootstrap, topic)):
            if record.key is not None:
                last[record.key] = record.value
        compared = 0
        for eid, expected in self.expected_caps.items():
            raw = last.get(endpoint_key(self.app_id, eid))
            actual = EndpointCaps.from_json(orjson.loads(raw)) if raw is not None else EndpointCaps()
            assert _counts(actual) == _counts(expected), f"cap state of {eid} differs from the replay's"
            compared += 1
        untouched = [eid for eid in self.endpoints if eid not in self.expected_caps
                     and last.get(endpoint_key(self.app_id, eid)) is not None
                     and _counts(EndpointCaps.from_json(orjson.loads(last[endpoint_key(self.app_id, eid)])))
                     != _counts(EndpointCaps())]
        assert not untouched, f"endpoints with no decision in the replay have counts: {untouched[:5]}"
        return compared

    def _compare_listings(self, base_url: str, limit: int) -> tuple[int, float]:
        """GetInAppMessages (the user-visible cap state) against the pure core's listing,
        for ``limit`` endpoints spread over all partitions; (count, slowest answer in s)."""
        assert self.index is not None
        client = pinpoint_client(base_url)
        now = datetime.now(UTC).timestamp()
        ids = sorted(self.endpoints)
        chosen = ids[::max(1, len(ids) // limit)][:limit]
        slowest = 0.0
        for eid in chosen:
            t0 = time.monotonic()
            answer = client.get_in_app_messages(ApplicationId=self.app_id, EndpointId=eid)
            slowest = max(slowest, time.monotonic() - t0)
            listed = answer["InAppMessagesResponse"]["InAppMessageCampaigns"]
            model = Endpoint.model_validate(self.endpoints[eid])
            expected = in_app_messages(self.index, self.app_id, model, self.expected_caps.get(eid), now,
                                       endpoint_id=eid)
            assert orjson.loads(orjson.dumps(listed)) == orjson.loads(orjson.dumps(expected)), (
                f"GetInAppMessages for {eid} differs from the pure core's:\n{listed}\n{expected}")
        return len(chosen), round(slowest, 2)

    def _compare_kpis(self, base_url: str, timeout: float) -> dict[str, int]:
        """Campaign counters: boto3 get_campaign_date_range_kpi against the replay's counts."""
        client = pinpoint_client(base_url)
        want = Counter(d["CampaignId"] for d in self.expected.values())
        now = datetime.now(UTC)
        got: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        for name, campaign_id in self.campaigns.items():
            while True:
                response = client.get_campaign_date_range_kpi(
                    ApplicationId=self.app_id, CampaignId=campaign_id, KpiName=_KPI,
                    StartTime=now - timedelta(days=2), EndTime=now + timedelta(days=1))
                rows = response["CampaignDateRangeKpiResponse"]["KpiResult"]["Rows"]
                got[name] = int(sum(float(v["Value"]) for row in rows for v in row["Values"]))
                # the ingest may still be summing the last deltas: never more, then equal
                assert got[name] <= want[campaign_id], f"{name}: KPI {got[name]} over the replay's {want[campaign_id]}"
                if got[name] == want[campaign_id] or time.monotonic() > deadline:
                    break
                time.sleep(1.0)
            assert got[name] == want[campaign_id], f"{name}: KPI {_KPI} {got[name]} != replay {want[campaign_id]}"
        return got


def _counts(caps: EndpointCaps) -> tuple[Any, ...]:
    """What caps decide on: totals, per-day and per-session counts (not the replay ring or
    the last source position, which only the engine keeps)."""
    return (dict(caps.totals), {day: dict(c) for day, c in caps.days.items()},
            tuple((s.session_id, dict(s.counts)) for s in caps.sessions))
