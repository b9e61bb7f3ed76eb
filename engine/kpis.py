"""Campaign counters (decisions, displays, unique displays, clicks, dismissals) and KPIs.

Counter deltas arrive on the internal ``campaign-metrics`` topic keyed by campaign id; the
ingest sums them per (day, treatment) in a table keyed by campaign, skipping a delta
whose source offset it has already applied (at-least-once replays never count twice).
In-app KPI names are not documented by Pinpoint (reference §11); ours follow its naming:
``inapp-<counter>`` and ``inapp-<counter>-grouped-by-date``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from engine.tables import StagedTable
from topics.wire import METRIC_DELTA

__all__ = ["COUNTERS", "KPI_NAMES", "UnknownKpi", "apply_metric_delta", "kpi_result"]

# counter (rules.metrics.COUNTERS) -> the ResultRowValue key it is reported under
COUNTERS: dict[str, str] = {
    "decisions": "Decisions",
    "displays": "Displays",
    "unique_displays": "UniqueDisplays",
    "clicks": "Clicks",
    "dismissals": "Dismissals",
}
_KPI_STEMS = {f"inapp-{name.replace('_', '-')}": name for name in COUNTERS}
KPI_NAMES: frozenset[str] = frozenset(_KPI_STEMS) | frozenset(f"{stem}-grouped-by-date" for stem in _KPI_STEMS)


class UnknownKpi(ValueError):
    """A KPI name this engine does not compute (the API answers BadRequestException)."""


def apply_metric_delta(metrics: StagedTable, partition: int, raw: bytes | None) -> None:
    """Add the deltas of source events to their campaign's counters, each source event once."""
    if raw is None:
        raise ValueError("empty record (no value)")
    delta = METRIC_DELTA.validate_json(raw)
    key = delta.CampaignId.encode()
    stored = metrics.get(key)
    counters: dict[str, Any] = (
        orjson.loads(stored) if stored is not None
        else {"ApplicationId": delta.ApplicationId, "Days": {}, "Applied": {}}
    )
    source = str(delta.SourcePartition)
    applied = counters["Applied"].get(source, -1)
    if applied >= delta.SourceOffset:
        metrics.touch(key, partition)  # a replay: counted, but its changelog record may be lost
        return
    for row in delta.Rows:
        if (row.SourceOffset if row.SourceOffset is not None else delta.SourceOffset) <= applied:
            continue  # this event was counted before a crash; the rest of the batch was not
        day = counters["Days"].setdefault(row.Day, {}).setdefault(row.TreatmentId, {})
        for name, amount in row.Counts.items():
            day[name] = day.get(name, 0) + amount
    counters["Applied"][source] = delta.SourceOffset
    metrics.set(key, orjson.dumps(counters), partition)


def _days(start: datetime, end: datetime) -> list[str]:
    first, last = start.date(), end.date()
    span = (last - first).days
    return [(first + timedelta(days=i)).isoformat() for i in range(max(span, -1) + 1)]


def kpi_result(counters: dict[str, Any], kpi_name: str, start: datetime, end: datetime) -> dict[str, Any]:
    """``KpiResult`` for one campaign over the inclusive UTC day range (reference §11)."""
    if kpi_name not in KPI_NAMES:
        raise UnknownKpi(f"unknown KPI {kpi_name!r}; in-app KPIs are {sorted(KPI_NAMES)}")
    grouped = kpi_name.endswith("-grouped-by-date")
    counter = _KPI_STEMS[kpi_name.removesuffix("-grouped-by-date")]
    label = COUNTERS[counter]
    per_day: dict[str, int] = {}
    for day in _days(start, end):
        treatments = counters.get("Days", {}).get(day, {})
        per_day[day] = sum(values.get(counter, 0) for values in treatments.values())
    if not grouped:
        if not counters:
            return {"Rows": []}
        total = sum(per_day.values())
        return {"Rows": [{"GroupedBys": [], "Values": [_value(label, total)]}]}
    return {
        "Rows": [
            {
                "GroupedBys": [{"Key": "Date", "Type": "String", "Value": day}],
                "Values": [_value(label, count)],
            }
            for day, count in per_day.items()
        ]
    }


def _value(key: str, count: int) -> dict[str, str]:
    return {"Key": key, "Type": "Double", "Value": f"{float(count)}"}


