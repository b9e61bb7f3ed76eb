"""What every handler receives: the backend, settings, clock, and the request being served."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from engine.api.backend import ApiBackend, PartitionedKey
from engine.api.errors import BadRequest
from engine.api.wire import parse_json_body
from engine.settings import Settings

__all__ = ["ApiContext", "Call", "Handler", "Operation"]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ApiContext:
    """Shared by all requests of one mounted API."""

    backend: ApiBackend
    settings: Settings
    now: Callable[[], datetime] = _utc_now
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )

    def lock(self, *key: str) -> asyncio.Lock:
        """Serialises read-modify-write of one resource on this worker (versions, merges)."""
        name = "/".join(key)
        lock = self._locks.get(name)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[name] = lock
        return lock

    @property
    def region(self) -> str:
        return self.settings.api_region

    @property
    def account(self) -> str:
        return self.settings.api_account_id


@dataclass
class Call:
    """One verified request: decoded path labels, query, the raw body as received."""

    request: web.Request
    ctx: ApiContext
    body: bytes
    request_id: str
    _json: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def backend(self) -> ApiBackend:
        return self.ctx.backend

    def label(self, name: str) -> str:
        """A path label, percent-decoded (reference §2.3)."""
        value = self.request.match_info[name]
        if not value:
            raise BadRequest(f"{name} must not be empty.")
        return value

    def query(self, name: str) -> str | None:
        return self.request.query.get(name)

    def json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = parse_json_body(self.body)
        return self._json


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    """One Pinpoint operation: route, modelled success status, and how it is served.

    ``partitioned`` names the partitioned state the operation reads; ``owner_label`` is the path
    label holding its key. Such requests are proxied to the owning worker (backend.owner_url).
    """

    name: str
    method: str
    path: str
    status: int
    handler: Handler
    partitioned: PartitionedKey | None = None
    owner_label: str | None = None
    max_body_bytes: int = 7 * 1024 * 1024
