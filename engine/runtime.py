"""Run one worker: create topics, build the engine, start Faust, announce readiness.

Shared by ``inapp worker`` and ``inapp dev`` (and so by the demo and the tests, which start
workers as real processes).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import faust

from engine.agents import register_agents
from engine.app import Engine
from engine.control import ControlPlane
from engine.indexing import compile_state
from engine.service import EngineBackend
from engine.settings import Settings
from engine.telemetry import LoopWatch, mount_metrics
from engine.topology import ensure_topics
from engine.watchdog import StallWatchdog

__all__ = ["run_worker"]

log = logging.getLogger(__name__)


class _Worker(faust.Worker):
    """Faust's worker, printing ``ready <API base URL>`` once it serves requests."""

    def __init__(self, *args: Any, on_ready: Callable[[], Any], control: ControlPlane, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._on_ready = on_ready
        self._control = control

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        await self._control.ready.wait()
        self._on_ready()


def run_worker(settings: Settings, bootstrap_servers: str, *, announce: Callable[[str], None] | None = None) -> None:
    """Block running one worker until SIGINT/SIGTERM."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings, bootstrap_servers))

    engine = Engine.build(settings, bootstrap_servers)
    control = ControlPlane(
        bootstrap_servers,
        settings.topic_prefix,
        compile_state,
        on_reject=None,
    )
    backend = EngineBackend(engine, control)
    control._on_reject = backend.reject_control_record  # noqa: SLF001 - wired once here
    ingest = register_agents(engine, control, backend)

    if settings.forward_endpoint_url:
        # the forwarder is the one agent on Faust's own consumer (engine.ingest reads the rest)
        watchdog = StallWatchdog(engine, backend.applied, [engine.pinpoint_events.get_topic_name()])

        @engine.app.task
        async def watch_for_stalled_partitions() -> None:
            await watchdog.run()

    @engine.app.task
    async def run_control_plane() -> None:
        await control.start()
        try:
            await asyncio.Event().wait()
        finally:
            await control.stop()

    from engine.api import mount

    mount(engine.app.web.web_app, backend, settings)
    loop_watch = LoopWatch()

    @engine.app.task
    async def watch_the_event_loop() -> None:
        await loop_watch.run()

    mount_metrics(engine.app.web.web_app, ingest, loop_watch)

    base_url = f"http://{settings.web_host}:{settings.web_port}"

    def ready() -> None:
        line = f"ready {base_url}"
        (announce or (lambda text: print(text, flush=True)))(line)

    worker = _Worker(
        engine.app,
        loop=loop,
        loglevel=settings.log_level,
        on_ready=ready,
        control=control,
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()
    sys.exit(0)
