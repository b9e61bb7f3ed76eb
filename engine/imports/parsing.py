"""Pinpoint's import files, one line at a time: CSV with a dotted header, or JSON lines.

Pure functions (no I/O). Each data line becomes an :class:`ImportedRow` (an endpoint id and
its ``EndpointRequest`` members) or a :class:`RowProblem` naming the line and the reason; a
bad line never stops the lines after it.

The formats are Pinpoint's (user guide, "Importing segments"; reference §4.4):

* **CSV**: the first line is the header; columns are endpoint members in dotted form:
  ``Id``, ``Address``, ``ChannelType``, ``OptOut``, ``EffectiveDate``, ``EndpointStatus``,
  ``RequestId``, ``User.UserId``, ``User.UserAttributes.<name>``, ``Attributes.<name>``,
  ``Metrics.<name>``, ``Demographic.<field>``, ``Location.<field>``. An attribute with several
  values repeats its column, one value per column (Pinpoint's convention); a value holding a
  comma or a double quote is enclosed in double quotes. Values may not span lines. Empty
  cells are absent members; whitespace around names and values is dropped.
* **JSON**: one ``EndpointRequest`` object with an ``Id`` per line; blank lines are skipped.

Choices where Pinpoint is silent: every row needs an ``Id`` (the endpoints topic is keyed by
it); a value in a column we cannot import (unknown name, a repeated single-valued column)
rejects its row, so nothing is dropped silently; a non-``IN_APP`` channel is imported but
reported as a notice (only ``IN_APP`` endpoints receive in-app messages, PRODUCT.md
semantics 2). Rows are validated with the ``rules.models`` endpoint models and the endpoint
quotas of UpdateEndpoint.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import TypeAdapter, ValidationError

from rules.quotas import endpoint_quota_problem
from rules.errors import describe
from rules.models import EndpointBatchItem, EndpointDemographic, EndpointLocation, EndpointUser
from topics.wire import ResourceId

__all__ = [
    "CsvHeader",
    "ImportFormat",
    "ImportedRow",
    "RowProblem",
    "RowResult",
    "parse_csv_header",
    "parse_csv_row",
    "parse_json_row",
    "parse_lines",
    "validate_endpoint",
]

ImportFormat = Literal["CSV", "JSON"]

IN_APP = "IN_APP"
_SCALARS = ("Address", "ChannelType", "EffectiveDate", "EndpointStatus", "OptOut", "RequestId")
_DEMOGRAPHIC = frozenset(f.alias for f in EndpointDemographic.model_fields.values() if f.alias)
_LOCATION = frozenset(f.alias for f in EndpointLocation.model_fields.values() if f.alias)
_USER = frozenset(f.alias for f in EndpointUser.model_fields.values() if f.alias)
_TOP_LEVEL = frozenset(f.alias for f in EndpointBatchItem.model_fields.values() if f.alias)
_NUMERIC_LOCATION = frozenset({"Latitude", "Longitude"})
_NESTED_MEMBERS = {"Demographic": _DEMOGRAPHIC, "Location": _LOCATION, "User": _USER}
_ENDPOINT_ID: TypeAdapter[str] = TypeAdapter(ResourceId)


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """One accepted line: the endpoint id and its EndpointRequest wire members (no ``Id``)."""

    line: int
    endpoint_id: str
    request: dict[str, Any]
    channel: str | None
    # accepted, but worth telling the user (a channel that gets no in-app messages)
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One rejected line and why; ``endpoint_id`` when the line named one."""

    line: int
    reason: str
    endpoint_id: str | None = None


RowResult = ImportedRow | RowProblem


# -- CSV ---------------------------------------------------------------------------------

ColumnKind = Literal["id", "scalar", "user_id", "attribute", "user_attribute", "metric", "demographic",
                     "location", "bad"]


@dataclass(frozen=True, slots=True)
class Column:
    """Where one header column goes; ``kind == "bad"`` columns carry why in ``name``."""

    header: str
    kind: ColumnKind
    name: str = ""


@dataclass(frozen=True)
class CsvHeader:
    """The compiled header row: one :class:`Column` per header cell."""

    columns: tuple[Column, ...]
    problems: tuple[str, ...] = field(default=())


def _column(header: str) -> Column:
    if header == "Id":
        return Column(header, "id")
    if header in _SCALARS:
        return Column(header, "scalar", header)
    if header == "User.UserId":
        return Column(header, "user_id")
    for prefix, kind in (("User.UserAttributes.", "user_attribute"), ("Attributes.", "attribute"),
                         ("Metrics.", "metric")):
        if header.startswith(prefix) and len(header) > len(prefix):
            return Column(header, kind, header[len(prefix):])  # type: ignore[arg-type]
    group, _, member = header.partition(".")
    if group == "Demographic" and member in _DEMOGRAPHIC:
        return Column(header, "demographic", member)
    if group == "Location" and member in _LOCATION:
        return Column(header, "location", member)
    return Column(header, "bad", f"unknown column {header!r}")


def parse_csv_header(text: str) -> CsvHeader:
    """Compile the header line. Unknown names and repeated single-valued columns become
    "bad" columns: a row with a value in one is rejected (module docstring)."""
    try:
        names = next(csv.reader([text.removeprefix("\ufeff")], strict=True))
    except (csv.Error, StopIteration) as exc:
        return CsvHeader((), (f"the header row is not valid CSV: {exc}",))
    columns: list[Column] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip()
        column = _column(name)
        repeatable = column.kind in ("attribute", "user_attribute")
        if column.kind != "bad" and not repeatable and name in seen:
            column = Column(name, "bad", f"column {name!r} repeats; only Attributes.* and "
                                         "User.UserAttributes.* columns may repeat")
        seen.add(name)
        columns.append(column)
    problems = () if any(c.kind == "id" for c in columns) else ("the header has no Id column",)
    return CsvHeader(tuple(columns), problems)


