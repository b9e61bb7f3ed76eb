"""The worker's agents: thin adapters that receive, call the core, and emit.

Every agent runs with concurrency 1 (faust #606: more can commit past an in-flight message)
and catches per-record errors inside its loop, sending the record to the dead-letter topic
with the reason (STYLE.md §2): an exception escaping an agent would restart it.
"""

from __future__ import annotations

import logging
from typing import Any

from engine.app import Engine
from engine.control import ControlPlane
from engine.deadletter import dead_letter_for
from engine.decisions import EventProcessor, UnknownEndpoint
from engine.endpoints import apply_endpoint_record
from engine.kpis import apply_metric_delta
from engine.service import EngineBackend

__all__ = ["register_agents"]

log = logging.getLogger(__name__)


def register_agents(engine: Engine, control: ControlPlane, backend: EngineBackend) -> None:
    app = engine.app
    applied = backend.applied

    async def dead_letter(message: Any, exc: BaseException) -> None:
        key, value = dead_letter_for(
            exc,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
            value=message.value,
        )
        await engine.dead_letter.send(key=key, value=value)

    @app.agent(engine.endpoints_topic, name="endpoints", concurrency=1)
    async def endpoints_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                apply_endpoint_record(engine, message.value, message.timestamp)
            except Exception as exc:  # noqa: BLE001 - bad input goes to the dead-letter topic
                await dead_letter(message, exc)
            await applied.mark(message.topic, message.partition, message.offset)

    processor = EventProcessor(engine, control)

    @app.agent(engine.events, name="events", concurrency=1)
    async def events_agent(stream: Any) -> None:
        await control.ready.wait()
        async for event in stream.events():
            message = event.message
            try:
                try:
                    outputs = processor.process(message)
                except UnknownEndpoint:
                    # the endpoint may sit unapplied on the co-partitioned endpoints topic
                    # (UpdateEndpoint answers 202 before it is applied): wait for it, once
                    if not await backend.endpoints_applied(message.partition):
                        raise
                    outputs = processor.process(message)
            except Exception as exc:  # noqa: BLE001 - bad input goes to the dead-letter topic
                await dead_letter(message, exc)
            else:
                for topic, key, value in outputs:
                    await topic.send(key=key, value=value)
            await applied.mark(message.topic, message.partition, message.offset)

    @app.agent(engine.campaign_metrics, name="campaign-metrics", concurrency=1)
    async def metrics_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                apply_metric_delta(engine, message.value)
            except Exception as exc:  # noqa: BLE001
                await dead_letter(message, exc)
            await applied.mark(message.topic, message.partition, message.offset)

    if engine.settings.forward_endpoint_url:
        from engine.forwarder import register_forwarder

        register_forwarder(engine, dead_letter)
