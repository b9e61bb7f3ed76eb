"""Kafka plumbing of the benchmark: topics, fast publishing, the raw yardstick, the output
watcher, and topic sizes. Plain aiokafka; nothing here imports the engine's Faust app.

Tansu 0.6.0 reports end offsets *below* the real ones after multi-record batches
(faust-kafka-notes §5; engine/settings.py ``producer_max_batch_bytes``), so nothing here
trusts ``end_offsets``: progress is counted from the records themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from bench.workload import PROBE_EVENT_TYPE, OutgoingEvent

__all__ = ["OutputWatcher", "Tracked", "TopicSize", "create_topics", "paced", "passthrough", "publish", "topic_sizes"]

WATCHER_FETCH_WAIT_MS = 100
FAST_PRODUCER = {"linger_ms": 20, "max_batch_size": 256 * 1024, "acks": 1}


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]],
                  on_progress: Callable[[int], None] | None = None, **producer_options: Any) -> float:
    """Send ``(key, value)`` records as fast as the client goes; seconds until all acked."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **{**FAST_PRODUCER, **producer_options})
    await producer.start()
    try:
        started = time.perf_counter()
        pending: list[asyncio.Future[Any]] = []
        for n, (key, value) in enumerate(records, start=1):
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
                if on_progress:
                    on_progress(n)
        await asyncio.gather(*pending)
        if on_progress:
            on_progress(len(records))
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def _assigned_from_start(consumer: AIOKafkaConsumer, topics: Sequence[str], partitions: int) -> None:
    """Assign every partition of ``topics`` (each has ``partitions``; the engine's output and
    changelog topics are co-partitioned with events) and seek to the beginning."""
    assigned = [TopicPartition(topic, p) for topic in topics for p in range(partitions)]
    consumer.assign(assigned)
    await consumer.seek_to_beginning(*assigned)