def _number(text: str, field_name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{field_name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{field_name}: {text!r} is not a finite number")
    return value


def _csv_endpoint(header: CsvHeader, cells: list[str]) -> dict[str, Any]:
    """The EndpointBatchItem wire dict of one row's cells; ValueError names a bad cell."""
    data: dict[str, Any] = {}
    for column, raw in zip(header.columns, cells):
        value = raw.strip()
        if not value:
            continue
        kind = column.kind
        if kind == "bad":
            raise ValueError(f"{column.name} (value {value!r}) cannot be imported")
        if kind == "id":
            data["Id"] = value
        elif kind == "scalar":
            data[column.name] = value
        elif kind == "user_id":
            data.setdefault("User", {})["UserId"] = value
        elif kind == "attribute":
            data.setdefault("Attributes", {}).setdefault(column.name, []).append(value)
        elif kind == "user_attribute":
            user = data.setdefault("User", {})
            user.setdefault("UserAttributes", {}).setdefault(column.name, []).append(value)
        elif kind == "metric":
            data.setdefault("Metrics", {})[column.name] = _number(value, column.header)
        elif kind == "demographic":
            data.setdefault("Demographic", {})[column.name] = value
        elif column.name in _NUMERIC_LOCATION:
            data.setdefault("Location", {})[column.name] = _number(value, column.header)
        else:
            data.setdefault("Location", {})[column.name] = value
    return data


def parse_csv_row(header: CsvHeader, line: int, text: str) -> RowResult | None:
    """One CSV data line (``None`` for a blank line)."""
    if not text.strip():
        return None
    if header.problems:
        return RowProblem(line, "; ".join(header.problems))
    try:
        cells = next(csv.reader([text], strict=True))
    except (csv.Error, StopIteration) as exc:
        return RowProblem(line, f"not valid CSV: {exc}")
    if len(cells) > len(header.columns):
        return RowProblem(line, f"{len(cells)} values but the header has {len(header.columns)} columns")
    try:
        data = _csv_endpoint(header, cells)
    except ValueError as exc:
        endpoint_id = _id_cell(header, cells)
        return RowProblem(line, str(exc), endpoint_id)
    return validate_endpoint(line, data)


def _id_cell(header: CsvHeader, cells: list[str]) -> str | None:
    for column, value in zip(header.columns, cells):
        if column.kind == "id" and value.strip():
            return value.strip()
    return None


# -- JSON lines ----------------------------------------------------------------------------


def _unknown_members(data: dict[str, Any]) -> list[str]:
    unknown = [name for name in data if name not in _TOP_LEVEL]
    for group, allowed in _NESTED_MEMBERS.items():
        nested = data.get(group)
        if isinstance(nested, dict):
            unknown += [f"{group}.{name}" for name in nested if name not in allowed]
    return unknown


def parse_json_row(line: int, text: str) -> RowResult | None:
    """One line of newline-delimited JSON (``None`` for a blank line)."""
    if not text.strip():
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return RowProblem(line, f"not valid JSON: {exc}")
    if not isinstance(data, dict):
        return RowProblem(line, "not a JSON object (one EndpointRequest per line)")
    endpoint_id = data.get("Id") if isinstance(data.get("Id"), str) else None
    unknown = _unknown_members(data)
    if unknown:
        return RowProblem(line, f"unknown member{'s' if len(unknown) > 1 else ''} "
                                f"{', '.join(unknown)} cannot be imported", endpoint_id)
    return validate_endpoint(line, data)


# -- shared ------------------------------------------------------------------------------


def validate_endpoint(line: int, data: dict[str, Any]) -> RowResult:
    """An endpoint definition (EndpointBatchItem wire members, with ``Id``) as an import row:
    the Id present and usable as an endpoint id, the members valid (``rules.models``), the
    endpoint within Pinpoint's quotas (reference §6.1)."""
    raw_id = data.get("Id")
    if raw_id is None or raw_id == "":
        return RowProblem(line, "Id: an endpoint id is required")
    if not isinstance(raw_id, str):
        return RowProblem(line, f"Id: {raw_id!r} is not a string")
    try:
        endpoint_id = _ENDPOINT_ID.validate_python(raw_id)
    except ValidationError:
        return RowProblem(line, f"Id: {raw_id!r} is not a valid endpoint id (1-256 characters, "
                                "none of $ { } / \\)", raw_id)
    try:
        item = EndpointBatchItem.model_validate(data)
    except ValidationError as exc:
        return RowProblem(line, describe(exc), endpoint_id)
    request = item.to_wire()
    request.pop("Id", None)
    problem = endpoint_quota_problem(request)
    if problem is not None:
        return RowProblem(line, problem, endpoint_id)
    channel = item.channel_type
    notice = None
    if channel is not None and channel != IN_APP:
        notice = f"ChannelType {channel}: imported, but only IN_APP endpoints receive in-app messages"
    return ImportedRow(line, endpoint_id, request, channel, notice)


def parse_lines(fmt: ImportFormat, lines: Iterable[str], first_line: int = 1) -> Iterator[RowResult]:
    """Every row of a whole file given as text lines (without line ends), numbered from
    ``first_line``; for CSV the first line is the header."""
    numbered = enumerate(lines, start=first_line)
    if fmt == "JSON":
        for number, text in numbered:
            result = parse_json_row(number, text)
            if result is not None:
                yield result
        return
    header: CsvHeader | None = None
    for number, text in numbered:
        if header is None:
            header = parse_csv_header(text)
            continue
        result = parse_csv_row(header, number, text)
        if result is not None:
            yield result
