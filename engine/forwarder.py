"""Forward ``inapp.pinpoint-events`` batches to any Pinpoint-compatible PutEvents endpoint.

Off unless ``INAPP_FORWARD_ENDPOINT_URL`` is set. Records are gathered into PutEvents calls
of at most 100 events per application (Pinpoint's limit, reference §6.2), sent with boto3,
retried with exponential backoff on throttling (429), server errors (5xx) and connection
errors; items the remote rejects (per-event status other than 202) go to the dead-letter
topic with the remote's message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import orjson
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from engine.app import Engine
from engine.settings import Settings

__all__ = ["PutEventsForwarder", "RejectedItem", "register_forwarder", "split_batches"]

log = logging.getLogger(__name__)

MAX_EVENTS_PER_CALL = 100


@dataclass(frozen=True)
class RejectedItem(Exception):
    """An event the remote refused (its status code and message)."""

    application_id: str
    endpoint_id: str
    event_id: str
    status_code: int
    remote_message: str

    @property
    def reason(self) -> str:
        return f"remote PutEvents refused event {self.event_id} of endpoint {self.endpoint_id}: " \
               f"{self.status_code} {self.remote_message}"

    def __str__(self) -> str:
        return self.reason


def split_batches(records: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(application id, EventsRequest) calls of at most 100 events, per application."""
    calls: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        calls.setdefault(record["ApplicationId"], []).append(record["EventsRequest"])
    for app_id, requests in calls.items():
        batch: dict[str, Any] = {}
        count = 0
        for request in requests:
            for endpoint_id, item in request["BatchItem"].items():
                events = item.get("Events", {})
                if count + len(events) > MAX_EVENTS_PER_CALL and batch:
                    yield app_id, {"BatchItem": batch}
                    batch, count = {}, 0
                slot = batch.setdefault(endpoint_id, {"Endpoint": item.get("Endpoint", {}), "Events": {}})
                slot["Events"].update(events)
                count += len(events)
        if batch:
            yield app_id, {"BatchItem": batch}


class PutEventsForwarder:
    """A boto3 pinpoint client with the engine's retry policy."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.forward_secret_access_key
        self._client = boto3.client(
            "pinpoint",
            endpoint_url=settings.forward_endpoint_url,
            region_name=settings.forward_region,
            aws_access_key_id=settings.forward_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=15),
        )
        self._app_ids = settings.forward_app_id_map()
        self._attempts = settings.forward_max_attempts

    def send(self, app_id: str, request: dict[str, Any]) -> list[RejectedItem]:
        """One PutEvents call (blocking), retried; returns the items the remote refused."""
        remote_app = self._app_ids.get(app_id, app_id)
        delay = 0.2
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.put_events(ApplicationId=remote_app, EventsRequest=request)
                return list(_rejected(app_id, response))
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if status != 429 and status < 500 or attempt == self._attempts:
                    raise
            except EndpointConnectionError:
                if attempt == self._attempts:
                    raise
            log.info("PutEvents to %s failed (attempt %d); retrying in %.1fs", remote_app, attempt, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        return []


def _rejected(app_id: str, response: dict[str, Any]) -> Iterator[RejectedItem]:
    results = response.get("EventsResponse", {}).get("Results", {}) or {}
    for endpoint_id, item in results.items():
        for event_id, status in (item.get("EventsItemResponse") or {}).items():
            code = int(status.get("StatusCode", 202))
            if code != 202:
                yield RejectedItem(app_id, endpoint_id, event_id, code, str(status.get("Message", "")))


def register_forwarder(engine: Engine, dead_letter: Callable[[Any, BaseException], Awaitable[None]]) -> None:
    forwarder = PutEventsForwarder(engine.settings)

    @engine.app.agent(engine.pinpoint_events, name="forwarder", concurrency=1)
    async def forward(stream: Any) -> None:
        async for batch in stream.take_events(MAX_EVENTS_PER_CALL, within=1.0):
            records = []
            for event in batch:
                try:
                    records.append(orjson.loads(event.message.value))
                except orjson.JSONDecodeError as exc:
                    await dead_letter(event.message, exc)
            for app_id, request in split_batches(records):
                try:
                    rejected = await asyncio.to_thread(forwarder.send, app_id, request)
                except Exception as exc:  # noqa: BLE001 - the remote is down past all retries
                    rejected = [RejectedItem(app_id, ep, ev, 0, f"{exc.__class__.__name__}: {exc}")
                                for ep, item in request["BatchItem"].items() for ev in item["Events"]]
                by_event = {e.message.key: e.message for e in batch}
                for item in rejected:
                    source = by_event.get(item.endpoint_id.encode()) or batch[0].message
                    await dead_letter(source, item)
