"""Kafka as the fault tests see it from outside the engine: publish, measure, read whole.

Everything here is a plain aiokafka client with no consumer group, so reading a topic never
disturbs the engine's group. Progress and completion are read from offsets, not by
re-reading topics: a 100,000-event run is watched with a few metadata requests a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import IncompatibleBrokerVersion

__all__ = ["Record", "allow_records_up_to", "committed", "end_offsets", "partitions_of", "publish",
           "read_records"]


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    partition: int
    offset: int

    def json(self) -> Any:
        return None if self.value is None else orjson.loads(self.value)


async def partitions_of(bootstrap: str, topic: str, timeout: float = 30.0) -> list[int]:
    """The topic's partitions, from the broker (Apache Kafka sends a consumer metadata only
    for the topics it subscribed to)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            described = await admin.describe_topics([topic])
            found = sorted(p["partition"] for d in described for p in d.get("partitions") or [])
            if found:
                return found
            if loop.time() > deadline:
                raise RuntimeError(f"topic {topic} does not exist")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]],
                  *, one_per_batch: bool = False, max_request_size: int = 1048576,
                  rate: float | None = None) -> list[tuple[int, int]]:
    """Publish ``(key, value)`` records in order; their (partition, offset).

    ``one_per_batch``: the embedded Tansu broker reports a wrong end offset after a
    multi-record batch (README), and the completion checks here read end offsets.
    ``rate``: at most that many records a second (a run that lasts)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0 if one_per_batch else 20,
                                max_batch_size=1 if one_per_batch else 262144,
                                max_request_size=max_request_size, request_timeout_ms=60000)
    await producer.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        futures = []
        for n, (key, value) in enumerate(records):
            if rate is not None and n % 50 == 0:
                await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
            futures.append(await producer.send(topic, value, key=key))
        await producer.flush()
        landed = [await future for future in futures]
    finally:
        await producer.stop()
    return [(m.partition, m.offset) for m in landed]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset (the offset the next record will get)."""
    parts = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                request_timeout_ms=10000)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Partition -> the consumer group's committed offset on ``topic`` (absent: none yet).

    Read with a consumer that names the group but never joins it (as engine.service does);
    the admin client's OffsetFetch is not understood by the embedded broker."""
    parts = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                request_timeout_ms=10000)
    await consumer.start()
    try:
        found = {p: await consumer.committed(TopicPartition(topic, p)) for p in parts}
    finally:
        await consumer.stop()
    return {p: offset for p, offset in found.items() if offset is not None and offset >= 0}


async def allow_records_up_to(bootstrap: str, topic: str, size: int) -> None:
    """What an operator does to accept records over the broker's 1 MB default on a topic.

    The embedded Tansu broker has no AlterConfigs, and no per-topic record limit either: it
    takes the records as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": str(size)})])
    except IncompatibleBrokerVersion:
        pass
    finally:
        await admin.close()


async def read_records(bootstrap: str, topic: str, timeout: float = 120.0) -> list[Record]:
    """Every record of ``topic`` from the beginning up to the end offsets seen now."""
    parts = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1048576,
                                fetch_max_bytes=16 * 1048576, request_timeout_ms=30000)
    await consumer.start()
    records: list[Record] = []
    try:
        tps = [TopicPartition(topic, p) for p in parts]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp, end in ends.items() if end > 0}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending:
            if loop.time() > deadline:
                raise TimeoutError(f"timed out after {timeout}s reading {topic} ({len(records)} records)")
            batches = await consumer.getmany(*pending, timeout_ms=500, max_records=10000)
            for tp, messages in batches.items():
                records.extend(Record(m.key, m.value, m.partition, m.offset) for m in messages
                               if m.offset < ends[tp])
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return records
