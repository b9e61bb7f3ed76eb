"""A TEST DOUBLE of ``engine.api.backend.ApiBackend``: everything in dictionaries.

Not the engine: no Kafka, no rules evaluation. It stores what the API writes so tests can
check it, merges endpoint upserts with ``rules.profiles.merge_endpoint`` (the same rule the
engine applies), and answers GetInAppMessages/KPIs from canned values the test sets. Its
``owner_url`` is a callable so two instances can claim different keys (proxy tests).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.api.backend import ControlKind, PartitionedKey
from rules.profiles import merge_endpoint
from topics.wire import ControlRecord, EndpointRecord

__all__ = ["InMemoryBackend"]


def _now_iso() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass
class InMemoryBackend:
    """Test double of the API backend (see module docstring)."""

    name: str = "memory"
    owner: Callable[[PartitionedKey, str], str | None] = lambda what, key: None
    records: dict[str, dict[str, ControlRecord]] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    endpoint_writes: list[EndpointRecord] = field(default_factory=list)
    control_writes: list[tuple[str, str, ControlRecord | None]] = field(default_factory=list)
    # canned answers: (app, endpoint) -> InAppMessageCampaigns; (app, campaign, kpi) -> KpiResult
    messages: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    kpis: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    kpi_calls: list[tuple[str, str, str, datetime, datetime]] = field(default_factory=list)
    # campaign ids the "engine" refuses to compile -> reason (compile_errors)
    uncompilable: dict[str, str] = field(default_factory=dict)
    served: list[str] = field(default_factory=list)

    # -- control plane ---------------------------------------------------------------
    def control_record(self, kind: ControlKind, key: str) -> ControlRecord | None:
        return self.records.get(kind, {}).get(key)

    def control_records(self, kind: ControlKind, prefix: str = "") -> Sequence[tuple[str, ControlRecord]]:
        return sorted((k, v) for k, v in self.records.get(kind, {}).items() if k.startswith(prefix))

    async def write_control(self, kind: ControlKind, key: str, record: ControlRecord | None) -> None:
        self.control_writes.append((kind, key, record))
        table = self.records.setdefault(kind, {})
        if record is None:
            table.pop(key, None)
        else:
            table[key] = ControlRecord.model_validate_json(record.model_dump_json())

    def compile_errors(self, app_id: str) -> Sequence[Any]:
        from rules.errors import DefinitionError

        live = {k.split("/", 1)[1] for k in self.records.get("campaign", {}) if k.startswith(f"{app_id}/")}
        return [
            DefinitionError("Schedule", reason, resource_id=campaign_id)
            for campaign_id, reason in self.uncompilable.items()
            if campaign_id in live
        ]

    # -- partitioned state -----------------------------------------------------------
    def owner_url(self, what: PartitionedKey, key: str) -> str | None:
        return self.owner(what, key)

    async def get_endpoint(self, app_id: str, endpoint_id: str) -> dict[str, Any] | None:
        self.served.append(f"GetEndpoint:{endpoint_id}")
        found = self.endpoints.get((app_id, endpoint_id))
        return dict(found) if found is not None else None

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None:
        for record in records:
            self.endpoint_writes.append(record)
            key = (record.ApplicationId, record.EndpointId)
            if record.Op == "delete":
                self.endpoints.pop(key, None)
                continue
            self.endpoints[key] = merge_endpoint(
                self.endpoints.get(key), record.Endpoint, application_id=record.ApplicationId,
                endpoint_id=record.EndpointId, now_iso=_now_iso(),
            )

    async def put_events(self, app_id: str, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            self.events.append(event)
            if event.get("Endpoint"):
                key = (app_id, event["EndpointId"])
                self.endpoints[key] = merge_endpoint(
                    self.endpoints.get(key), event["Endpoint"], application_id=app_id,
                    endpoint_id=event["EndpointId"], now_iso=_now_iso(),
                )

    async def in_app_messages(self, app_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        self.served.append(f"GetInAppMessages:{endpoint_id}")
        return list(self.messages.get((app_id, endpoint_id), []))

    async def campaign_kpi(
        self, app_id: str, campaign_id: str, kpi_name: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        self.served.append(f"GetCampaignDateRangeKpi:{campaign_id}")
        self.kpi_calls.append((app_id, campaign_id, kpi_name, start, end))
        return self.kpis.get((app_id, campaign_id, kpi_name), {"Rows": []})
