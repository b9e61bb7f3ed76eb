"""Kafka topics as data, and the wire schemas of the engine's own records."""

from topics.catalog import CONTROL_TOPICS, TOPICS, Partitioning, TopicSpec, full_name, topic_named
from topics.wire import (
    ControlRecord,
    DeadLetter,
    DecisionRecord,
    EndpointRecord,
    MetricDelta,
    PinpointEventsRecord,
    decode_json,
    encode_json,
    original_bytes,
)

__all__ = [
    "CONTROL_TOPICS",
    "TOPICS",
    "ControlRecord",
    "DeadLetter",
    "DecisionRecord",
    "EndpointRecord",
    "MetricDelta",
    "Partitioning",
    "PinpointEventsRecord",
    "TopicSpec",
    "decode_json",
    "encode_json",
    "full_name",
    "original_bytes",
    "topic_named",
]
