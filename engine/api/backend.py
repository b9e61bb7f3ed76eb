"""The seam between the Pinpoint REST API (HTTP, SigV4, wire shapes) and the stream engine.

The API layer validates requests with ``rules.models``, keeps Pinpoint's resource lifecycle
(ids, versions, dates, pagination) and calls an :class:`ApiBackend` for state. The worker's
implementation (``engine.service``) reads the control topics on every worker, produces writes
to Kafka and waits until they are applied, and answers partitioned reads (endpoints, in-app
messages, KPIs) on the worker that owns the key's partition: when ``owner_url`` names another
worker, the API layer proxies the original request there unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from topics.wire import ControlRecord, EndpointRecord

__all__ = ["ApiBackend", "ControlKind", "PartitionedKey"]

ControlKind = Literal["app", "segment", "template", "campaign", "import-job"]
# which partitioned state a key lives in: endpoints/caps (by EndpointId) or campaign metrics
PartitionedKey = Literal["endpoint", "campaign-metrics"]


class ApiBackend(Protocol):
    # -- control plane: every worker holds all of it -------------------------------
    def control_record(self, kind: ControlKind, key: str) -> ControlRecord | None:
        """The current record of one resource (key as on the topic, e.g. "app/campaign")."""

    def control_records(self, kind: ControlKind, prefix: str = "") -> Sequence[tuple[str, ControlRecord]]:
        """All records of a kind whose key starts with ``prefix``, sorted by key."""

    async def write_control(self, kind: ControlKind, key: str, record: ControlRecord | None) -> None:
        """Produce to the compacted topic (None = tombstone) and return once applied here."""

    def compile_errors(self, app_id: str) -> Sequence[Any]:
        """``rules.errors.DefinitionError`` of this app's campaigns in the current index."""

    # -- partitioned state ---------------------------------------------------------
    def owner_url(self, what: PartitionedKey, key: str) -> str | None:
        """Base URL of the worker owning ``key``'s partition, or None when it is this one."""

    async def get_endpoint(self, app_id: str, endpoint_id: str) -> dict[str, Any] | None:
        """EndpointResponse wire dict (local owner only), including writes acked before."""

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None:
        """Produce endpoint upserts/deletes to ``inapp.endpoints`` (acked by Kafka)."""

    async def put_events(self, app_id: str, events: Sequence[dict[str, Any]]) -> None:
        """Produce input-event envelopes (PRODUCT.md "Input event"; an optional "Endpoint"
        member carries PublicEndpoint data to upsert first) to ``inapp.events``."""

    async def in_app_messages(self, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        """GetInAppMessages' InAppMessageCampaigns (local owner only; PRODUCT.md semantics 8)."""

    async def campaign_kpi(
        self, app_id: str, campaign_id: str, kpi_name: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        """CampaignDateRangeKpiResponse.KpiResult (local owner only)."""
