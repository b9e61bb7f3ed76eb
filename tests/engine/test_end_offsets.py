"""Read-your-writes end offsets: concurrent readers share ListOffsets calls, but never one
that started before they arrived (it could miss their writes)."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition

from engine.offsets import EndOffsets

EVENTS_0 = TopicPartition("events", 0)
ENDPOINTS_0 = TopicPartition("endpoints", 0)


class _Broker:
    """A fake ListOffsets: the log grows by one record per call; each call takes 10 ms."""

    def __init__(self) -> None:
        self.calls: list[list[TopicPartition]] = []
        self.end = 100

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        self.calls.append(tps)
        end = self.end
        self.end += 1
        await asyncio.sleep(0.01)
        return {tp: end for tp in tps}


async def test_eight_concurrent_readers_share_at_most_two_round_trips():
    broker = _Broker()
    offsets = EndOffsets(broker.end_offsets)
    results = await asyncio.gather(*(offsets.get([EVENTS_0, ENDPOINTS_0]) for _ in range(8)))
    assert len(broker.calls) == 1
    assert all(r == {EVENTS_0: 100, ENDPOINTS_0: 100} for r in results)


async def test_a_reader_arriving_during_a_call_waits_for_the_next_one():
    broker = _Broker()
    offsets = EndOffsets(broker.end_offsets)
    first = asyncio.ensure_future(offsets.get([EVENTS_0]))
    await asyncio.sleep(0.005)  # the first call is in flight now
    broker.end = 500  # a write acked before the second reader arrives
    second = await offsets.get([EVENTS_0])
    assert (await first)[EVENTS_0] == 100
    assert second[EVENTS_0] == 500
    assert len(broker.calls) == 2


async def test_a_failed_call_fails_its_readers_and_the_next_call_works():
    calls = 0

    async def flaky(tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("broker gone")
        return {tp: 7 for tp in tps}

    offsets = EndOffsets(flaky)
    with pytest.raises(ConnectionError):
        await offsets.get([EVENTS_0])
    assert await offsets.get([EVENTS_0]) == {EVENTS_0: 7}
