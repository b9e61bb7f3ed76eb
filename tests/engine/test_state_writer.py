"""Changelog records (the state that marks input records processed) become durable only
after the outputs of the same records: a crash in between must never leave the state
saying "done" for a decision or counter row that was lost."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from engine.outbox import Outbox, StateWriter
from engine.tables import Tables


class _Topic:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_topic_name(self) -> str:
        return self.name


class _Table:
    def __init__(self, name: str) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog_topic = _Topic(f"{name}-changelog")


class _Producer:
    """Records every send; acknowledges only when the test says so."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, asyncio.Future[Any]]] = []

    async def send(self, topic: str, key: bytes | None, value: bytes | None, **_: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sent.append((topic, key, value, future))
        return future

    def acknowledge(self, topic_prefix: str) -> None:
        for n, (topic, _, _, future) in enumerate(self.sent):
            if topic.startswith(topic_prefix) and not future.done():
                future.set_result(SimpleNamespace(offset=n))

    def changelog(self) -> list[tuple[bytes | None, bytes | None]]:
        return [(key, value) for topic, key, value, _ in self.sent if topic.endswith("-changelog")]


def _writer() -> tuple[Outbox, Tables, StateWriter, _Producer]:
    producer = _Producer()
    outbox = Outbox(SimpleNamespace(app=SimpleNamespace(producer=producer)))  # type: ignore[arg-type]
    tables = Tables(_Table("endpoints"), _Table("caps"), _Table("metrics"))
    return outbox, tables, StateWriter(tables, outbox), producer


async def _turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_the_state_waits_for_the_outputs_of_its_batch():
    outbox, tables, writer, producer = _writer()
    await outbox.send("decisions", b"ep-1", b"decision")
    tables.caps.set(b"app\x1fep-1", b"caps-after-the-decision", partition=0)
    batch = writer.after_batch()
    await _turns()
    assert producer.changelog() == []  # the decision is not acknowledged yet
    producer.acknowledge("decisions")
    await _turns()
    assert producer.changelog() == [(b"app\x1fep-1", b"caps-after-the-decision")]
    waiting = asyncio.ensure_future(writer.written(batch))
    await _turns()
    assert not waiting.done()  # a commit also waits for the changelog's acknowledgement
    producer.acknowledge("caps")
    await asyncio.wait_for(waiting, 1)


async def test_state_piled_up_behind_slow_outputs_is_written_once_per_key():
    outbox, tables, writer, producer = _writer()
    for n in range(3):
        await outbox.send("decisions", b"ep-1", f"decision {n}".encode())
        tables.caps.set(b"app\x1fep-1", f"caps {n}".encode(), partition=0)
        last = writer.after_batch()
    producer.acknowledge("decisions")
    await _turns(10)
    producer.acknowledge("caps")
    await asyncio.wait_for(writer.written(last), 1)
    assert producer.changelog() == [(b"app\x1fep-1", b"caps 2")]


async def test_a_failed_output_fails_the_commit_and_writes_no_state():
    outbox, tables, writer, producer = _writer()
    await outbox.send("decisions", b"ep-1", b"decision")
    tables.caps.set(b"app\x1fep-1", b"caps", partition=0)
    batch = writer.after_batch()
    producer.sent[0][3].set_exception(ConnectionError("broker gone"))
    try:
        await asyncio.wait_for(writer.written(batch), 1)
    except Exception as exc:  # noqa: BLE001
        assert "not acknowledged" in str(exc)
    else:
        raise AssertionError("the commit went ahead")
    assert producer.changelog() == []
