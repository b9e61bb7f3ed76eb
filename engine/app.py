"""The Faust application: its topics, tables and settings, built from ``Settings``.

Agents live in ``engine.agents``; this module only wires objects together so that the CLI,
the tests and the benchmarks build the same engine. No import-time side effects: nothing
exists until :func:`build_engine` is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import faust

from engine.settings import Settings
from topics.catalog import (
    CAMPAIGN_METRICS,
    DEAD_LETTER,
    DECISIONS,
    ENDPOINTS,
    EVENTS,
    PINPOINT_EVENTS,
    TopicSpec,
    full_name,
)

__all__ = ["Engine", "build_faust_app"]


def build_faust_app(settings: Settings, bootstrap_servers: str) -> faust.App:
    """A Faust app tuned as faust-kafka-notes §6.4 recommends (at-least-once, web on loopback)."""
    store = "memory://" if settings.store == "memory" else "rocksdb://"
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in bootstrap_servers.split(",")],
        store=store,
        datadir=str(settings.data_dir),
        autodiscover=False,
        # every key and value is bytes we encode ourselves (orjson); raw keeps Faust's JSON
        # codec off the hot path, and undecodable input reaches our dead-letter handling
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        processing_guarantee=settings.processing_guarantee,
        table_standby_replicas=settings.standby_replicas,
        producer_linger=0.005,
        # how long a record may wait for its acknowledgement (Faust's default is 20 min): a
        # batch stranded by a broker restart fails after this, and the ingest starts over
        # from its last commit instead of holding every commit behind it
        producer_request_timeout=30.0,
        producer_max_batch_size=settings.producer_max_batch_bytes,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=settings.session_timeout_seconds / 10,
        web_enabled=True,
        web_bind=settings.web_bind,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_transport="tcp://",
        web_in_thread=False,
        web_application_options={"client_max_size": 8 * 1024 * 1024},
        # the /router, /table and /stats pages would leak state without auth
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        # co-partitioned tables must recover before agents read them
        stream_recovery_delay=0.0,
        consumer_auto_offset_reset="earliest",
    )


def _topic(app: faust.App, settings: Settings, spec: TopicSpec) -> faust.TopicT:
    return app.topic(
        full_name(settings.topic_prefix, spec),
        key_type=bytes,
        value_type=bytes,
        # raw: we decode ourselves, so undecodable bytes reach the dead-letter topic instead of
        # crashing the agent inside Faust's JSON codec (the app default)
        key_serializer="raw",
        value_serializer="raw",
        partitions=spec.partitions(settings.partitions),
        compacting=spec.compacted,
        internal=False,
        # the worker creates topics itself from the catalogue (engine.topology)
        allow_empty=True,
    )


@dataclass
class Engine:
    """Everything a worker runs: the Faust app and its topics and tables."""

    settings: Settings
    bootstrap_servers: str
    app: faust.App
    events: faust.TopicT
    endpoints_topic: faust.TopicT
    decisions: faust.TopicT
    pinpoint_events: faust.TopicT
    dead_letter: faust.TopicT
    campaign_metrics: faust.TopicT
    # EndpointKey -> endpoint profile JSON (co-partitioned with events)
    endpoints: Any
    # EndpointKey -> EndpointCaps JSON (co-partitioned with events)
    caps: Any
    # CampaignId -> campaign counters JSON (co-partitioned with campaign-metrics)
    metrics: Any

    @classmethod
    def build(cls, settings: Settings, bootstrap_servers: str) -> "Engine":
        app = build_faust_app(settings, bootstrap_servers)

        def table(name: str, help_text: str) -> Any:
            return app.Table(
                name,
                default=None,
                key_type=bytes,
                value_type=bytes,
                partitions=settings.partitions,
                help=help_text,
            )

        return cls(
            settings=settings,
            bootstrap_servers=bootstrap_servers,
            app=app,
            events=_topic(app, settings, EVENTS),
            endpoints_topic=_topic(app, settings, ENDPOINTS),
            decisions=_topic(app, settings, DECISIONS),
            pinpoint_events=_topic(app, settings, PINPOINT_EVENTS),
            dead_letter=_topic(app, settings, DEAD_LETTER),
            campaign_metrics=_topic(app, settings, CAMPAIGN_METRICS),
            endpoints=table("endpoints", "endpoint profiles by ApplicationId/EndpointId"),
            caps=table("caps", "cap state by ApplicationId/EndpointId"),
            metrics=table("campaign-metrics", "campaign counters by CampaignId"),
        )


def endpoint_key(app_id: str, endpoint_id: str) -> bytes:
    """Table key of an endpoint: app-scoped, since endpoint ids are chosen by clients."""
    return f"{app_id}\x1f{endpoint_id}".encode()
