"""Reusable helpers to drive the Pinpoint API the way users do: boto3, and raw signed HTTP.

``serve_api(backend, ...)`` runs ``engine.api.mount`` on a plain aiohttp application in a
background thread (its own event loop, a TCPSite on 127.0.0.1 and a free port), so the test
thread can call the synchronous boto3 client. ``RunningApi.client()`` is a real
``boto3.client("pinpoint", endpoint_url=...)``; ``RunningApi.raw()`` sends exact bytes with a
SigV4 signature computed by botocore's signer (optionally tampered after signing).
``pinpoint_client(base_url, ...)`` works against any server, e.g. a real worker.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import boto3
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from pydantic import SecretStr

from engine.api import mount
from engine.settings import Settings

__all__ = [
    "ACCESS_KEY",
    "RawResponse",
    "RunningApi",
    "SECRET_KEY",
    "api_settings",
    "pinpoint_client",
    "serve_api",
    "sign_headers",
]

ACCESS_KEY = "AKIDINAPPTEST0001"
SECRET_KEY = "s3cr3t-inapp-test-Wq8f2LmZr4Tb7Yc1"
OTHER_KEY, OTHER_SECRET = "AKIDINAPPTEST0002", "another-secret-Hh3Jk5Lp7Qr9St2Uv"


def api_settings(credentials: str | None = None, **overrides: Any) -> Settings:
    creds = f"{ACCESS_KEY}:{SECRET_KEY},{OTHER_KEY}:{OTHER_SECRET}" if credentials is None else credentials
    values: dict[str, Any] = {"INAPP_API_CREDENTIALS": SecretStr(creds) if creds else None, **overrides}
    return Settings.model_validate(values)


def pinpoint_client(
    base_url: str,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    region: str = "eu-west-1",
    retries: int = 1,
) -> Any:
    """A real boto3 Pinpoint client for ``base_url`` (no retries: tests see the first answer)."""
    return boto3.client(
        "pinpoint",
        endpoint_url=base_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"total_max_attempts": retries}),
    )


def sign_headers(
    method: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    region: str = "us-east-1",
    service: str = "mobiletargeting",
    amz_date: str | None = None,
) -> dict[str, str]:
    """Headers of a SigV4-signed request, computed with botocore's signer.

    Uses the signer's building blocks instead of ``add_auth`` because ``add_auth`` logs the
    signature at DEBUG, and a test asserts no signature ever reaches the logs.
    """
    host = urlsplit(url).netloc
    stamp = amz_date or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    request = AWSRequest(method=method, url=url, data=body)
    request.headers["Host"] = host
    request.headers["X-Amz-Date"] = stamp
    for name, value in (headers or {}).items():
        request.headers[name] = value
    signer = SigV4Auth(Credentials(access_key, secret_key), service, region)
    request.context["timestamp"] = stamp
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    names = signer.signed_headers(signer.headers_to_sign(request))
    scope = f"{access_key}/{stamp[:8]}/{region}/{service}/aws4_request"
    result = dict(request.headers.items())
    result["Authorization"] = f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={names}, Signature={signature}"
    return result


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import orjson

        return orjson.loads(self.body)


@dataclass
class RunningApi:
    base_url: str
    backend: Any
    settings: Settings
    _clients: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    def client(self, **kwargs: Any) -> Any:
        key = tuple(sorted(kwargs.items()))
        if key not in self._clients:
            self._clients[key] = pinpoint_client(self.base_url, **kwargs)
        return self._clients[key]

    def raw(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        sign: bool = True,
        send_path: str | None = None,
        send_body: bytes | None = None,
        **signing: Any,
    ) -> RawResponse:
        """Send ``method path`` with ``body``, signed over (path, body); ``send_path`` and
        ``send_body`` replace what is actually sent (tampering after signing)."""
        url = self.base_url + path
        all_headers = dict(headers or {})
        if body and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/json"
        if sign:
            all_headers = sign_headers(method, url, body, all_headers, **signing)
        target = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
        try:
            payload = body if send_body is None else send_body
            conn.putrequest(method, send_path or path, skip_host=True, skip_accept_encoding=True)
            if not any(k.lower() == "host" for k in all_headers):
                conn.putheader("Host", target.netloc)
            for name, value in all_headers.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(payload)))
            conn.endheaders(payload)
            answer = conn.getresponse()
            return RawResponse(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())
        finally:
            conn.close()


class _ServerThread:
    """An aiohttp server with the API mounted, on its own loop in a daemon thread."""

    def __init__(
        self,
        backend: Any,
        settings: Settings,
        mount_kwargs: Mapping[str, Any],
        prepare: Callable[[web.Application], None] | None = None,
    ) -> None:
        self.prepare = prepare
        self.backend = backend
        self.settings = settings
        self.mount_kwargs = dict(mount_kwargs)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="inapp-api-test", daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> str:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        app = web.Application()
        if self.prepare is not None:
            self.prepare(app)  # e.g. routes that exist before the API is mounted (Faust's views)
        mount(app, self.backend, self.settings, **self.mount_kwargs)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (to touch the backend without races)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)


@contextmanager
def serve_api(
    backend: Any,
    settings: Settings | None = None,
    *,
    prepare: Callable[[web.Application], None] | None = None,
    **mount_kwargs: Any,
) -> Iterator[RunningApi]:
    """Serve ``engine.api.mount(app, backend, settings, **mount_kwargs)`` until the block ends;
    ``prepare(app)`` runs first on the fresh application."""
    settings = settings or api_settings()
    server = _ServerThread(backend, settings, mount_kwargs, prepare)
    base_url = server.start()
    try:
        yield RunningApi(base_url, backend, settings)
    finally:
        server.stop()
