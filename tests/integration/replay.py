"""Replaying events through the pure core, to compare with what the engine did."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from engine.control import ControlPlane
from engine.indexing import ResourceParser, compile_state
from rules.caps import EndpointCaps, record_decision
from rules.decide import decide
from rules.index import CampaignIndex
from rules.models import Endpoint, decode_app_event


async def index_of(bootstrap: str, prefix: str) -> CampaignIndex:
    """The campaign index compiled from the deployment's control topics."""
    control = ControlPlane(bootstrap, prefix, lambda state: compile_state(state, ResourceParser()))
    await control.start()
    try:
        await asyncio.wait_for(control.ready.wait(), 30)
        return control.index  # type: ignore[no-any-return]
    finally:
        await control.stop()


def replay(index: CampaignIndex, endpoints: dict[str, dict[str, Any]], events: Iterable[dict[str, Any]]
           ) -> tuple[dict[str, dict[str, Any]], dict[str, EndpointCaps]]:
    """(decisions by DecisionId, final caps by endpoint id) of ``events`` in this order."""
    decisions: dict[str, dict[str, Any]] = {}
    caps: dict[str, EndpointCaps] = defaultdict(EndpointCaps)
    models = {eid: Endpoint.model_validate(body) for eid, body in endpoints.items()}
    for raw in events:
        event = decode_app_event(raw)
        now = event.event.instant
        decision = decide(index, models.get(event.endpoint_id), caps[event.endpoint_id], event, now)
        if decision is not None:
            caps[event.endpoint_id] = record_decision(caps[event.endpoint_id], decision)
            decisions[decision.decision_id] = decision.to_wire()
    return decisions, dict(caps)


async def read_topic(bootstrap: str, topic: str, *, idle: float = 2.0, timeout: float = 60.0) -> list[Any]:
    """Every record on a topic from the beginning (stops after ``idle`` seconds of nothing)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = loop.time()
    try:
        while loop.time() < deadline and loop.time() - last < idle:
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                records.extend(messages)
                if messages:
                    last = loop.time()
    finally:
        await consumer.stop()
    return records


def decisions_of(records: list[Any]) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records]
