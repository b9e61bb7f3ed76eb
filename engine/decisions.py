"""The events handler's work for one input record: decode, decide, count, and what to emit.

Everything here is glue between the tables and the pure core (``rules.decide``,
``rules.caps``); the ingest only sends what :meth:`EventProcessor.process` returns.
At-least-once with idempotent state (PRODUCT.md semantics 4): the cap state remembers the
last source position it applied and its recent decisions, so a record replayed after a
crash re-emits the identical decision and never counts twice.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import orjson

from engine.app import Engine, endpoint_key
from engine.control import ControlPlane
from engine.endpoints import iso_millis, upsert_endpoint
from engine.tables import Tables
from rules.caps import EndpointCaps, record_decision, record_engagement
from rules.decide import Decision, decide
from rules.errors import EventError
from rules.listing import in_app_messages
from rules.metrics import COUNTERS, decision_deltas, engagement_deltas
from rules.models import Endpoint, PublicEndpoint, decode_app_event
from rules.models.event import AppEvent
from rules.models.parse import parse_resource
from topics.wire import MetricDelta, MetricRow, encode_json

__all__ = ["EventProcessor", "MetricBatch", "Output", "UnknownEndpoint", "in_app_messages_for"]

Output = tuple[str, bytes | None, bytes]  # (topic name, key, value)

_ENDPOINT_CACHE_SIZE = 50_000
_NO_CAPS = EndpointCaps()


class UnknownEndpoint(EventError):
    """The event's endpoint is not in the endpoints table (yet: the caller may wait for the
    ingest to apply the endpoints partition first, for a few seconds)."""


class EndpointCache:
    """Parsed endpoints by table key, reused while the stored bytes are unchanged."""

    def __init__(self, size: int = _ENDPOINT_CACHE_SIZE) -> None:
        self._entries: OrderedDict[bytes, tuple[bytes, Endpoint]] = OrderedDict()
        self._size = size

    def get(self, key: bytes, raw: bytes) -> Endpoint:
        hit = self._entries.get(key)
        if hit is not None and (hit[0] is raw or hit[0] == raw):
            return hit[1]
        endpoint = Endpoint.model_validate(orjson.loads(raw))
        self._entries[key] = (raw, endpoint)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return endpoint


class MetricBatch:
    """Counter deltas of one batch of events, one ``MetricDelta`` per (campaign, source
    partition), each row tagged with its source offset (see ``engine.kpis``)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, int], list[MetricRow]] = {}

    def add(self, app_id: str, partition: int, offset: int, deltas: Any) -> None:
        for delta in deltas:
            counts = {name: getattr(delta, name) for name in COUNTERS if getattr(delta, name)}
            key = (app_id, delta.campaign_id, partition)
            self._rows.setdefault(key, []).append(
                MetricRow(TreatmentId=delta.treatment_id, Day=delta.day, Counts=counts, SourceOffset=offset))

    def drain(self) -> list[tuple[bytes, bytes]]:
        """(key, value) of every ``campaign-metrics`` record, and forget them."""
        records = [
            (campaign_id.encode(), encode_json(MetricDelta(
                ApplicationId=app_id, CampaignId=campaign_id, Rows=rows, SourcePartition=partition,
                SourceOffset=rows[-1].SourceOffset)))
            for (app_id, campaign_id, partition), rows in self._rows.items()
        ]
        self._rows.clear()
        return records


