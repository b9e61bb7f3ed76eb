"""Faust tables written a batch at a time: the store at once, the changelog once per key.

Faust's ``table[key] = value`` sends one changelog record per assignment and needs a current
Faust event to find the partition (faust-kafka-notes §1.1, §1.7). The batch ingest
(``engine.ingest``) writes through :class:`StagedTable` instead: the store is updated
immediately (reads, the API included, see the new value), the key is remembered with the
source partition it belongs to, and :meth:`StagedTable.flush` sends one changelog record per
changed key, with the latest value, before the ingest commits its source offsets. The
table, its changelog topic, recovery and standbys stay Faust's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAX_STATE_BYTES", "StagedTable", "StateTooLarge", "Tables"]

# a value must fit one changelog record under the producer's 1 MB request limit
MAX_STATE_BYTES = 512 * 1024


class StateTooLarge(ValueError):
    """A table value over MAX_STATE_BYTES: the record that made it goes to the dead letters."""


class StagedTable:
    """Write-through access to one Faust table with coalesced changelog records."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._store = table.data
        self._dirty: dict[bytes, int] = {}
        self.changelog_records = 0

    @property
    def changelog_topic(self) -> str:
        return str(self._table.changelog_topic.get_topic_name())

    def get(self, key: bytes) -> bytes | None:
        return self._store.get(key)

    def set(self, key: bytes, value: bytes, partition: int) -> None:
        # a copy sized to the value: orjson's output can carry a much larger buffer, which
        # the memory store would keep alive for every key (RSS ~10x the state)
        value = bytes(memoryview(value))
        if len(value) > MAX_STATE_BYTES:
            raise StateTooLarge(f"the stored state would be {len(value)} bytes (at most {MAX_STATE_BYTES})")
        db_for_partition = getattr(self._store, "_db_for_partition", None)
        if db_for_partition is not None:
            # Faust's RocksDB store keeps one database per partition and finds it from the
            # current Faust event, which a batch does not have: write to it directly
            db_for_partition(partition).put(key, value)
            self._store._key_index[key] = partition  # noqa: SLF001
        else:
            self._store[key] = value
        self._dirty[key] = partition

    def touch(self, key: bytes, partition: int) -> None:
        """Send the stored value again at the next flush: a replayed record changes nothing,
        but the changelog record of its first pass may have been lost in the crash (the
        store, RocksDB above all, can be ahead of the changelog)."""
        if self._store.get(key) is not None:
            self._dirty[key] = partition

    def delete(self, key: bytes, partition: int) -> None:
        if self._store.get(key) is None:
            return
        del self._store[key]
        self._dirty[key] = partition

    @property
    def pending(self) -> int:
        return len(self._dirty)

    def flush(self) -> None:
        """Queue one changelog record per key changed since the last flush (a tombstone
        for a deleted key) on Faust's producer buffer; ``producer.flush()`` sends them."""
        for key, partition in self._dirty.items():
            value = self._store.get(key)
            if value is None:
                self._table.send_changelog(partition, key, None, value_serializer="raw")
            else:
                self._table.send_changelog(partition, key, value)
        self.changelog_records += len(self._dirty)
        self._dirty.clear()


class Tables:
    """The engine's three tables as the ingest writes them."""

    def __init__(self, endpoints: Any, caps: Any, metrics: Any) -> None:
        self.endpoints = StagedTable(endpoints)
        self.caps = StagedTable(caps)
        self.metrics = StagedTable(metrics)

    @property
    def changelog_records(self) -> int:
        return self.endpoints.changelog_records + self.caps.changelog_records + self.metrics.changelog_records

    def flush(self) -> int:
        """Queue the changelog records of every changed key; returns how many."""
        pending = self.endpoints.pending + self.caps.pending + self.metrics.pending
        self.endpoints.flush()
        self.caps.flush()
        self.metrics.flush()
        return pending
