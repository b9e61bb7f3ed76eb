"""End offsets for read-your-writes, one broker round trip for many concurrent requests.

A partitioned read (GetEndpoint, GetInAppMessages, a KPI) must see every write acked before
it arrived, so it asks the broker for the end offsets of its partitions *after* it arrived.
Requests that arrive while such a ListOffsets call is in flight cannot use its answer (it
may predate their writes), but they can share the next one: this batches them, so N
concurrent readers cost about two round trips instead of N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import TopicPartition

__all__ = ["EndOffsets"]

Fetch = Callable[[list[TopicPartition]], Awaitable[dict[TopicPartition, int]]]


class EndOffsets:
    """``await end_offsets(tps)`` with the calls of concurrent callers merged."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._waiting: dict[TopicPartition, list[asyncio.Future[int]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def get(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        loop = asyncio.get_running_loop()
        futures = {}
        for tp in tps:
            future: asyncio.Future[int] = loop.create_future()
            self._waiting.setdefault(tp, []).append(future)
            futures[tp] = future
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._drain())
        return {tp: await future for tp, future in futures.items()}

    async def _drain(self) -> None:
        # every pass answers the callers that were waiting when it started
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            try:
                ends = await self._fetch(list(waiting))
            except Exception as exc:  # noqa: BLE001 - handed to every caller of this pass
                for futures in waiting.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for tp, futures in waiting.items():
                for future in futures:
                    if not future.done():
                        future.set_result(ends[tp])
