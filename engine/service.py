"""The worker's implementation of the API backend (``engine.api.backend.ApiBackend``).

Control-plane reads come from the local :class:`~engine.control.ControlPlane`; writes are
produced to Kafka and awaited until applied. Partitioned reads are answered here only when
this worker owns the key's partition (the API proxies them otherwise), after waiting for the
writes acked before the request (read-your-writes).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from yarl import URL

from engine.app import Engine, endpoint_key
from engine.control import ControlPlane
from engine.deadletter import dead_letter_for
from engine.ingest import ingest_group
from engine.offsets import EndOffsets
from engine.partitioning import owner_of, partition_of
from engine.progress import AppliedOffsets
from engine.settings import Settings
from topics.wire import ControlRecord, EndpointRecord, encode_json

__all__ = ["EngineBackend"]

log = logging.getLogger(__name__)

# how long a partitioned read waits for writes acked before it (PRODUCT.md: a second or two)
READ_YOUR_WRITES_TIMEOUT = 3.0


class EngineBackend:
    """State access for the API, bound to one worker's engine and control plane."""

    def __init__(self, engine: Engine, control: ControlPlane) -> None:
        self.engine = engine
        self.control = control
        self.settings: Settings = engine.settings
        self.applied = AppliedOffsets()
        self._offsets_consumer: AIOKafkaConsumer | None = None
        self._end_offsets: EndOffsets | None = None

    # -- control plane ---------------------------------------------------------------
    def control_record(self, kind: str, key: str) -> ControlRecord | None:
        return self.control.state.records[kind].get(key)

    def control_records(self, kind: str, prefix: str = "") -> Sequence[tuple[str, ControlRecord]]:
        records = self.control.state.records[kind]
        return sorted((k, v) for k, v in records.items() if k.startswith(prefix))

    async def write_control(self, kind: str, key: str, record: ControlRecord | None) -> None:
        topic = self.control.topic_name(kind)
        value = encode_json(record) if record is not None else None
        metadata = await self._send(topic, key.encode(), value)
        await self.control.wait_applied(metadata.topic, metadata.partition, metadata.offset)

    def compile_errors(self, app_id: str) -> Sequence[Any]:
        return self.control.index.errors_by_app.get(app_id, ())

    def reject_control_record(
        self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, exc: Exception
    ) -> None:
        dl_key, dl_value = dead_letter_for(
            exc, topic=topic, partition=partition, offset=offset, key=key, value=value
        )
        _schedule_send(self.engine, dl_key, dl_value)  # from the reader loop: don't block it

    # -- partitioned state -----------------------------------------------------------
    def owner_url(self, what: str, key: str) -> str | None:
        table = self.engine.endpoints if what == "endpoint" else self.engine.metrics
        partition = partition_of(key.encode(), self.settings.partitions)
        url = owner_of(self.engine.app, table.changelog_topic.get_topic_name(), partition)
        if url is None or _same_worker(URL(url), URL(str(self.engine.app.conf.canonical_url))):
            return None  # this worker, or the assignment is not known yet: answer here
        return url

    async def get_endpoint(self, app_id: str, endpoint_id: str) -> dict[str, Any] | None:
        await self._catch_up(endpoint_id, (self.engine.endpoints_topic, self.engine.events))
        raw = self.engine.endpoints.get(endpoint_key(app_id, endpoint_id))
        return orjson.loads(raw) if raw is not None else None

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None:
        topic = self.engine.endpoints_topic.get_topic_name()
        futures = [
            await self.engine.app.producer.send(
                topic, record.EndpointId.encode(), encode_json(record), partition=None,
                timestamp=None, headers=None,
            )
            for record in records
        ]
        for future in futures:
            await future

    async def put_events(self, app_id: str, events: Sequence[dict[str, Any]]) -> None:
        topic = self.engine.events.get_topic_name()
        futures = [
            await self.engine.app.producer.send(
                topic, str(event["EndpointId"]).encode(), orjson.dumps(event), partition=None,
                timestamp=None, headers=None,
            )
            for event in events
        ]
        for future in futures:
            await future

    async def in_app_messages(self, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        from engine.decisions import in_app_messages_for

        await self._catch_up(endpoint_id, (self.engine.endpoints_topic, self.engine.events))
        return in_app_messages_for(self.engine, self.control.index, app_id, endpoint_id)

    async def campaign_kpi(
        self, app_id: str, campaign_id: str, kpi_name: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        from engine.kpis import kpi_result

        await self._catch_up(campaign_id, (self.engine.campaign_metrics,))
        raw = self.engine.metrics.get(campaign_id.encode())
        counters = orjson.loads(raw) if raw is not None else {}
        return kpi_result(counters, kpi_name, start, end)

    # -- plumbing --------------------------------------------------------------------
    async def _send(self, topic: str, key: bytes, value: bytes | None) -> Any:
        future = await self.engine.app.producer.send(
            topic, key, value, partition=None, timestamp=None, headers=None
        )
        return await future

    async def _catch_up(self, key: str, topics: Sequence[Any]) -> None:
        """Wait until this worker applied every record acked on ``key``'s partitions."""
        consumer = await self._offsets()
        partition = partition_of(key.encode(), self.settings.partitions)
        tps = [TopicPartition(topic.get_topic_name(), partition) for topic in topics]
        assert self._end_offsets is not None
        ends = await self._end_offsets.get(tps)  # shared with concurrent readers
        for tp in tps:
            last = ends[tp] - 1
            if last >= 0 and not await self._applied_before(consumer, tp, last):
                await self.applied.wait_for(tp.topic, tp.partition, last, READ_YOUR_WRITES_TIMEOUT)

    async def _applied_before(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> bool:
        """Whether ``offset`` is applied: by this worker, or (before the ingest's committed
        offset) by whichever worker owned the partition before."""
        if self.applied.get(tp.topic, tp.partition) >= offset:
            return True
        committed = await consumer.committed(tp)
        return committed is not None and committed > offset

    async def _offsets(self) -> AIOKafkaConsumer:
        if self._offsets_consumer is None:
            # group id only to read the ingest's committed offsets; it never joins the group
            consumer = AIOKafkaConsumer(bootstrap_servers=self.engine.bootstrap_servers,
                                        group_id=ingest_group(self.settings.app_id), enable_auto_commit=False)
            await consumer.start()
            self._offsets_consumer = consumer
            self._end_offsets = EndOffsets(consumer.end_offsets)
        return self._offsets_consumer


def _same_worker(a: URL, b: URL) -> bool:
    return (a.host, a.port) == (b.host, b.port)


def _schedule_send(engine: Engine, key: bytes | None, value: bytes) -> None:
    import asyncio

    topic = engine.dead_letter.get_topic_name()

    async def send() -> None:
        try:
            await (await engine.app.producer.send(topic, key, value, partition=None, timestamp=None, headers=None))
        except Exception:  # noqa: BLE001 - logged: the reader loop must go on
            log.exception("could not send a dead letter for a control record")

    asyncio.ensure_future(send())
