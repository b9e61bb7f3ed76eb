"""Which partition a key lives on, and which worker owns it.

The partition of a key is computed exactly as Kafka's default partitioner does (murmur2 of
the key bytes), so no producer metadata is needed; the owner comes from the assignment
every worker shares through Faust's partition assignor.
"""

from __future__ import annotations

from typing import Any

from aiokafka.partitioner import murmur2

__all__ = ["owner_of", "partition_of"]


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def owner_of(app: Any, changelog_topic: str, partition: int) -> str | None:
    """Base URL of the worker that owns ``partition`` of a table (by its changelog topic;
    the input topics are co-partitioned with it), None if not known yet."""
    for url, topics in app.router.tables_metadata().items():
        if partition in topics.get(changelog_topic, ()):
            return str(url)
    return None
