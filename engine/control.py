"""The control plane every worker holds whole: apps, segments, templates, campaigns, jobs.

Each worker reads the compacted control topics with a group-less consumer (all partitions,
from the beginning, forever): the robust form of a global table, which never takes part in
rebalances (faust-kafka-notes §1.3). After each batch that changed something the compiled
campaign index is rebuilt and swapped in whole. Writers (the API) produce a record and wait
until this reader has applied its offset, so a create followed by a get sees the resource on
any worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from topics.catalog import APPS, CAMPAIGNS, JOBS, SEGMENTS, TEMPLATES, TopicSpec
from topics.wire import CONTROL_RECORD, ControlRecord

__all__ = ["ControlPlane", "ControlState", "KIND_TOPICS"]

log = logging.getLogger(__name__)

KIND_TOPICS: Mapping[str, TopicSpec] = {
    "app": APPS,
    "segment": SEGMENTS,
    "template": TEMPLATES,
    "campaign": CAMPAIGNS,
    "import-job": JOBS,
}


@dataclass
class ControlState:
    """Current record per kind and key (tombstones remove the key)."""

    records: dict[str, dict[str, ControlRecord]] = field(
        default_factory=lambda: {kind: {} for kind in KIND_TOPICS}
    )

    def apply(self, kind: str, key: str, record: ControlRecord | None) -> None:
        if record is None:
            self.records[kind].pop(key, None)
        else:
            self.records[kind][key] = record


RejectHandler = Callable[[str, int | None, int | None, bytes | None, bytes | None, Exception], Any]


class ResourceRejected(ValueError):
    """A control record that is valid JSON but not a usable resource (compile time)."""

    def __init__(self, kind: str, key: str, field: str, reason: str) -> None:
        super().__init__(f"{kind} {key}: {field + ': ' if field else ''}{reason}")
        self.field = field or None
        self.reason = f"{kind} {key} left out of the campaign index: {reason}"


class ControlPlane:
    """Reads the control topics into :class:`ControlState` and keeps an index compiled."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic_prefix: str,
        compile_index: Callable[[ControlState], Any],
        on_reject: RejectHandler | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._names = {kind: f"{topic_prefix}{spec.name}" for kind, spec in KIND_TOPICS.items()}
        self._kind_of = {name: kind for kind, name in self._names.items()}
        self._compile = compile_index
        self._on_reject = on_reject
        self.state = ControlState()
        self.index: Any = None
        self._reported: set[tuple[str, str, str]] = set()
        self._recompile()
        self.ready = asyncio.Event()
        self._applied: dict[TopicPartition, int] = {}
        self._progress = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    def topic_name(self, kind: str) -> str:
        return self._names[kind]

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            key_deserializer=None,
            value_deserializer=None,
        )
        await consumer.start()
        # control topics have one partition each (topics.catalog: Partitioning.SINGLE)
        partitions = [TopicPartition(name, 0) for name in self._names.values()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        self._consumer = consumer
        end = await consumer.end_offsets(partitions)
        self._catch_up_target = {tp: offset for tp, offset in end.items() if offset > 0}
        if not self._catch_up_target:
            self.ready.set()
        self._task = asyncio.create_task(self._run(), name="control-plane")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._consumer is not None:
            await self._consumer.stop()

    async def wait_applied(self, topic: str, partition: int, offset: int, timeout: float = 10.0) -> None:
        """Return once the record at ``offset`` (and all before it) is applied here."""
        tp = TopicPartition(topic, partition)

        async def reached() -> None:
            async with self._progress:
                await self._progress.wait_for(lambda: self._applied.get(tp, -1) >= offset)

        await asyncio.wait_for(reached(), timeout)

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            if not batches:
                continue
            for tp, messages in batches.items():
                kind = self._kind_of[tp.topic]
                for message in messages:
                    self._apply_message(kind, tp, message)
            self._recompile()
            async with self._progress:
                for tp, messages in batches.items():
                    self._applied[tp] = messages[-1].offset
                self._progress.notify_all()
            if not self.ready.is_set() and all(
                self._applied.get(tp, -1) >= end - 1 for tp, end in self._catch_up_target.items()
            ):
                self.ready.set()

    def _recompile(self) -> None:
        try:
            compiled = self._compile(self.state)
        except Exception:  # a compile bug must not kill the reader; keep the last index
            log.exception("campaign index compile failed; keeping the previous index")
            return
        self.index = getattr(compiled, "index", compiled)
        current = set()
        for problem in getattr(compiled, "problems", ()):
            marker = (problem.kind, problem.key, problem.reason)
            current.add(marker)
            if marker in self._reported or self._on_reject is None:
                continue
            error = ResourceRejected(problem.kind, problem.key, problem.field, problem.reason)
            self._on_reject(self._names[problem.kind], None, None, problem.key.encode(),
                            CONTROL_RECORD.dump_json(problem.record, exclude_none=True), error)
        self._reported = current

    def _apply_message(self, kind: str, tp: TopicPartition, message: Any) -> None:
        key = message.key.decode("utf-8", "replace") if message.key is not None else ""
        if message.value is None:
            self.state.apply(kind, key, None)
            return
        try:
            record = CONTROL_RECORD.validate_json(message.value)
            if record.Kind != kind:
                raise ValueError(f"a {record.Kind} record on the {kind} topic")
        except (ValidationError, ValueError) as exc:
            if self._on_reject is not None:
                self._on_reject(tp.topic, tp.partition, message.offset, message.key, message.value, exc)
            return
        self.state.apply(kind, key, record)

