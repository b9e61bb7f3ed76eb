"""The batch ingest: the worker's input topics, read a batch at a time below Faust's streams.

Why: Faust's per-event path (consumer → conductor → stream → agent → ack) costs 190–370 µs
of CPU per record on this hardware, twenty times the rules (faust-kafka-notes §2.3), and it
can ack a jump in offsets as a processed gap after a restart (events committed, never
processed). The ingest keeps Faust as the engine — the app, group membership, the
co-partitioned assignment, the tables, their changelogs, recovery and standbys — and reads
the input topics itself:

- Faust's consumer subscribes to the table changelogs (and the forwarder's topic), so its
  assignor gives each worker a set of partition numbers; the ingest reads the same numbers
  of ``endpoints``, ``events`` and ``campaign-metrics`` with its own consumer (assigned, not
  subscribed) from the offsets committed under its own group id, ``<app id>-ingest``, which
  no member ever joins;
- it processes what one fetch returns as a batch (endpoints first, so an event after its
  endpoint's upsert finds it), sends outputs as it goes, writes tables through
  :class:`~engine.tables.Tables` and, at most every ``commit_interval`` seconds, flushes the
  producer (outputs and one changelog record per changed key) and then commits;
- on revocation (Faust's ``on_partitions_revoked``, before the group rejoins) it finishes
  the batch in hand and commits; after a rebalance, once Faust has recovered the tables, it
  seeks its new partitions to their committed offsets.

Records are taken in order from the consumer's position, so no offset is ever committed
unprocessed. At-least-once with idempotent state as before (PRODUCT.md semantics 4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from engine.app import Engine
from engine.control import ControlPlane
from engine.deadletter import dead_letter_for
from engine.decisions import EventProcessor, UnknownEndpoint
from engine.endpoints import apply_endpoint_record
from engine.kpis import apply_metric_delta
from engine.progress import AppliedOffsets
from engine.outbox import Outbox, OutputLost, StateWriter
from engine.tables import Tables

__all__ = ["Ingest", "ingest_group"]

log = logging.getLogger(__name__)

# an event whose endpoint is not applied yet waits this long for the endpoints partition
# (UpdateEndpoint answers 202 before the upsert is applied) before it is dead-lettered
UNKNOWN_ENDPOINT_GRACE = 3.0
# records processed between two chances for other tasks (API requests) to run
YIELD_EVERY = 50
# a background commit older than this is logged, with what it waits for
SLOW_COMMIT = 30.0
# idle partitions' offsets are committed again this often (see Ingest._commit)
OFFSETS_REFRESH = 600.0


def ingest_group(app_id: str) -> str:
    """The consumer group the ingest commits its input offsets under."""
    return f"{app_id}-ingest"


class Ingest:
    """Reads, processes and commits the input topics of this worker's partitions."""

    def __init__(self, engine: Engine, control: ControlPlane, applied: AppliedOffsets, *,
                 max_batch: int = 2000, commit_interval: float = 1.0) -> None:
        self.engine = engine
        self.control = control
        self.applied = applied
        self.group = ingest_group(engine.settings.app_id)
        self.tables = Tables(engine.endpoints, engine.caps, engine.metrics)
        self.outbox = Outbox(engine)
        self.state = StateWriter(self.tables, self.outbox)
        self.events = EventProcessor(engine, control, self.tables)
        self._max_batch = max_batch
        self._commit_interval = commit_interval
        self._endpoints_topic = engine.endpoints_topic.get_topic_name()
        self._events_topic = engine.events.get_topic_name()
        self._metrics_topic = engine.campaign_metrics.get_topic_name()
        self._dead_letter_topic = engine.dead_letter.get_topic_name()
        self._consumer: AIOKafkaConsumer | None = None
        self._lock = asyncio.Lock()
        self._partitions: frozenset[tuple[str, int]] | None = None  # None: (re)assign first
        self._next: dict[TopicPartition, int] = {}  # next offset to process
        self._uncommitted = 0
        self._last_commit = time.monotonic()
        self._deferred: dict[TopicPartition, tuple[int, float]] = {}
        self._committing: asyncio.Task[None] | None = None
        self._commit_stage = "none"
        self._slow_logged = 0.0
        self._stopping = False
        # what engine.telemetry reports
        self.records: Counter[str] = Counter()
        self.dead_letters: Counter[str] = Counter()
        self.commits = 0
        self.batch_seconds = 0.0

    # -- lifecycle ------------------------------------------------------------------
    def connect_rebalance_signals(self) -> None:
        self.engine.app.on_partitions_revoked.connect(self._on_partitions_revoked)
        # on a graceful stop Faust sends this before its producer and consumer stop (its
        # tasks are cancelled only afterwards): the last commit must happen here
        self.engine.app.on_before_shutdown.connect(self._on_shutdown)

    async def run(self) -> None:
        await self.control.ready.wait()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.engine.bootstrap_servers,
            group_id=self.group,
            client_id=f"{self.engine.settings.app_id}-ingest",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.engine.settings.ingest_fetch_wait_ms,
            max_partition_fetch_bytes=self.engine.settings.ingest_partition_fetch_bytes,
        )
        await consumer.start()
        self._consumer = consumer
        try:
            while True:
                try:
                    await self._step(consumer)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - never let the ingest die: start over
                    log.error("ingest: %r; reading again from the last commit", exc,
                              exc_info=not isinstance(exc, OutputLost))
                    async with self._lock:
                        self._next.clear()  # nothing past the last commit may be committed now
                        self._partitions = None
                        self.events.metrics.drain()  # the rows of a failed batch come again
                        if self._committing is not None:
                            self._committing.cancel()
                            self._committing = None
                        self.state.reset()
                    await asyncio.sleep(1.0)
        finally:
            if not self._stopping:  # else committed already, before Faust's producer stopped
                try:
                    async with self._lock:
                        await asyncio.wait_for(self._commit(), timeout=10)
                except Exception:  # noqa: BLE001 - best effort on the way out: replays are idempotent
                    log.warning("final commit of the ingest failed; the next owner replays from the last one")
            self._consumer = None
            await consumer.stop()

    async def _step(self, consumer: AIOKafkaConsumer) -> None:
        """One fetch, processed; a commit when it is due."""
        if not await self._assigned():
            await asyncio.sleep(0.05)
            return
        partitions = self._partitions
        batches = await consumer.getmany(timeout_ms=200, max_records=self._max_batch)
        async with self._lock:
            if self._partitions is not partitions:
                return  # revoked or reassigned meanwhile: positions were reset
            await self._process(batches)
            await self._maybe_commit()

    async def _on_shutdown(self, sender: Any, **_: Any) -> None:
        self._stopping = True
        await self._on_partitions_revoked(sender, None)
        log.info("ingest stopped; offsets committed")

    async def _on_partitions_revoked(self, sender: Any, revoked: Any, **_: Any) -> None:
        """Before the group rejoins: finish the batch in hand, flush and commit."""
        async with self._lock:
            self._partitions = None
            try:
                await self._commit()
            except Exception:  # noqa: BLE001 - the next owner replays from the last commit
                log.exception("commit on revocation failed")
            # the partitions may belong to another worker from now on: never commit them again
            self._next.clear()

    # -- assignment ---------------------------------------------------------------------
    def _owned(self) -> frozenset[tuple[str, int]]:
        """(input topic, partition) this worker owns, from Faust's assignment of the table
        changelogs (co-partitioned with the inputs)."""
        actives = self.engine.app.assignor.assigned_actives()
        by_table = {
            self.tables.endpoints.changelog_topic: (self._endpoints_topic, self._events_topic),
            self.tables.metrics.changelog_topic: (self._metrics_topic,),
        }
        return frozenset((topic, tp.partition) for tp in actives for topic in by_table.get(tp.topic, ()))

    async def _assigned(self) -> bool:
        """Whether to read now; (re)assigns the ingest consumer after a rebalance."""
        app = self.engine.app
        if self._stopping or app.rebalancing or not app.tables.recovery.completed.is_set():
            return False
        owned = self._owned()
        if owned == self._partitions:
            return bool(owned)
        async with self._lock:
            await self._commit()
            consumer = self._consumer
            assert consumer is not None
            tps = [TopicPartition(topic, partition) for topic, partition in sorted(owned)]
            consumer.assign(tps)
            self._next = {}
            for tp in tps:
                committed = await consumer.committed(tp)
                if committed is None:
                    await consumer.seek_to_beginning(tp)
                    self._next[tp] = await consumer.position(tp)
                else:
                    consumer.seek(tp, committed)
                    self._next[tp] = committed
            self._deferred.clear()
            for tp, next_offset in self._next.items():
                # what the previous owner committed counts as applied for read-your-writes
                await self.applied.mark(tp.topic, tp.partition, next_offset - 1)
            self._partitions = owned
            log.info("ingest reading %d partitions: %s", len(tps),
                     ", ".join(f"{tp.topic}[{tp.partition}]@{self._next[tp]}" for tp in tps))
        return bool(owned)

    # -- processing ---------------------------------------------------------------------
    def progress(self) -> dict[tuple[str, int], tuple[int, int | None]]:
        """(topic, partition) -> (next offset to process, records behind the high watermark
        last fetched, None before the first fetch) for every owned input partition."""
        consumer = self._consumer
        found: dict[tuple[str, int], tuple[int, int | None]] = {}
        for tp, next_offset in list(self._next.items()):
            highwater = consumer.highwater(tp) if consumer is not None else None
            found[(tp.topic, tp.partition)] = (next_offset, None if highwater is None else max(0, highwater - next_offset))
        return found

    async def _process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        if not any(batches.values()):
            return
        started = time.perf_counter()
        try:
            await self._process_batches(batches)
        finally:
            self.batch_seconds += time.perf_counter() - started

    async def _process_batches(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        order = {self._endpoints_topic: 0, self._events_topic: 1, self._metrics_topic: 2}
        for tp in sorted(batches, key=lambda tp: (order.get(tp.topic, 3), tp.partition)):
            records = batches[tp]
            if not records:
                continue
            if tp.topic == self._events_topic:
                done = await self._process_events(tp, records)
            elif tp.topic == self._endpoints_topic:
                done = await self._each(records, lambda r: apply_endpoint_record(
                    self.tables.endpoints, r.partition, r.value, r.timestamp / 1000.0))
            else:
                done = await self._each(records, lambda r: apply_metric_delta(
                    self.tables.metrics, r.partition, r.value))
            if done:
                self._next[tp] = done[-1].offset + 1
                self._uncommitted += len(done)
                self.records[tp.topic] += len(done)
                await self.applied.mark(tp.topic, tp.partition, done[-1].offset)
        for key, value in self.events.metrics.drain():
            await self.outbox.send(self._metrics_topic, key, value)
        # The state that marks these events processed (caps stamped with their source
        # offsets, the counters' applied offsets) must never be durable before their
        # outputs: a replay re-emits a decision only from the few an endpoint keeps, and a
        # counter row only above the applied offset. So a batch's changelog records go out
        # once its outputs are acknowledged (and not in a burst at the commit).
        self.state.after_batch()

    async def _each(self, records: list[ConsumerRecord], apply: Callable[[ConsumerRecord], None]) -> list[ConsumerRecord]:
        for n, record in enumerate(records):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # let API requests in between
            try:
                apply(record)
            except Exception as exc:  # noqa: BLE001 - bad input goes to the dead-letter topic
                await self._dead_letter(record, exc)
        return records

    async def _process_events(self, tp: TopicPartition, records: list[ConsumerRecord]) -> list[ConsumerRecord]:
        """Decide each event; stops (and seeks back) at an event whose endpoint may still be
        on its way through the endpoints partition."""
        processor = self.events
        for n, record in enumerate(records):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # let API requests in between
            try:
                outputs = processor.process(record)
            except UnknownEndpoint as exc:
                if await self._wait_for_endpoint(tp, record):
                    assert self._consumer is not None
                    self._consumer.seek(tp, record.offset)
                    return records[:n]
                await self._dead_letter(record, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - bad input goes to the dead-letter topic
                await self._dead_letter(record, exc)
                continue
            try:
                for topic, key, value in outputs:
                    await self.outbox.send(topic, key, value)
            except Exception as exc:  # noqa: BLE001 - e.g. an output over the producer's size limit
                await self._dead_letter(record, exc)
        return records

    async def _wait_for_endpoint(self, tp: TopicPartition, record: ConsumerRecord) -> bool:
        """True to retry ``record`` later: its endpoints partition has records not applied
        yet, and the grace period has not run out."""
        now = time.monotonic()
        deferred = self._deferred.get(tp)
        if deferred is None or deferred[0] != record.offset:
            deferred = self._deferred[tp] = (record.offset, now)
        if now - deferred[1] >= UNKNOWN_ENDPOINT_GRACE:
            del self._deferred[tp]
            return False
        consumer = self._consumer
        assert consumer is not None
        endpoints_tp = TopicPartition(self._endpoints_topic, tp.partition)
        if endpoints_tp not in self._next:
            return False
        end = (await consumer.end_offsets([endpoints_tp]))[endpoints_tp]
        if end > self._next[endpoints_tp]:
            await asyncio.sleep(0.01)  # let the endpoints partition's fetch arrive
            return True
        del self._deferred[tp]
        return False

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException) -> None:
        key, value = dead_letter_for(exc, topic=record.topic, partition=record.partition,
                                     offset=record.offset, key=record.key, value=record.value)
        self.dead_letters[record.topic] += 1
        try:
            await self.outbox.send(self._dead_letter_topic, key, value)
        except Exception:  # noqa: BLE001 - never let a dead letter stop the ingest
            log.exception("could not dead-letter %s[%s]@%s", record.topic, record.partition, record.offset)

    # -- commits --------------------------------------------------------------------------
    async def _maybe_commit(self) -> None:
        """Start a commit in the background when one is due: processing goes on while the
        broker acknowledges what the commit covers (a synchronous flush held every event
        behind it for the slowest acknowledgement)."""
        since = time.monotonic() - self._last_commit
        if not (self._uncommitted and (self._uncommitted >= 20 * self._max_batch or since >= self._commit_interval)
                or since >= OFFSETS_REFRESH):
            return
        if self._committing is not None:
            if not self._committing.done():
                if since >= SLOW_COMMIT and time.monotonic() - self._slow_logged >= SLOW_COMMIT:
                    self._slow_logged = time.monotonic()
                    log.warning("ingest: a commit has waited %.0f s (%s; state writer: %s)",
                                since, self._commit_stage, self.state.stage)
                return  # one commit at a time
            committing, self._committing = self._committing, None
            committing.result()  # a failed commit: the loop starts over from the last one
        consumer = self._consumer
        if consumer is None or not self._next:
            return
        self._committing = asyncio.ensure_future(
            self._commit_when_written(consumer, dict(self._next), self.state.after_batch()))
        self._uncommitted = 0
        self._last_commit = time.monotonic()

    async def _commit_when_written(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int],
                                   batch: int) -> None:
        self._commit_stage = "waiting for the state writer"
        await self.state.written(batch)
        self._commit_stage = "committing offsets"
        # bounded: a commit lost with a broker restart fails here and the loop starts over
        await asyncio.wait_for(consumer.commit(offsets), timeout=SLOW_COMMIT)
        self._commit_stage = "done"
        self.commits += 1

    async def _commit(self) -> None:
        """Flush outputs and changelogs, then commit what was processed (after the commit
        in the background, if one is under way)."""
        if self._committing is not None:
            committing, self._committing = self._committing, None
            await committing
        consumer = self._consumer
        if consumer is None:
            return
        await self.state.written(self.state.after_batch())
        # every position, changed or not: the group never has members, and Kafka expires the
        # offsets of such a group per partition, counting from that partition's last commit
        offsets = dict(self._next)
        if offsets:
            await consumer.commit(offsets)
            self.commits += 1
        self._uncommitted = 0
        self._last_commit = time.monotonic()

