"""Self-healing for partitions the consumer stops fetching after a rebalance.

faust-streaming/aiokafka can leave an assigned partition without fetch requests after a
rebalance (faust-streaming issues #629 and #523, open): records pile up on it and nothing
is processed, with no error. The watchdog compares, per assigned input partition, what the
agents applied with the partition's end offset; a partition that is behind and has not
moved for ``stall`` seconds is sought to the next unprocessed offset, which restarts its
fetching. At-least-once holds: the seek never skips past the committed offset.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP

from engine.app import Engine
from engine.progress import AppliedOffsets

__all__ = ["StallWatchdog"]

log = logging.getLogger(__name__)


class StallWatchdog:
    def __init__(self, engine: Engine, applied: AppliedOffsets, topics: Iterable[str],
                 *, interval: float = 2.0, stall: float = 6.0) -> None:
        # with inexact end offsets (the embedded broker) a stalled partition can look idle
        self._nudge_idle = not engine.settings.broker_end_offsets_exact
        self._engine = engine
        self._applied = applied
        self._topics = frozenset(topics)
        self._interval = interval
        self._stall = stall
        self._seen: dict[TopicPartition, tuple[int, float]] = {}
        self.nudges = 0

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._engine.bootstrap_servers,
                                    group_id=self._engine.settings.app_id, enable_auto_commit=False)
        await consumer.start()
        try:
            while True:
                await asyncio.sleep(self._interval)
                try:
                    await self._check(consumer)
                except Exception:  # the watchdog must never take the worker down
                    log.exception("stall watchdog check failed")
        finally:
            await consumer.stop()

    async def _check(self, offsets: AIOKafkaConsumer) -> None:
        app = self._engine.app
        if app.rebalancing or not app.tables.recovery.completed.is_set():
            self._seen.clear()
            return
        assigned = [TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()
                    if tp.topic in self._topics]
        if not assigned:
            return
        ends = await offsets.end_offsets(assigned)
        now = time.monotonic()
        for tp in assigned:
            # everything before the group's committed offset was applied by some worker
            applied = max(self._applied.get(tp.topic, tp.partition), (await offsets.committed(tp) or 0) - 1)
            if ends[tp] - 1 <= applied and not self._nudge_idle:
                self._seen.pop(tp, None)
                continue
            previous = self._seen.get(tp)
            if previous is None or previous[0] != applied:
                self._seen[tp] = (applied, now)
                continue
            if now - previous[1] < self._stall:
                continue
            resume = applied + 1
            behind = ends[tp] - 1 - applied
            (log.warning if behind > 0 else log.debug)(
                "partition %s-%d has not moved for %.0fs with %d records behind; seeking to %d to "
                "restart fetching", tp.topic, tp.partition, now - previous[1], behind, resume)
            await app.consumer.seek(TP(tp.topic, tp.partition), resume)
            self.nudges += 1
            self._seen[tp] = (applied, now)
