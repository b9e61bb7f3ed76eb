"""Forward a request to the worker owning its partition, and relay the answer verbatim.

Partitioned reads (endpoints, in-app messages, KPIs) are answered by the owner of the key's
partition (architecture.md). The original request goes there unchanged — method, path and
query as sent, every end-to-end header including ``Host`` and the SigV4 ``Authorization``, and
the body — so the owner verifies the client's own signature. A marker header tells the owner
not to proxy again, whatever its view of the partition assignment is.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from engine.api.errors import InternalServerError

__all__ = ["PROXIED_HEADER", "Forwarder"]

log = logging.getLogger(__name__)

PROXIED_HEADER = "X-Inapp-Proxied"
# RFC 9110 §7.6.1 connection-specific headers, plus the length the client library recomputes
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


class Forwarder:
    """Owns one client session for proxying; close it with :meth:`close` on app cleanup."""

    def __init__(self, timeout_seconds: float = 30.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                auto_decompress=False,  # relay the owner's bytes as they are
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def forward(self, owner_url: str, request: web.Request, body: bytes) -> web.Response:
        url = URL(owner_url.rstrip("/") + request.raw_path, encoded=True)
        headers: CIMultiDict[str] = CIMultiDict(
            (name, value) for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP
        )
        headers[PROXIED_HEADER] = "1"
        try:
            async with self._client().request(
                request.method, url, headers=headers, data=body, allow_redirects=False
            ) as answer:
                payload = await answer.read()
                relayed: CIMultiDict[str] = CIMultiDict(
                    (name, value)
                    for name, value in answer.headers.items()
                    if name.lower() not in _HOP_BY_HOP
                )
                return web.Response(status=answer.status, headers=relayed, body=payload)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("proxy to owner %s failed: %s", owner_url, type(exc).__name__)
            raise InternalServerError(
                "The worker owning this partition did not answer; retry the request."
            ) from None
