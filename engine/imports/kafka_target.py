"""The CLI's way into the engine: its Kafka topics, written exactly as a worker writes them.

``inapp segments import`` needs no running worker and no API credentials, only the engine's
Kafka (``KAFKA_BOOTSTRAP_SERVERS``, ``INAPP_TOPIC_PREFIX``): endpoint upserts go to
``<prefix>endpoints`` keyed by EndpointId (Kafka's default partitioner, as every producer of
the engine), the job and the segment to their compacted control topics. A control-plane
reader (``engine.control.ControlPlane``, the one every worker runs) is read to the end before
the job starts, so an existing app, segment or job is seen before anything is written. Writes
return once Kafka acknowledged them: unlike the API, the CLI never reads its own writes back,
and waiting for a reader to apply each one costs a fetch round trip (about 250 ms on the
embedded broker) per job record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.control import KIND_TOPICS, ControlPlane
from engine.settings import Settings
from topics.catalog import ENDPOINTS, full_name
from topics.wire import ControlRecord, EndpointRecord, encode_json

__all__ = ["EngineNotFound", "KafkaImportTarget", "endpoint_record_json"]

CATCH_UP_SECONDS = 60.0


class EngineNotFound(RuntimeError):
    """The engine's topics are not on this Kafka (wrong address or prefix, or no worker ran)."""


class KafkaImportTarget:
    """An :class:`~engine.imports.job.ImportTarget` over the engine's Kafka topics."""

    def __init__(self, settings: Settings, bootstrap_servers: str) -> None:
        self.settings = settings
        self.bootstrap = bootstrap_servers
        self.control = ControlPlane(bootstrap_servers, settings.topic_prefix, lambda state: None)
        self.endpoints_topic = full_name(settings.topic_prefix, ENDPOINTS)
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await consumer.start()
        try:
            existing = await consumer.topics()
        finally:
            await consumer.stop()
        wanted = [self.endpoints_topic, *(full_name(self.settings.topic_prefix, spec) for spec in KIND_TOPICS.values())]
        missing = [name for name in wanted if name not in existing]
        if missing:
            raise EngineNotFound(
                f"no engine topics {', '.join(missing)} on {self.bootstrap}: start a worker first, "
                "or set INAPP_TOPIC_PREFIX to the engine's prefix")
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5,
            max_batch_size=self.settings.producer_max_batch_bytes,
        )
        await self._producer.start()
        await self.control.start()
        await asyncio.wait_for(self.control.ready.wait(), CATCH_UP_SECONDS)

    async def stop(self) -> None:
        await self.control.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def __aenter__(self) -> KafkaImportTarget:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("KafkaImportTarget.start() was not awaited")
        return self._producer

    # -- ImportTarget -------------------------------------------------------------------
    def control_record(self, kind: Any, key: str) -> ControlRecord | None:
        return self.control.state.records[kind].get(key)

    async def write_control(self, kind: Any, key: str, record: ControlRecord | None) -> None:
        value = encode_json(record) if record is not None else None
        await self.producer.send_and_wait(self.control.topic_name(kind), value, key=key.encode())

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None:
        send = self.producer.send
        futures = [await send(self.endpoints_topic, endpoint_record_json(r), key=r.EndpointId.encode())
                   for r in records]
        await asyncio.gather(*futures)


def endpoint_record_json(record: EndpointRecord) -> bytes:
    """``topics.wire.encode_json(record)``, byte for byte, without pydantic's serializer:
    every member of an EndpointRecord is JSON already (a test holds the two equal), and this
    is the import's hot path."""
    return orjson.dumps({name: value for name, value in record.__dict__.items() if value is not None})
