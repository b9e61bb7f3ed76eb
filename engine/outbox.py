"""What the ingest sends, and in which order it must become durable.

Outputs (decisions, Pinpoint events, counter deltas, dead letters) go out as records are
processed. The tables' changelog records say "these input records were processed": caps
stamped with their source offsets, counters with the offsets they applied. If one of them
were durable before the outputs of the same records, a crash could lose those outputs for
good — a replay re-emits a decision only from the few an endpoint keeps, and a counter row
only above the applied offset. So :class:`StateWriter` sends a batch's changelog records
only once its outputs are acknowledged, in the background (the next batch does not wait),
merging what piles up meanwhile into one record per key; a commit waits until the state of
every batch before it is acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from engine.app import Engine
from engine.tables import StagedTable, Tables

__all__ = ["Outbox", "OutputLost", "StateWriter"]

log = logging.getLogger(__name__)

# the producer's own delivery timeout (engine.app) plus a margin
ACK_TIMEOUT = 45.0

Taken = list[tuple[StagedTable, list[tuple[bytes, int, bytes | None]]]]


class OutputLost(RuntimeError):
    """A send failed after the producer's retries: the records since the last commit are
    read again."""


class Outbox:
    """Sends through Faust's producer; remembers the futures of outputs until taken."""

    def __init__(self, engine: Engine) -> None:
        self._producer = engine.app.producer
        self._pending: list[asyncio.Future[Any]] = []
        self.sent = 0

    async def send(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        """Queue one output record; raises when the producer refuses it outright (too large)."""
        future = await self._producer.send(topic, key, value, partition=None, timestamp=None, headers=None)
        self._pending.append(future)
        self.sent += 1

    async def send_to(self, topic: str, partition: int, key: bytes, value: bytes | None) -> asyncio.Future[Any]:
        """Queue one record for a given partition (a changelog record); its future, not kept."""
        future: asyncio.Future[Any] = await self._producer.send(
            topic, key, value, partition=partition, timestamp=None, headers=None)
        return future

    def take_pending(self) -> list[asyncio.Future[Any]]:
        """The futures of every output queued since the last call."""
        pending, self._pending = self._pending, []
        return pending

    @staticmethod
    async def settle(pending: list[asyncio.Future[Any]], timeout: float = ACK_TIMEOUT) -> None:
        """Wait until those records are acknowledged; OutputLost if one failed or if they
        are not all acknowledged within ``timeout`` seconds."""
        try:
            results = await asyncio.wait_for(asyncio.shield(asyncio.gather(*pending, return_exceptions=True)),
                                             timeout)
        except asyncio.TimeoutError:
            raise OutputLost(f"records not acknowledged within {timeout:.0f} s") from None
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            raise OutputLost(f"{len(failed)} records not acknowledged: {failed[0]!r}")


class StateWriter:
    """Changelog records after the outputs they vouch for, in the background."""

    def __init__(self, tables: Tables, outbox: Outbox) -> None:
        self._tables = tables
        self._outbox = outbox
        self._queue: list[tuple[list[asyncio.Future[Any]], Taken]] = []
        self._queued = 0  # batch ends queued so far
        self._written = 0  # batch ends whose state is acknowledged
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._stage = "idle"

    @property
    def stage(self) -> str:
        """What the writer waits for now (for the ingest's slow-commit warning)."""
        return self._stage

    def after_batch(self) -> int:
        """Queue the outputs sent and the state changed since the last call; the number
        to wait for with :meth:`written`. Raises the error of an earlier write."""
        if self._error is not None:
            raise self._error
        self._queue.append((self._outbox.take_pending(), self._tables.take()))
        self._queued += 1
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())
        return self._queued

    async def written(self, batch: int) -> None:
        """Wait until the state queued by ``batch`` (and before) is acknowledged."""
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= batch or self._error is not None
                                          or self._task is None or self._task.done())
        if self._error is not None:
            raise self._error
        if self._written < batch:
            raise OutputLost("the state writer stopped before writing what was asked")

    def reset(self) -> None:
        """Forget what is queued: after an error, it is all read again from the last commit."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._queue.clear()
        self._outbox.take_pending()
        self._error = None
        self._written = self._queued

    async def _run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    queue, self._queue = self._queue, []
                    batch = self._queued
                    self._stage = f"waiting for the outputs of batch {batch}"
                    await Outbox.settle([future for outputs, _ in queue for future in outputs])
                    self._stage = f"sending the state of batch {batch}"
                    written = await Tables.send(_merged([taken for _, taken in queue]), self._outbox.send_to)
                    self._stage = f"waiting for the state of batch {batch}"
                    await Outbox.settle(written)
                    async with self._progress:
                        self._written = batch
                        self._progress.notify_all()
                self._stage = "idle"
        except BaseException as exc:  # noqa: BLE001 - handed to the ingest, which starts over
            # whatever stops this task (a cancellation from inside a client included) must
            # wake the commits waiting for it, or they would wait for ever
            self._error = exc if isinstance(exc, OutputLost) else OutputLost(repr(exc))
            self._stage = f"stopped: {exc!r}"
            async with self._progress:
                self._progress.notify_all()
            if isinstance(exc, asyncio.CancelledError):
                raise


def _merged(takes: list[Taken]) -> Taken:
    """One record per (table, key): the latest value taken."""
    latest: dict[tuple[int, bytes], tuple[StagedTable, int, bytes | None]] = {}
    for taken in takes:
        for table, records in taken:
            for key, partition, value in records:
                latest[(id(table), key)] = (table, partition, value)
    by_table: dict[int, tuple[StagedTable, list[tuple[bytes, int, bytes | None]]]] = {}
    for (table_id, key), (table, partition, value) in latest.items():
        by_table.setdefault(table_id, (table, []))[1].append((key, partition, value))
    return list(by_table.values())
