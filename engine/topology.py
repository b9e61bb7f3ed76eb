"""Create the engine's topics from the catalogue (topics as data), idempotently."""

from __future__ import annotations

import asyncio
import logging

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
    finally:
        await admin.close()


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
