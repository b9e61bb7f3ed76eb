"""A TEST DOUBLE of the engine as an import job sees it (engine.imports.job.ImportTarget):
control records and endpoint batches in lists, with an optional failing batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from topics.wire import ControlRecord, EndpointRecord

__all__ = ["MemoryTarget"]


@dataclass
class MemoryTarget:
    records: dict[str, dict[str, ControlRecord]] = field(default_factory=dict)
    control_writes: list[tuple[str, str, ControlRecord | None]] = field(default_factory=list)
    # how many endpoint batches were written when each control write happened
    batches_at_control_write: list[int] = field(default_factory=list)
    batches: list[list[EndpointRecord]] = field(default_factory=list)
    # write_endpoints raises on this call (1-based), once
    fail_on_batch: int | None = None
    _calls: int = 0

    def control_record(self, kind: Any, key: str) -> ControlRecord | None:
        return self.records.get(kind, {}).get(key)

    def control_records(self, kind: Any, prefix: str = "") -> list[tuple[str, ControlRecord]]:
        return sorted((k, v) for k, v in self.records.get(kind, {}).items() if k.startswith(prefix))

    async def write_control(self, kind: Any, key: str, record: ControlRecord | None) -> None:
        self.control_writes.append((kind, key, record))
        self.batches_at_control_write.append(len(self.batches))
        table = self.records.setdefault(kind, {})
        if record is None:
            table.pop(key, None)
        else:  # a copy through JSON, as the topic would hold it
            table[key] = ControlRecord.model_validate_json(record.model_dump_json())

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None:
        self._calls += 1
        if self.fail_on_batch == self._calls:
            self.fail_on_batch = None
            raise ConnectionError("broker went away")
        self.batches.append(list(records))

    @property
    def endpoint_records(self) -> list[EndpointRecord]:
        return [record for batch in self.batches for record in batch]

    def job(self, key: str) -> dict[str, Any]:
        return self.records["import-job"][key].current

    def job_history(self, key: str) -> list[tuple[dict[str, Any], int]]:
        """Every record written for the job, with the endpoint batches written before it."""
        return [(r.current, batches) for (kind, k, r), batches in zip(self.control_writes, self.batches_at_control_write)
                if kind == "import-job" and k == key and r]
