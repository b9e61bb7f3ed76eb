"""Prometheus metrics of a worker, served at ``GET /metrics`` on its web port.

Read from the ingest's own counters when Prometheus scrapes (a custom collector), so the
hot path pays nothing for them. Like Faust's other web views, the page is not signed: bind
the web server to a private interface (``INAPP_WEB_BIND``, 127.0.0.1 by default). It holds
counts and offsets only, never keys, values or credentials.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from engine.ingest import Ingest

__all__ = ["METRICS_PATH", "IngestCollector", "LoopWatch", "mount_metrics"]

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# an event-loop turn longer than this is logged (with the garbage collection inside it)
STALL_SECONDS = 0.05


class LoopWatch:
    """How long the event loop is held, and how much of it is the garbage collector: what
    every event's latency and every API request waits for.

    It also keeps full collections short: a worker holds hundreds of thousands of
    long-lived objects (the compiled index, parsed endpoints), and CPython's full collection
    walks them all, holding the loop 60-90 ms (measured with 5,000 endpoints). After each
    full collection the survivors are moved to the permanent generation (``gc.freeze``), so
    the next ones walk only what was allocated since. Objects are still freed by reference
    counting; only reference cycles among frozen objects would outlive their use.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self._interval = interval
        self.stalls = 0
        self.max_lag = 0.0
        self.gc_seconds = [0.0, 0.0, 0.0]
        self.gc_max = [0.0, 0.0, 0.0]
        self._gc_started = 0.0
        self._freeze = False
        self.freezes = 0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        spent = time.perf_counter() - self._gc_started
        generation = info.get("generation", 0)
        self.gc_seconds[generation] += spent
        self.gc_max[generation] = max(self.gc_max[generation], spent)
        if generation == 2:
            self._freeze = True  # not from inside the collector's callback

    async def run(self) -> None:
        gc.callbacks.append(self._on_gc)
        gc.freeze()  # what startup built (settings, compiled index, Faust's services)
        try:
            while True:
                if self._freeze:
                    self._freeze = False
                    gc.freeze()
                    self.freezes += 1
                gc_before = sum(self.gc_seconds)
                started = time.perf_counter()
                await asyncio.sleep(self._interval)
                lag = time.perf_counter() - started - self._interval
                self.max_lag = max(self.max_lag, lag)
                if lag > STALL_SECONDS:
                    self.stalls += 1
                    log.info("event loop held for %.0f ms (garbage collection %.0f ms of it)",
                             lag * 1000, (sum(self.gc_seconds) - gc_before) * 1000)
        finally:
            gc.callbacks.remove(self._on_gc)


class IngestCollector(Collector):
    """The ingest's progress (and the event loop's health) as Prometheus metric families."""

    def __init__(self, ingest: Ingest, loop_watch: LoopWatch | None = None) -> None:
        self._ingest = ingest
        self._loop_watch = loop_watch

    def collect(self) -> Iterator[Any]:
        ingest = self._ingest
        watch = self._loop_watch
        if watch is not None:
            yield CounterMetricFamily("inapp_event_loop_stalls", f"Event-loop turns over {STALL_SECONDS * 1000:.0f} ms",
                                      value=watch.stalls)
            yield GaugeMetricFamily("inapp_event_loop_max_lag_seconds", "Longest event-loop turn seen",
                                    value=watch.max_lag)
            gc_seconds = CounterMetricFamily("inapp_gc_seconds", "Time in Python's garbage collector",
                                             labels=["generation"])
            for generation, seconds in enumerate(watch.gc_seconds):
                gc_seconds.add_metric([str(generation)], seconds)
            yield gc_seconds
        records = CounterMetricFamily("inapp_ingest_records", "Input records processed", labels=["topic"])
        for topic, count in sorted(ingest.records.items()):
            records.add_metric([topic], count)
        yield records
        letters = CounterMetricFamily("inapp_dead_letters", "Input records sent to the dead-letter topic",
                                      labels=["topic"])
        for topic, count in sorted(ingest.dead_letters.items()):
            letters.add_metric([topic], count)
        yield letters
        yield CounterMetricFamily("inapp_decisions", "Display decisions emitted", value=ingest.events.decisions)
        yield CounterMetricFamily("inapp_records_sent", "Output records sent (decisions, Pinpoint events, "
                                  "counter deltas, dead letters)", value=ingest.outbox.sent)
        yield CounterMetricFamily("inapp_changelog_records", "Table changelog records sent (one per changed key, "
                                  "after the outputs of its batch)", value=ingest.tables.changelog_records)
        yield CounterMetricFamily("inapp_ingest_commits", "Offset commits of the ingest", value=ingest.commits)
        yield CounterMetricFamily("inapp_ingest_batch_seconds", "Time spent processing batches",
                                  value=ingest.batch_seconds)
        position = GaugeMetricFamily("inapp_ingest_position", "Next offset to process, per owned input partition",
                                     labels=["topic", "partition"])
        lag = GaugeMetricFamily("inapp_ingest_lag", "Records behind the last fetched high watermark, per owned "
                                "input partition", labels=["topic", "partition"])
        for (topic, partition), (next_offset, behind) in sorted(ingest.progress().items()):
            position.add_metric([topic, str(partition)], next_offset)
            if behind is not None:
                lag.add_metric([topic, str(partition)], behind)
        yield position
        yield lag


def mount_metrics(web_app: web.Application, ingest: Ingest, loop_watch: LoopWatch | None = None) -> None:
    """Serve the worker's metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IngestCollector(ingest, loop_watch))

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(registry))
        response.content_type = "text/plain"
        response.charset = "utf-8"
        return response

    web_app.router.add_get(METRICS_PATH, metrics)
