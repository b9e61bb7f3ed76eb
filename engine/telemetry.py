"""Prometheus metrics of a worker, served at ``GET /metrics`` on its web port.

Read from the ingest's own counters when Prometheus scrapes (a custom collector), so the
hot path pays nothing for them. Like Faust's other web views, the page is not signed: bind
the web server to a private interface (``INAPP_WEB_BIND``, 127.0.0.1 by default). It holds
counts and offsets only, never keys, values or credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from engine.ingest import Ingest

__all__ = ["METRICS_PATH", "IngestCollector", "mount_metrics"]

METRICS_PATH = "/metrics"


class IngestCollector(Collector):
    """The ingest's progress as Prometheus metric families."""

    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest

    def collect(self) -> Iterator[Any]:
        ingest = self._ingest
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
        yield CounterMetricFamily("inapp_changelog_records", "Table changelog records sent (one per changed key "
                                  "per commit)", value=ingest.tables.changelog_records)
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


def mount_metrics(web_app: web.Application, ingest: Ingest) -> None:
    """Serve the worker's metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IngestCollector(ingest))

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(registry))
        response.content_type = "text/plain"
        response.charset = "utf-8"
        return response

    web_app.router.add_get(METRICS_PATH, metrics)