async def passthrough(bootstrap: str, source: str, destination: str, expected: int, partitions: int,
                      on_progress: Callable[[int], None] | None = None, **producer_options: Any) -> dict[str, float]:
    """The raw yardstick: consume ``source`` from the beginning, ``orjson`` decode and
    encode each value, produce it (same key) to ``destination``; events/s from the first
    record received to the last one acked."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, **producer_options)
    await consumer.start()
    await producer.start()
    try:
        await _assigned_from_start(consumer, [source], partitions)
        seen = 0
        first: float | None = None
        pending: list[asyncio.Future[Any]] = []
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            if first is None and batches:
                first = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    value = orjson.dumps(orjson.loads(message.value))
                    pending.append(await producer.send(destination, value, key=message.key))
                seen += len(messages)
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
            if on_progress:
                on_progress(seen)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - (first or time.perf_counter())
        return {"events": seen, "seconds": elapsed, "events_per_s": seen / elapsed if elapsed else 0.0}
    finally:
        await producer.stop()
        await consumer.stop()


@dataclass
class Tracked:
    """An event whose processing is timed: publish wall time, then what came back."""

    published: float
    processed_ts: float | None = None  # CreateTime of its pinpoint-events record
    decision_ts: float | None = None  # CreateTime of its decision record
    decision_seen: float | None = None  # when the watcher received the decision


@dataclass
class OutputWatcher:
    """Reads the engine's outputs from the beginning for the whole run: counts processed
    events (one ``pinpoint-events`` record each), decisions, dead letters and endpoint
    changelog records, and times tracked events by EventId."""

    bootstrap: str
    prefix: str
    faust_app_id: str
    partitions: int
    processed: int = 0
    decisions: int = 0
    decision_ids: set[str] = field(default_factory=set)
    dead_letters: int = 0
    dead_letter_samples: list[str] = field(default_factory=list)
    endpoint_changes: int = 0
    first_processed_ts: float | None = None
    last_processed_ts: float | None = None
    tracked: dict[str, Tracked] = field(default_factory=dict)
    probe_decisions: list[float] = field(default_factory=list)  # CreateTimes
    stamps: Any = None  # when set (an array), every pinpoint-events CreateTime is appended
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    @property
    def topics(self) -> dict[str, str]:
        return {"decisions": f"{self.prefix}decisions", "pinpoint": f"{self.prefix}pinpoint-events",
                "dead": f"{self.prefix}dead-letter", "endpoints": f"{self.faust_app_id}-endpoints-changelog"}

    async def start(self) -> None:
        # few, large fetches: polling every few ms costs this program more CPU than it should
        # take from the worker it measures (latencies come from record timestamps anyway)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                          auto_offset_reset="earliest", fetch_max_wait_ms=WATCHER_FETCH_WAIT_MS,
                                          fetch_min_bytes=64 * 1024, max_partition_fetch_bytes=4 * 1024 * 1024)
        await self._consumer.start()
        await _assigned_from_start(self._consumer, list(self.topics.values()), self.partitions)
        self._task = asyncio.create_task(self._run(), name="output-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._consumer is not None:
            await self._consumer.stop()

    def track(self, event_id: str, published: float) -> None:
        self.tracked[event_id] = Tracked(published)

    async def _run(self) -> None:
        assert self._consumer is not None
        names = self.topics
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=20000)
            now = time.time()
            for tp, messages in batches.items():
                if tp.topic == names["pinpoint"]:
                    self._on_processed(messages)
                elif tp.topic == names["decisions"]:
                    self._on_decisions(messages, now)
                elif tp.topic == names["dead"]:
                    self.dead_letters += len(messages)
                    for m in messages[: max(0, 5 - len(self.dead_letter_samples))]:
                        letter = orjson.loads(m.value)
                        self.dead_letter_samples.append(f"{letter.get('Field')}: {letter.get('Reason')}")
                else:
                    self.endpoint_changes += len(messages)

    def _on_processed(self, messages: list[Any]) -> None:
        self.processed += len(messages)
        stamps = [m.timestamp for m in messages]
        if self.stamps is not None:
            self.stamps.extend(s / 1000 for s in stamps)
        low, high = min(stamps) / 1000, max(stamps) / 1000
        self.first_processed_ts = low if self.first_processed_ts is None else min(self.first_processed_ts, low)
        self.last_processed_ts = high if self.last_processed_ts is None else max(self.last_processed_ts, high)
        if self.tracked:
            for m in messages:
                body = orjson.loads(m.value)["EventsRequest"]["BatchItem"]
                for item in body.values():
                    for event_id in item["Events"]:
                        tracked = self.tracked.get(event_id)
                        if tracked is not None and tracked.processed_ts is None:
                            tracked.processed_ts = m.timestamp / 1000

    def _on_decisions(self, messages: list[Any], now: float) -> None:
        for m in messages:
            decision = orjson.loads(m.value)
            self.decision_ids.add(decision["DecisionId"])
            self.decisions += 1
            if decision.get("EventType") == PROBE_EVENT_TYPE:
                self.probe_decisions.append(m.timestamp / 1000)
            tracked = self.tracked.get(decision["EventId"])
            if tracked is not None and tracked.decision_ts is None:
                tracked.decision_ts = m.timestamp / 1000
                tracked.decision_seen = now

    async def wait(self, predicate: Callable[[], bool], timeout: float, tick: Callable[[], None] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            if self._task is not None and self._task.done():
                self._task.result()  # re-raise what killed the watcher
            if tick:
                tick()
            await asyncio.sleep(0.25)
        if tick:
            tick()
        return True


@dataclass(frozen=True)
class TopicSize:
    records: int
    bytes: int  # key + value bytes of every record
    live_keys: int
    live_bytes: int  # key + value bytes of the last record per key (what compaction keeps)


async def topic_sizes(bootstrap: str, topics: Sequence[str], partitions: int, idle: float = 1.5) -> dict[str, TopicSize]:
    """Reads topics whole, together (until ``idle`` seconds pass without a record)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=100,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    try:
        await _assigned_from_start(consumer, topics, partitions)
        counts = {topic: [0, 0] for topic in topics}
        live: dict[str, dict[bytes, int]] = {topic: {} for topic in topics}
        last = time.monotonic()
        while time.monotonic() - last < idle:
            batches = await consumer.getmany(timeout_ms=200, max_records=50000)
            for tp, messages in batches.items():
                last = time.monotonic()
                count, keys = counts[tp.topic], live[tp.topic]
                for m in messages:
                    size = len(m.key or b"") + len(m.value or b"")
                    count[0] += 1
                    count[1] += size
                    if m.value is None:
                        keys.pop(m.key, None)
                    else:
                        keys[m.key] = size
        return {topic: TopicSize(counts[topic][0], counts[topic][1], len(live[topic]), sum(live[topic].values()))
                for topic in topics}
    finally:
        await consumer.stop()


def paced(events: Sequence[OutgoingEvent], rate: float) -> Iterable[tuple[float, list[OutgoingEvent]]]:
    """(due offset in seconds, events due then) in 5 ms slots at ``rate`` events/s."""
    slot = 0.005
    per_slot = rate * slot
    index = 0
    n = 0
    while index < len(events):
        n += 1
        upto = min(len(events), int(round(n * per_slot)))
        if upto > index:
            yield n * slot, list(events[index:upto])
            index = upto
