"""Create the engine's topics from the catalogue (topics as data), idempotently."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from engine.settings import Settings
from topics.catalog import TOPICS, Partitioning, full_name

__all__ = ["ensure_topics", "TopologyError"]

log = logging.getLogger(__name__)


class TopologyError(RuntimeError):
    """An existing topic contradicts the catalogue (e.g. a different partition count)."""


async def ensure_topics(settings: Settings, bootstrap_servers: str) -> None:
    """Create every catalogue topic that is missing; check the partitioning of the rest."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = []
        for spec in TOPICS:
            name = full_name(settings.topic_prefix, spec)
            if name in existing:
                continue
            configs = {"cleanup.policy": "compact"} if spec.compacted else {}
            wanted.append(
                NewTopic(
                    name=name,
                    num_partitions=spec.partitions(settings.partitions),
                    replication_factor=settings.replication_factor,
                    topic_configs=configs,
                )
            )
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another worker won the race
        await _check_partitions(admin, settings)
        created = {topic.name for topic in wanted}
        consumed = [full_name(settings.topic_prefix, s) for s in TOPICS if s.consumed_by_workers]
        await _seed_committed_offsets(bootstrap_servers, settings.app_id, [n for n in consumed if n in created],
                                      settings.partitions)
        ingested = [full_name(settings.topic_prefix, s) for s in TOPICS if s.ingested]
        await _seed_ingest_offsets(bootstrap_servers, settings.app_id, ingested, settings.partitions)
    finally:
        await admin.close()


async def _seed_committed_offsets(bootstrap_servers: str, group_id: str, topics: list[str],
                                  partitions: int) -> None:
    """Commit offset 0 on every partition of new input topics for the worker group.

    Faust discards records fetched while a rebalance's recovery is under way and seeks back
    to the committed offsets afterwards; a partition with no committed offset is not sought
    back, so records that arrived during the first rebalance of a fresh deployment would be
    skipped. A committed offset from the start closes that hole (at-least-once holds).
    """
    if not topics:
        return
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group_id,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for topic in topics for p in range(partitions)]
        consumer.assign(tps)
        committed = {tp: await consumer.committed(tp) for tp in tps}
        missing = {tp: 0 for tp, offset in committed.items() if offset is None}
        if missing:
            await consumer.commit(missing)
    finally:
        await consumer.stop()


async def _seed_ingest_offsets(bootstrap_servers: str, app_id: str, topics: list[str], partitions: int) -> None:
    """Give the ingest group a committed offset on every input partition that has none: the
    Faust group's (a deployment upgraded from the engine that read its inputs with Faust
    agents goes on where it stopped), else 0."""
    from engine.ingest import ingest_group

    tps = [TopicPartition(topic, p) for topic in topics for p in range(partitions)]
    ingest = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=ingest_group(app_id),
                              enable_auto_commit=False)
    await ingest.start()
    try:
        ingest.assign(tps)
        missing = [tp for tp in tps if await ingest.committed(tp) is None]
        if not missing:
            return
        previous = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=app_id, enable_auto_commit=False)
        await previous.start()
        try:
            previous.assign(missing)
            seeds = {tp: (await previous.committed(tp)) or 0 for tp in missing}
        finally:
            await previous.stop()
        await ingest.commit(seeds)
    finally:
        await ingest.stop()


async def _check_partitions(admin: AIOKafkaAdminClient, settings: Settings) -> None:
    names = [full_name(settings.topic_prefix, spec) for spec in TOPICS]
    for _ in range(50):
        described = await admin.describe_topics(names)
        counts = {d["topic"]: len(d.get("partitions") or []) for d in described}
        if all(counts.get(name, 0) > 0 for name in names):
            break
        await asyncio.sleep(0.1)
    for spec in TOPICS:
        name = full_name(settings.topic_prefix, spec)
        if spec.partitioning is Partitioning.EVENTS and counts.get(name) != settings.partitions:
            raise TopologyError(
                f"topic {name} has {counts.get(name)} partitions but INAPP_PARTITIONS is "
                f"{settings.partitions}: co-partitioned topics must match"
            )
