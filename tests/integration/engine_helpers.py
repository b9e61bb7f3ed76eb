"""Helpers for the engine's integration tests (``test_engine_*.py``).

Resources go through the Pinpoint API with boto3 (:class:`PinpointApp`); events go in and
decisions and dead letters come out through Kafka (:class:`EngineTopics`), as a backend app
would use the engine. Every event the worker processes leaves a record on
``<prefix>pinpoint-events``, and per endpoint the worker handles events in order, so
:meth:`EngineTopics.decide` waits until the events it published were processed and then
reads the decisions: counts are exact without sleeping.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.integration.workers import WorkerProcess

__all__ = [
    "BadRecord",
    "EngineTopics",
    "MixedTraffic",
    "EventFlow",
    "eventually",
    "PinpointApp",
    "Published",
    "at",
    "crash_lines",
    "event",
    "in_app_message",
    "stamp",
]

T = TypeVar("T")

PAST_START = "2020-01-01T00:00:00Z"  # a StartTime before every event of these tests
SAFE_END = "2099-01-01T00:00:00Z"


def stamp(moment: datetime) -> str:
    """ISO-8601 with milliseconds and ``Z``, as every AWS sample writes instants."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def at(text: str) -> datetime:
    """An aware instant from ISO-8601 text (``Z`` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def event(app_id: str, endpoint_id: str, event_type: str, *, when: datetime | None = None,
          attributes: dict[str, str] | None = None, metrics: dict[str, float] | None = None,
          session_id: str | None = "s-1", session_start: datetime | None = None,
          event_id: str | None = None) -> dict[str, Any]:
    """An input event as backend apps publish it (PRODUCT.md "Input event")."""
    moment = when or datetime.now(UTC)
    body: dict[str, Any] = {"EventType": event_type, "Timestamp": stamp(moment)}
    if attributes is not None:
        body["Attributes"] = attributes
    if metrics is not None:
        body["Metrics"] = metrics
    if session_id is not None:
        body["Session"] = {"Id": session_id, "StartTimestamp": stamp(session_start or moment)}
    return {"ApplicationId": app_id, "EndpointId": endpoint_id,
            "EventId": event_id or uuid.uuid4().hex, "Event": body}


def in_app_message(header: str, **custom: str) -> dict[str, Any]:
    """An inline ``MessageConfiguration`` with a one-item banner whose header is ``header``."""
    return {"InAppMessage": {
        "Layout": "TOP_BANNER",
        "Content": [{
            "BackgroundColor": "#FFFFFF",
            "HeaderConfig": {"Alignment": "CENTER", "Header": header, "TextColor": "#000000"},
            "BodyConfig": {"Alignment": "CENTER", "Body": f"{header} body", "TextColor": "#000000"},
        }],
        "CustomConfig": custom,
    }}


def header_of(decision: dict[str, Any]) -> str:
    return str(decision["InAppMessage"]["Content"][0]["HeaderConfig"]["Header"])


@dataclass
class PinpointApp:
    """One Pinpoint app on the engine, with a segment holding every endpoint."""

    pinpoint: Any  # boto3 pinpoint client
    app_id: str
    segment_id: str

    @classmethod
    def create(cls, pinpoint: Any, name: str) -> PinpointApp:
        app_id = pinpoint.create_app(CreateApplicationRequest={"Name": name})["ApplicationResponse"]["Id"]
        segment = pinpoint.create_segment(
            ApplicationId=app_id, WriteSegmentRequest={"Name": f"{name}-everyone", "Dimensions": {}})
        return cls(pinpoint, app_id, segment["SegmentResponse"]["Id"])

    def endpoints(self, profiles: dict[str, dict[str, Any]]) -> None:
        """Upsert IN_APP endpoints, then read each back: the API answers a read only after
        the worker applied every write before it, so events published afterwards find them."""
        items = [{"Id": eid, "ChannelType": "IN_APP", **body} for eid, body in profiles.items()]
        for start in range(0, len(items), 100):
            self.pinpoint.update_endpoints_batch(
                ApplicationId=self.app_id, EndpointBatchRequest={"Item": items[start:start + 100]})
        for eid in profiles:
            self.pinpoint.get_endpoint(ApplicationId=self.app_id, EndpointId=eid)

    def settings(self, **request: Any) -> dict[str, Any]:
        response = self.pinpoint.update_application_settings(
            ApplicationId=self.app_id, WriteApplicationSettingsRequest=request)
        return dict(response["ApplicationSettingsResource"])

    def campaign(self, name: str, event_types: Sequence[str], *, dimension_type: str = "INCLUSIVE",
                 attributes: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                 start: str = PAST_START, end: str | None = SAFE_END, quiet_time: dict[str, str] | None = None,
                 header: str | None = None, **fields: Any) -> str:
        """Create an in-app campaign triggered by ``event_types``; ``fields`` are further
        ``WriteCampaignRequest`` members (Priority, Limits, HoldoutPercent, …). Returns its id."""
        request = {"Name": name, "SegmentId": self.segment_id,
                   "MessageConfiguration": in_app_message(header or name),
                   "Schedule": schedule(event_types, dimension_type=dimension_type, attributes=attributes,
                                        metrics=metrics, start=start, end=end, quiet_time=quiet_time),
                   **fields}
        response = self.pinpoint.create_campaign(ApplicationId=self.app_id, WriteCampaignRequest=request)
        return str(response["CampaignResponse"]["Id"])

    def update_campaign(self, campaign_id: str, **request: Any) -> dict[str, Any]:
        response = self.pinpoint.update_campaign(
            ApplicationId=self.app_id, CampaignId=campaign_id, WriteCampaignRequest=request)
        return dict(response["CampaignResponse"])


def schedule(event_types: Sequence[str], *, dimension_type: str = "INCLUSIVE",
             attributes: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
             start: str = PAST_START, end: str | None = SAFE_END,
             quiet_time: dict[str, str] | None = None) -> dict[str, Any]:
    dimensions: dict[str, Any] = {"EventType": {"DimensionType": dimension_type, "Values": list(event_types)}}
    if attributes:
        dimensions["Attributes"] = attributes
    if metrics:
        dimensions["Metrics"] = metrics
    result: dict[str, Any] = {"StartTime": start, "Frequency": "IN_APP_EVENT",
                              "EventFilter": {"FilterType": "SYSTEM", "Dimensions": dimensions}}
    if end is not None:
        result["EndTime"] = end
    if quiet_time is not None:
        result["QuietTime"] = quiet_time
    return result


@dataclass(frozen=True)
class Published:
    """Where a record landed on the events topic."""

    partition: int
    offset: int


class EngineTopics:
    """The engine's Kafka topics as a backend app sees them."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def publish(self, records: Iterable[dict[str, Any] | tuple[bytes | None, bytes | None]]) -> list[Published]:
        """Publish events (dicts, keyed by EndpointId) or raw ``(key, value)`` records, in order."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=5)
        await producer.start()
        try:
            futures = []
            key: bytes | None
            value: bytes | None
            for record in records:
                if isinstance(record, dict):
                    key, value = str(record["EndpointId"]).encode(), orjson.dumps(record)
                else:
                    key, value = record
                futures.append(await producer.send(self.topic("events"), value, key=key))
            metadata = [await future for future in futures]
        finally:
            await producer.stop()
        return [Published(m.partition, m.offset) for m in metadata]

    async def read(self, name: str, until: Callable[[list[Any]], bool] | None = None,
                   timeout: float = 60.0) -> list[Any]:
        """Every record of a topic from the beginning (JSON-decoded values), up to the end
        offsets seen now, or — with ``until`` — until ``until(records)`` holds."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        records: list[Any] = []
        try:
            partitions = [TopicPartition(self.topic(name), p)
                          for p in sorted(await _partitions(self.bootstrap, self.topic(name)))]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                if until is None and await _reached(consumer, ends):
                    return records
                if until is not None and until(records):
                    return records
                if loop.time() > deadline:
                    raise TimeoutError(f"timed out after {timeout}s reading {self.topic(name)} "
                                       f"({len(records)} records)")
                batches = await consumer.getmany(timeout_ms=200)
                for messages in batches.values():
                    records.extend(None if m.value is None else orjson.loads(m.value) for m in messages)
        finally:
            await consumer.stop()

    async def wait_processed(self, event_ids: Iterable[str], timeout: float = 60.0) -> None:
        """Until every event was processed: each leaves a Pinpoint ``EventsRequest`` record."""
        wanted = set(event_ids)

        def done(records: list[Any]) -> bool:
            seen = {eid for r in records for item in r["EventsRequest"]["BatchItem"].values()
                    for eid in item["Events"]}
            return wanted <= seen

        await self.read("pinpoint-events", until=done, timeout=timeout)

    async def decisions(self, event_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Decisions on the topic now, optionally only those for ``event_ids``."""
        found = await self.read("decisions")
        if event_ids is None:
            return found
        wanted = set(event_ids)
        return [d for d in found if d["EventId"] in wanted]

    async def decide(self, events: Sequence[dict[str, Any]], timeout: float = 60.0) -> list[dict[str, Any]]:
        """Publish good events, wait until all were processed, and return their decisions
        in the order the events were published."""
        await self.publish(events)
        ids = [e["EventId"] for e in events]
        await self.wait_processed(ids, timeout=timeout)
        by_event: dict[str, list[dict[str, Any]]] = {}
        for decision in await self.decisions(ids):
            by_event.setdefault(decision["EventId"], []).append(decision)
        return [d for eid in ids for d in by_event.get(eid, [])]

    async def dead_letters(self, until: Callable[[list[Any]], bool] | None = None,
                           timeout: float = 60.0) -> list[dict[str, Any]]:
        return await self.read("dead-letter", until=until, timeout=timeout)


async def eventually(predicate: Callable[[], Awaitable[T]], timeout: float = 15.0,
                     message: str = "condition") -> T:
    """The async form of ``workers.wait_until``: poll ``predicate`` until it returns
    something truthy, for at most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Sent:
    event: dict[str, Any]
    started: float  # loop time just before the record was handed to the producer

    @property
    def event_id(self) -> str:
        return str(self.event["EventId"])


class EventFlow:
    """Publishes events (``make_event(n)``) one after another, every ``interval`` seconds,
    while a test changes campaigns: traffic that keeps flowing, as in production."""

    def __init__(self, topics: EngineTopics, make_event: Callable[[int], dict[str, Any]],
                 interval: float = 0.05) -> None:
        self.topics = topics
        self.make_event = make_event
        self.interval = interval
        self.sent: list[Sent] = []
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventFlow:
        self._task = asyncio.create_task(self._run(), name="event-flow")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stopped.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.topics.bootstrap, linger_ms=0)
        await producer.start()
        loop = asyncio.get_running_loop()
        try:
            n = 0
            while not self._stopped.is_set():
                record = self.make_event(n)
                started = loop.time()
                await producer.send_and_wait(self.topics.topic("events"), orjson.dumps(record),
                                             key=str(record["EndpointId"]).encode())
                self.sent.append(Sent(record, started))
                n += 1
                try:  # pacing only: the flow stops as soon as it is asked to
                    await asyncio.wait_for(self._stopped.wait(), self.interval)
                except asyncio.TimeoutError:
                    pass
        finally:
            await producer.stop()

    def since(self, moment: float) -> list[Sent]:
        """Events handed to the producer after loop time ``moment``."""
        return [s for s in self.sent if s.started > moment]

    async def decided(self, sent: Sequence[Sent]) -> dict[str, dict[str, Any]]:
        """Decisions for these events now on the topic, by EventId."""
        return {d["EventId"]: d for d in await self.topics.decisions(s.event_id for s in sent)}

    async def settled(self, sent: Sequence[Sent]) -> dict[str, dict[str, Any]]:
        """Wait until these events were processed; then their decisions, by EventId."""
        await self.topics.wait_processed(s.event_id for s in sent)
        return await self.decided(sent)


