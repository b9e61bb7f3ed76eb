"""The worker's processing, wired: the batch ingest for the input topics, and the optional
forwarder agent.

The input topics (endpoints, events, campaign-metrics) are read by :class:`engine.ingest.Ingest`
a batch at a time below Faust's per-event streams (see that module for why); Faust keeps the
assignment, tables, changelogs and recovery. Per-record errors are caught inside the loops
and sent to the dead-letter topic with the reason (STYLE.md §2).
"""

from __future__ import annotations

import logging
from typing import Any

from engine.app import Engine
from engine.control import ControlPlane
from engine.deadletter import dead_letter_for
from engine.ingest import Ingest
from engine.service import EngineBackend

__all__ = ["register_agents"]

log = logging.getLogger(__name__)


def register_agents(engine: Engine, control: ControlPlane, backend: EngineBackend) -> Ingest:
    app = engine.app
    ingest = Ingest(engine, control, backend.applied)
    ingest.connect_rebalance_signals()

    @app.task
    async def run_ingest() -> None:
        await ingest.run()

    if engine.settings.forward_endpoint_url:
        from engine.forwarder import register_forwarder

        async def dead_letter(message: Any, exc: BaseException) -> None:
            key, value = dead_letter_for(exc, topic=message.topic, partition=message.partition,
                                         offset=message.offset, key=message.key, value=message.value)
            try:
                await engine.dead_letter.send(key=key, value=value)
            except Exception:  # noqa: BLE001 - never let a dead letter crash the agent
                log.exception("could not dead-letter %s[%s]@%s", message.topic, message.partition, message.offset)

        register_forwarder(engine, dead_letter)
    return ingest
