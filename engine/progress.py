"""Where the ingest has got to on each input partition, so readers can wait for writes acked before them."""

from __future__ import annotations

import asyncio
from collections import defaultdict

__all__ = ["AppliedOffsets"]


class AppliedOffsets:
    """Highest offset applied per (topic, partition), with waiting."""

    def __init__(self) -> None:
        self._applied: dict[tuple[str, int], int] = defaultdict(lambda: -1)
        self._changed = asyncio.Condition()

    def get(self, topic: str, partition: int) -> int:
        return self._applied[(topic, partition)]

    async def mark(self, topic: str, partition: int, offset: int) -> None:
        key = (topic, partition)
        if offset > self._applied[key]:
            self._applied[key] = offset
            if self._changed._waiters:  # noqa: SLF001 - skip the lock when nobody waits
                async with self._changed:
                    self._changed.notify_all()

    async def wait_for(self, topic: str, partition: int, offset: int, timeout: float) -> bool:
        """True once ``offset`` is applied; False after ``timeout`` seconds."""
        key = (topic, partition)
        if self._applied[key] >= offset:
            return True

        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self._applied[key] >= offset)

        try:
            await asyncio.wait_for(reached(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