class EventProcessor:
    """Turns one ``inapp.events`` record into table writes and outputs."""

    def __init__(self, engine: Engine, control: ControlPlane, tables: Tables) -> None:
        self.control = control
        self.tables = tables
        self.max_skew = engine.settings.max_event_skew_seconds
        self.endpoints = EndpointCache()
        self.decisions_topic = engine.decisions.get_topic_name()
        self.pinpoint_topic = engine.pinpoint_events.get_topic_name()
        self.metrics = MetricBatch()
        self.decisions = 0

    def process(self, record: Any) -> list[Output]:
        """Decide one event record (aiokafka ``ConsumerRecord``); counter deltas go to
        :attr:`metrics`. Raises (EventError, ValueError, ValidationError) for the dead-letter
        topic; nothing is written or counted then."""
        tables = self.tables
        event, endpoint_data = _decode(record.value)
        index = self.control.index
        if not index.has_app(event.application_id):
            raise EventError("ApplicationId", f"unknown application {event.application_id!r}")
        received = record.timestamp / 1000.0  # the record's CreateTime, in ms
        partition = record.partition
        source = (partition, record.offset)
        key = endpoint_key(event.application_id, event.endpoint_id)
        if endpoint_data:
            request = parse_resource(PublicEndpoint, endpoint_data, resource_id=event.endpoint_id, kind="endpoint")
            upsert_endpoint(tables.endpoints, partition, event.application_id, event.endpoint_id,
                            request.to_wire(), iso_millis(received))
        raw_endpoint = tables.endpoints.get(key)
        if raw_endpoint is None:
            raise UnknownEndpoint("EndpointId", f"unknown endpoint {event.endpoint_id!r} of application {event.application_id!r}")
        endpoint = self.endpoints.get(key, raw_endpoint)
        raw_caps = tables.caps.get(key)
        caps = EndpointCaps.from_json(orjson.loads(raw_caps)) if raw_caps is not None else None

        base = caps if caps is not None else _NO_CAPS
        if base.has_applied(source):
            # a replay after a crash: re-emit what was decided, change nothing (but send the
            # state again, its changelog record may have been lost in the crash)
            tables.caps.touch(key, partition)
            decision = decide(index, endpoint, caps, event, received, source=source, max_skew=self.max_skew)
            deltas = decision_deltas(decision) if decision is not None else ()
        else:
            deltas = engagement_deltas(base, event, received, max_skew=self.max_skew)
            state = record_engagement(base, endpoint, event, received, max_skew=self.max_skew)
            decision = decide(index, endpoint, state, event, received, max_skew=self.max_skew)
            if decision is not None:
                state = record_decision(state, decision)
                deltas += decision_deltas(decision)
            if state is not base:  # transitions return the same object when nothing changed
                tables.caps.set(key, orjson.dumps(state.at_source(source).to_json()), partition)

        endpoint_id_key = event.endpoint_id.encode()
        outputs: list[Output] = []
        if decision is not None:
            self.decisions += 1
            outputs.append((self.decisions_topic, endpoint_id_key, orjson.dumps(decision.to_wire())))
        outputs.append((self.pinpoint_topic, endpoint_id_key, _pinpoint_record(event, decision)))
        if deltas:
            self.metrics.add(event.application_id, partition, record.offset, deltas)
        return outputs


def _decode(raw: bytes | None) -> tuple[AppEvent, dict[str, Any] | None]:
    if raw is None:
        raise EventError("", "empty record (no value)")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EventError("", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EventError("", f"an event must be a JSON object, not {type(data).__name__}")
    endpoint_data = data.pop("Endpoint", None)
    if endpoint_data is not None and not isinstance(endpoint_data, dict):
        raise EventError("Endpoint", "must be an object (PublicEndpoint)")
    return decode_app_event(data), endpoint_data


def _pinpoint_record(event: AppEvent, decision: Decision | None) -> bytes:
    """One ``PutEvents`` body: the event, plus a ``_campaign.send`` record for a decision."""
    events: dict[str, Any] = {event.event_id: event.event.to_wire()}
    if decision is not None:
        events[decision.decision_id] = {
            "EventType": "_campaign.send",
            "Timestamp": decision.to_wire()["DecidedAt"],
            "Attributes": {
                "campaign_id": decision.campaign_id,
                "treatment_id": decision.treatment_id,
                "delivery_type": "IN_APP_MESSAGE",
                "decision_id": decision.decision_id,
                "source_event_id": decision.event_id,
            },
        }
    request = {"BatchItem": {event.endpoint_id: {"Endpoint": {}, "Events": events}}}
    return orjson.dumps({"ApplicationId": event.application_id, "EventsRequest": request})


def in_app_messages_for(engine: Engine, index: Any, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
    """GetInAppMessages for an endpoint of this worker (PRODUCT.md semantics 8)."""
    key = endpoint_key(app_id, endpoint_id)
    raw = engine.endpoints.get(key)
    if raw is None:
        return []
    endpoint = Endpoint.model_validate(orjson.loads(raw))
    raw_caps = engine.caps.get(key)
    caps = EndpointCaps.from_json(orjson.loads(raw_caps)) if raw_caps is not None else None
    now = datetime.now(UTC).timestamp()
    return in_app_messages(index, app_id, endpoint, caps, now, engine.settings.inapp_caps_report, endpoint_id=endpoint_id)
