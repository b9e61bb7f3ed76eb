"""Pinpoint-compatible REST API served by the worker's web server.

:func:`mount` adds the routes and the request pipeline to an aiohttp application — Faust's
(``app.web.web_app``) in a worker, a plain ``aiohttp.web.Application`` in tests — before it
starts serving. See ``engine.api.server`` for the pipeline and ``engine.api.routes`` for the
operations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from aiohttp import web

from engine.api.backend import ApiBackend
from engine.api.context import ApiContext, _utc_now
from engine.api.proxy import PROXIED_HEADER, Forwarder
from engine.api.routes import OPERATIONS
from engine.api.server import ApiServer
from engine.api.sigv4 import SigV4Verifier
from engine.api.throttle import Throttle
from engine.settings import Settings

__all__ = ["PROXIED_HEADER", "mount"]


def mount(
    web_app: web.Application,
    backend: ApiBackend,
    settings: Settings,
    *,
    rates: Mapping[str, float] | None = None,
    now: Callable[[], datetime] = _utc_now,
) -> None:
    """Serve the Pinpoint API under ``/v1/`` on ``web_app``.

    Every request must be SigV4-signed (``mobiletargeting``) with a key of
    ``settings.credentials()``; there is no anonymous mode. ``rates`` overrides the
    per-operation requests/second (default: Pinpoint's quotas, reference §2.6); ``now`` is the
    clock used for resource dates and campaign states (tests pin it). Must be called before
    the application starts.
    """
    server = ApiServer(
        context=ApiContext(backend=backend, settings=settings, now=now),
        operations=OPERATIONS,
        verifier=SigV4Verifier(settings.credentials(), settings.max_clock_skew_seconds),
        throttle=Throttle(rates),
        forwarder=Forwarder(),
    )
    server.install(web_app)
