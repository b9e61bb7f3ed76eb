"""The request pipeline of the Pinpoint API on an aiohttp application.

For every request under ``/v1/``: a request id; the body read with a size cap before it is
buffered (413); the SigV4 signature (403); the route (404/405); the operation's token bucket
(429); then either a proxy to the partition owner or the operation's handler. Errors become
Pinpoint's error shapes (reference §2.6); every response carries ``x-amzn-RequestId``.
Requests outside ``/v1/`` (Faust's own web views) pass through untouched.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from engine.api.context import ApiContext, Call, Operation
from engine.api.errors import (
    ApiError,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
)
from engine.api.proxy import PROXIED_HEADER, Forwarder
from engine.api.sigv4 import SigV4Verifier
from engine.api.throttle import Throttle
from engine.api.wire import json_response

__all__ = ["API_PREFIX", "ApiServer", "DEFAULT_MAX_BODY_BYTES", "error_response"]

log = logging.getLogger("engine.api")

API_PREFIX = "/v1/"
# UpdateEndpointsBatch allows 7 MB (reference §6.1), the largest payload of any operation
DEFAULT_MAX_BODY_BYTES = 7 * 1024 * 1024
REQUEST_ID_HEADER = "x-amzn-RequestId"
ERROR_TYPE_HEADER = "x-amzn-ErrorType"

_Next = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(error: ApiError, request_id: str) -> web.Response:
    response = json_response({"Message": error.message, "RequestID": request_id}, error.status)
    response.headers[ERROR_TYPE_HEADER] = error.code
    return response


async def _read_capped(request: web.Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it is known to exceed ``limit`` bytes."""
    too_large = PayloadTooLarge(f"The request body exceeds the limit of {limit} bytes.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks: list[bytes] = []
    received = 0
    while chunk := await request.content.readany():
        received += len(chunk)
        if received > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


class ApiServer:
    """Routes, middleware and shared state of one mounted API."""

    def __init__(
        self,
        context: ApiContext,
        operations: Sequence[Operation],
        verifier: SigV4Verifier,
        throttle: Throttle,
        forwarder: Forwarder,
    ) -> None:
        self.context = context
        self.operations = tuple(operations)
        self.verifier = verifier
        self.throttle = throttle
        self.forwarder = forwarder
        self._by_route: dict[object, Operation] = {}

    def install(self, web_app: web.Application) -> None:
        for operation in self.operations:
            # the router resolves the operation; the middleware serves it (it holds the body)
            route = web_app.router.add_route(operation.method, operation.path, _served_by_middleware)
            self._by_route[route] = operation
        web_app.middlewares.append(self.middleware)
        web_app.on_cleanup.append(self._close)

    async def _close(self, _app: web.Application) -> None:
        await self.forwarder.close()

    @web.middleware
    async def middleware(self, request: web.Request, handler: _Next) -> web.StreamResponse:
        if not (request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")):
            return await handler(request)
        request_id = str(uuid.uuid4())
        operation = self._by_route.get(request.match_info.route)
        name = operation.name if operation else "-"
        try:
            limit = operation.max_body_bytes if operation else DEFAULT_MAX_BODY_BYTES
            body = await _read_capped(request, limit)
            signer = self.verifier.verify(request.method, request.raw_path, request.headers, body)
            if operation is None:
                raise self._routing_error(request)
            if not self.throttle.allow(operation.name):
                raise TooManyRequests(f"Rate exceeded for {operation.name}.")
            response = await self._serve(operation, request, body, request_id)
        except ApiError as error:
            log.info(
                "%s %s op=%s -> %s %s (%s)", request.method, request.path, name, error.status,
                error.code, error.message, extra={"request_id": request_id},
            )
            response = error_response(error, request_id)
        except Exception:
            log.exception("%s %s op=%s failed", request.method, request.path, name)
            response = error_response(InternalServerError("An internal error occurred."), request_id)
        else:
            log.debug(
                "%s %s op=%s key=%s -> %s", request.method, request.path, name,
                signer.access_key_id, response.status, extra={"request_id": request_id},
            )
        if REQUEST_ID_HEADER not in response.headers:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @staticmethod
    def _routing_error(request: web.Request) -> ApiError:
        exception = request.match_info.http_exception
        if isinstance(exception, web.HTTPMethodNotAllowed):
            return MethodNotAllowed(f"{request.method} is not allowed on this resource.")
        return NotFound(f"No operation matches {request.method} {request.path}.")

    async def _serve(
        self, operation: Operation, request: web.Request, body: bytes, request_id: str
    ) -> web.StreamResponse:
        if operation.partitioned and operation.owner_label and PROXIED_HEADER not in request.headers:
            key = request.match_info.get(operation.owner_label, "")
            owner = self.context.backend.owner_url(operation.partitioned, key) if key else None
            if owner:
                return await self.forwarder.forward(owner, request, body)
        payload = await operation.handler(Call(request, self.context, body, request_id))
        return json_response(payload, operation.status)


async def _served_by_middleware(request: web.Request) -> web.StreamResponse:
    raise web.HTTPInternalServerError(text="engine.api middleware is not installed")
