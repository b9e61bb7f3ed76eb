"""Every Kafka topic of the engine, declared once, as data (PRODUCT.md "Topics").

Creation (``engine.topology``), the Faust topic objects and the README's table are all
driven from :data:`TOPICS`; nothing else spells a topic name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Partitioning", "TopicSpec", "TOPICS", "topic_named", "full_name"]


class Partitioning(Enum):
    """How many partitions a topic gets."""

    # as many as the events topic: co-partitioned with events (tables keyed like events)
    EVENTS = "events"
    # one partition: small, totally ordered, read whole by every worker
    SINGLE = "single"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic: name (without prefix), key, value, partitioning and cleanup policy."""

    name: str
    key: str
    value: str
    partitioning: Partitioning
    compacted: bool
    internal: bool = False
    # read by the workers' Faust agents in their consumer group (so it needs committed offsets)
    consumed_by_workers: bool = False
    # read by the workers' batch ingest (engine.ingest), committed under "<app id>-ingest"
    ingested: bool = False

    def partitions(self, events_partitions: int) -> int:
        return events_partitions if self.partitioning is Partitioning.EVENTS else 1


EVENTS = TopicSpec(
    "events", "EndpointId", "one app event (topics.wire.AppEvent)", Partitioning.EVENTS, False,
    ingested=True,
)
ENDPOINTS = TopicSpec(
    "endpoints", "EndpointId", "endpoint profile upsert or delete (topics.wire.EndpointRecord)",
    Partitioning.EVENTS, True, ingested=True,
)
APPS = TopicSpec("apps", "ApplicationId", "application + settings (topics.control)", Partitioning.SINGLE, True)
SEGMENTS = TopicSpec("segments", "ApplicationId/SegmentId", "segment versions (topics.control)", Partitioning.SINGLE, True)
TEMPLATES = TopicSpec("templates", "TemplateName", "in-app template versions (topics.control)", Partitioning.SINGLE, True)
CAMPAIGNS = TopicSpec("campaigns", "ApplicationId/CampaignId", "campaign versions (topics.control)", Partitioning.SINGLE, True)
JOBS = TopicSpec("import-jobs", "ApplicationId/JobId", "segment import jobs (topics.control)", Partitioning.SINGLE, True)
DECISIONS = TopicSpec("decisions", "EndpointId", "one display decision (topics.wire.Decision)", Partitioning.EVENTS, False)
PINPOINT_EVENTS = TopicSpec(
    "pinpoint-events", "EndpointId", '{"ApplicationId", "EventsRequest": {"BatchItem"}}', Partitioning.EVENTS, False,
    consumed_by_workers=True,  # by the forwarder, when it is on
)
DEAD_LETTER = TopicSpec(
    "dead-letter", "original key", "topics.wire.DeadLetter: original bytes, error class, reason, source",
    Partitioning.EVENTS, False,
)
CAMPAIGN_METRICS = TopicSpec(
    "campaign-metrics", "CampaignId", "counter deltas of a batch of source events (topics.wire.MetricDelta)",
    Partitioning.EVENTS, False, internal=True, ingested=True,
)

TOPICS: tuple[TopicSpec, ...] = (
    EVENTS, ENDPOINTS, APPS, SEGMENTS, TEMPLATES, CAMPAIGNS, JOBS,
    DECISIONS, PINPOINT_EVENTS, DEAD_LETTER, CAMPAIGN_METRICS,
)

CONTROL_TOPICS: tuple[TopicSpec, ...] = (APPS, SEGMENTS, TEMPLATES, CAMPAIGNS, JOBS)


def topic_named(name: str) -> TopicSpec:
    for spec in TOPICS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def full_name(prefix: str, spec: TopicSpec) -> str:
    return f"{prefix}{spec.name}"
