"""Faust tables written a batch at a time: the store at once, the changelog once per key.

Faust's ``table[key] = value`` sends one changelog record per assignment and needs a current
Faust event to find the partition (faust-kafka-notes §1.1, §1.7). The batch ingest
(``engine.ingest``) writes through :class:`StagedTable` instead: the store is updated
immediately (reads, the API included, see the new value), the key is remembered with the
source partition it belongs to, and :meth:`StagedTable.flush` (after each batch) sends one
changelog record per changed key, with the latest value, straight to the producer; the
ingest commits its source offsets only after they are acknowledged. The table, its
changelog topic, recovery and standbys stay Faust's.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from faust.types import TP

__all__ = ["MAX_STATE_BYTES", "StagedTable", "StateTooLarge", "Tables"]

# (changelog topic, partition, key, value or None) -> the send's future
ChangelogSend = Callable[[str, int, bytes, "bytes | None"], Awaitable["asyncio.Future[Any]"]]

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

    def take(self) -> list[tuple[bytes, int, bytes | None]]:
        """(key, partition, value or None) of every key changed since the last call: the
        state to write to the changelog, as it is now."""
        dirty, self._dirty = self._dirty, {}
        return [(key, partition, self._store.get(key)) for key, partition in dirty.items()]

    async def send(self, records: list[tuple[bytes, int, bytes | None]],
                   send: ChangelogSend) -> list[asyncio.Future[Any]]:
        """Send one changelog record each (a tombstone for a deleted key), to the partition
        of the input it came from; once acknowledged, the store learns the changelog offset
        it holds (RocksDB recovers from there). Returns the sends' futures."""
        topic = self.changelog_topic
        futures = []
        for n, (key, partition, value) in enumerate(records):
            if n % 200 == 199:
                await asyncio.sleep(0)  # a large flush must not hold API requests back
            future = await send(topic, partition, key, value)
            future.add_done_callback(functools.partial(self._persisted, partition))
            futures.append(future)
        self.changelog_records += len(records)
        return futures

    async def flush(self, send: ChangelogSend) -> list[asyncio.Future[Any]]:
        """Send the changelog records of every key changed since the last flush."""
        return await self.send(self.take(), send)

    def _persisted(self, partition: int, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        set_persisted_offset = getattr(self._store, "set_persisted_offset", None)
        if set_persisted_offset is not None:
            set_persisted_offset(TP(self.changelog_topic, partition), future.result().offset)


class Tables:
    """The engine's three tables as the ingest writes them."""

    def __init__(self, endpoints: Any, caps: Any, metrics: Any) -> None:
        self.endpoints = StagedTable(endpoints)
        self.caps = StagedTable(caps)
        self.metrics = StagedTable(metrics)

    @property
    def changelog_records(self) -> int:
        return self.endpoints.changelog_records + self.caps.changelog_records + self.metrics.changelog_records

    def take(self) -> list[tuple[StagedTable, list[tuple[bytes, int, bytes | None]]]]:
        """What each table has to write to its changelog now (see StagedTable.take)."""
        return [(table, records) for table in (self.endpoints, self.caps, self.metrics)
                if (records := table.take())]

    @staticmethod
    async def send(taken: list[tuple[StagedTable, list[tuple[bytes, int, bytes | None]]]],
                   send: ChangelogSend) -> list[asyncio.Future[Any]]:
        """Send what :meth:`take` returned, merged with later takes by the caller; futures."""
        futures: list[asyncio.Future[Any]] = []
        for table, records in taken:
            futures += await table.send(records, send)
        return futures