async def _partitions(bootstrap: str, topic: str) -> set[int]:
    """The topic's partitions, from the broker (a consumer's metadata cache holds only the
    topics it subscribed to on Apache Kafka)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(100):
            described = await admin.describe_topics([topic])
            partitions = {p["partition"] for d in described for p in d.get("partitions") or []}
            if partitions:
                return partitions
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    raise RuntimeError(f"topic {topic} does not exist")


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


@dataclass(frozen=True)
class BadRecord:
    """A record on the events topic that must be dead-lettered."""

    name: str
    key: bytes | None
    value: bytes | None
    reason: str  # a phrase the dead letter's Field + Reason must contain (case-insensitive)
    field: str | None = None  # the Field the dead letter must name, when there is one


@dataclass
class MixedTraffic:
    """Good, bad, good, bad, …, good on the events topic, and what came out."""

    bad: list[BadRecord]
    positions: dict[str, Published]  # bad record name -> where it landed
    letters: dict[tuple[int, int], list[dict[str, Any]]]  # (partition, offset) -> its dead letters
    good: list[dict[str, Any]]
    decisions: dict[str, list[dict[str, Any]]]  # EventId -> decisions
    log_start: int  # where the worker's log stood before the traffic

    def letters_of(self, name: str) -> list[dict[str, Any]]:
        position = self.positions[name]
        return self.letters.get((position.partition, position.offset), [])

    @classmethod
    async def run(cls, topics: EngineTopics, worker: WorkerProcess, bad: list[BadRecord],
                  good_event: Callable[[int], dict[str, Any]]) -> MixedTraffic:
        log_start = len(worker.log_text())
        records: list[Any] = []
        good: list[dict[str, Any]] = []
        for n, record in enumerate(bad):
            good.append(good_event(n))
            records += [good[-1], (record.key, record.value)]
        good.append(good_event(len(bad)))
        records.append(good[-1])
        published = await topics.publish(records)
        positions = {b.name: published[2 * n + 1] for n, b in enumerate(bad)}
        await topics.wait_processed(e["EventId"] for e in good)
        decisions: dict[str, list[dict[str, Any]]] = {}
        for decision in await topics.decisions(e["EventId"] for e in good):
            decisions.setdefault(decision["EventId"], []).append(decision)

        source = topics.topic("events")
        wanted = {(p.partition, p.offset) for p in positions.values()}

        def all_there(found: list[dict[str, Any]]) -> bool:
            return wanted <= {(d["SourcePartition"], d["SourceOffset"]) for d in found if d["SourceTopic"] == source}

        try:
            found = await topics.dead_letters(until=all_there, timeout=20)
        except TimeoutError:  # the checks of the missing ones fail, each on its own
            found = await topics.dead_letters()
        letters: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for d in found:
            if d["SourceTopic"] == source:
                letters.setdefault((d["SourcePartition"], d["SourceOffset"]), []).append(d)
        return cls(bad, positions, letters, good, decisions, log_start)


# what mode/faust log when an agent's exception escapes: the actor crashes and is restarted
CRASH_MARKERS = ("Traceback", "Crashed reason", "Restarting dead", "Giving up on", "[ERROR]", "[CRITICAL]")


def crash_lines(worker: WorkerProcess, since: int = 0) -> list[str]:
    """Log lines (from character ``since``) that show an agent crash or restart."""
    text = worker.log_text()[since:]
    return [line for line in text.splitlines() if any(marker in line for marker in CRASH_MARKERS)]
