"""The import job runner, shared by CreateImportJob (on a worker) and ``inapp segments import``.

A job reads its files in **pieces** of :data:`PIECE_LINES` lines. Each piece's accepted rows
become ``inapp.endpoints`` upserts carrying ``AddImportedSegments=[segment]`` (PRODUCT.md
semantics 9), written in one batch; then the job record (``inapp.import-jobs``) is updated
with Pinpoint's counters: ``TotalPieces``, ``CompletedPieces``, ``FailedPieces``,
``TotalProcessed`` (rows read), ``TotalFailures`` (rows rejected) and ``Failures`` (the first
100, each naming its line and reason). At the end the ``IMPORT`` segment is created or
updated with its ``ImportDefinition`` (``Size``: distinct endpoints imported;
``ChannelCounts``: those endpoints by channel) and the job becomes COMPLETED. A piece that
cannot be written stops the job as FAILED (``FailedPieces`` 1); rejected rows never do.

Retries write nothing twice. A job's id is derived from what it imports (app, request,
source fingerprint) and its segment id from the job id, so a retry finds the same job:
COMPLETED jobs are not run again; an unfinished one resumes after its last recorded piece,
re-reading the earlier pieces only to rebuild its counters. Progress is recorded without
stopping the import (at most one job record on its way), so after a crash the pieces written
since the last recorded one (a fraction of a second's worth) are sent again; rows without an
``EffectiveDate`` get the job's ``CreationDate``, so those are identical upserts, which
change no stored endpoint. A job whose runner stopped reporting progress for
:data:`LEASE_SECONDS` may be taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Protocol

import orjson

from engine.api.wire import iso_timestamp, parse_timestamp
from engine.imports.model import RUNNER_MEMBER, ImportJobResponse
from engine.imports.parsing import (
    CsvHeader,
    ImportedRow,
    RowProblem,
    parse_csv_header,
    parse_csv_row,
    parse_json_row,
)
from engine.imports.segment import channel_counts, write_import_segment
from engine.imports.sources import SourceFile, count_lines, read_lines
from topics.wire import ControlRecord, EndpointRecord

__all__ = [
    "Claim",
    "ImportReport",
    "ImportTarget",
    "JobSpec",
    "LEASE_SECONDS",
    "PIECE_LINES",
    "Problem",
    "claim_job",
    "job_id_for",
    "run_import",
    "segment_id_for",
    "stored_job",
]

PIECE_LINES = 2000
MAX_REPORTED_FAILURES = 100  # Pinpoint: "one for each of the first 100 entries"
LEASE_SECONDS = 60.0


class ImportTarget(Protocol):
    """What a job needs of the engine: the part of ``engine.api.backend.ApiBackend`` it uses."""

    def control_record(self, kind: Any, key: str) -> ControlRecord | None: ...

    async def write_control(self, kind: Any, key: str, record: ControlRecord | None) -> None: ...

    async def write_endpoints(self, records: Sequence[EndpointRecord]) -> None: ...


class JobFailed(Exception):
    """The job cannot go on (not a bad row): a piece not written, the segment gone."""


def _digest(*parts: Any) -> str:
    payload = orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def job_id_for(app_id: str, request: dict[str, Any], fingerprint: str) -> str:
    """32 hex characters, the same for the same app, request and source content."""
    return _digest("import-job", app_id, request, fingerprint)


def segment_id_for(job_id: str) -> str:
    """The id of the segment a job defines: fixed by the job, so a retry reuses it."""
    return _digest("import-segment", job_id)


@dataclass(frozen=True)
class JobSpec:
    """What a job does, fixed when it is created."""

    app_id: str
    job_id: str
    definition: dict[str, Any]  # ImportJobResource wire dict (SegmentId set when one is written)
    segment_id: str | None  # the IMPORT segment the endpoints join, None for none
    segment_name: str | None
    new_segment: bool  # define segment_id, or add to an existing IMPORT segment
    register_endpoints: bool = True
    region: str = "us-east-1"
    account: str = "000000000000"

    @property
    def key(self) -> str:
        return f"{self.app_id}/{self.job_id}"

    @property
    def format(self) -> str:
        return str(self.definition["Format"])


@dataclass(frozen=True)
class Problem:
    """A rejected row (or a notice about an accepted one) and the file it is in."""

    source: str
    line: int
    reason: str
    endpoint_id: str | None = None

    def render(self, with_source: bool = False) -> str:
        where = f"{self.source} line {self.line}" if with_source else f"line {self.line}"
        return f"{where}: {self.reason}"


@dataclass
class ImportReport:
    """What a run saw and did; the CLI prints it, the job record counts it."""

    rows_read: int = 0
    rows_accepted: int = 0
    members: dict[str, str | None] = field(default_factory=dict)  # endpoint id -> channel
    rejected: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    sources: int = 1
    total_pieces: int = 0
    pieces_written: int = 0
    pieces_skipped: int = 0  # written by an earlier attempt of the same job
    failure: str | None = None
    status: str = "CREATED"
    job: dict[str, Any] = field(default_factory=dict)
    segment: dict[str, Any] | None = None

    def channel_counts(self) -> dict[str, int]:
        return channel_counts(self.members)

    def failure_lines(self) -> list[str]:
        lines = [self.failure] if self.failure else []
        lines += [p.render(self.sources > 1) for p in self.rejected[:MAX_REPORTED_FAILURES]]
        return lines[:MAX_REPORTED_FAILURES]


@dataclass(frozen=True)
class Claim:
    """Whether a job should run here: ``run`` (from piece ``resume_from``), ``done``
    (COMPLETED before) or ``busy`` (another runner reported progress recently)."""

    action: Literal["run", "done", "busy"]
    record: ControlRecord | None = None
    resume_from: int = 0


def claim_job(target: ImportTarget, key: str, now: datetime,
              runner_gone: Callable[[str], bool] = lambda owner: False) -> Claim:
    """``runner_gone(owner)`` may tell that the runner of an unfinished job is known to be
    dead (the CLI checks a process on its own host), so it need not wait for the lease."""
    record = target.control_record("import-job", key)
    if record is None:
        return Claim("run")
    job = record.current
    if job.get("JobStatus") == "COMPLETED":
        return Claim("done", record)
    runner = job.get(RUNNER_MEMBER) or {}
    heartbeat = runner.get("Heartbeat")
    fresh = heartbeat is not None and now - parse_timestamp(heartbeat, "Heartbeat") < timedelta(seconds=LEASE_SECONDS)
    if job.get("JobStatus") != "FAILED" and fresh and not runner_gone(str(runner.get("Owner", ""))):
        return Claim("busy", record)
    return Claim("run", record, int(job.get("CompletedPieces") or 0))


def stored_job(
    spec: JobSpec,
    report: ImportReport,
    *,
    status: str,
    creation_date: str,
    owner: str,
    now: datetime,
    completed: int = 0,
    failed: int = 0,
) -> dict[str, Any]:
    """The job as stored: ImportJobResponse members plus ``Runner`` (model.py)."""
    job: dict[str, Any] = {
        "ApplicationId": spec.app_id,
        "CreationDate": creation_date,
        "Definition": spec.definition,
        "Id": spec.job_id,
        "JobStatus": status,
        "Type": "IMPORT",
        "TotalPieces": report.total_pieces,
        "CompletedPieces": completed,
        "FailedPieces": failed,
        "TotalProcessed": report.rows_read,
        "TotalFailures": len(report.rejected),
        "Failures": report.failure_lines(),
    }
    if status in ("COMPLETED", "FAILED"):
        job["CompletionDate"] = iso_timestamp(now)
    job = ImportJobResponse.model_validate(job).to_wire()  # our own shape: a failure is a bug
    job[RUNNER_MEMBER] = {"Owner": owner, "Heartbeat": iso_timestamp(now)}
    return job


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class _Run:
    target: ImportTarget
    spec: JobSpec
    creation_date: str
    owner: str
    now: Callable[[], datetime]
    report: ImportReport

    _saving: asyncio.Task[None] | None = None

    def _record(self, status: str, completed: int, failed: int) -> ControlRecord:
        self.report.status = status
        job = stored_job(self.spec, self.report, status=status, creation_date=self.creation_date,
                         owner=self.owner, now=self.now(), completed=completed, failed=failed)
        self.report.job = job
        return ControlRecord(Kind="import-job", Versions=[job])

    async def save(self, status: str, completed: int, failed: int = 0) -> None:
        """Write the job record now (after any progress record still on its way)."""
        await self.flush()
        await self.target.write_control("import-job", self.spec.key, self._record(status, completed, failed))

    async def progress(self, completed: int) -> None:
        """Record progress without waiting for it: a write returns once the control plane
        applied it (a fetch round trip), so at most one is on its way and pieces finished
        meanwhile are counted by the next one."""
        if self._saving is not None:
            if not self._saving.done():
                return
            await self._saving
        record = self._record("PROCESSING", completed, 0)
        self._saving = asyncio.ensure_future(self.target.write_control("import-job", self.spec.key, record))

    async def flush(self) -> None:
        if self._saving is not None:
            saving, self._saving = self._saving, None
            await saving

    def take(self, source: str, results: Sequence[ImportedRow | RowProblem]) -> list[ImportedRow]:
        report = self.report
        accepted = []
        for result in results:
            report.rows_read += 1
            if isinstance(result, RowProblem):
                report.rejected.append(Problem(source, result.line, result.reason, result.endpoint_id))
                continue
            accepted.append(result)
            report.members[result.endpoint_id] = result.channel
            if result.notice is not None:
                report.notices.append(Problem(source, result.line, result.notice, result.endpoint_id))
        report.rows_accepted += len(accepted)
        return accepted

    def records(self, rows: Sequence[ImportedRow]) -> list[EndpointRecord]:
        segments = [self.spec.segment_id] if self.spec.segment_id else []
        if not self.spec.register_endpoints and not segments:
            return []
        records = []
        for row in rows:
            request: dict[str, Any] = {}
            if self.spec.register_endpoints:
                request = row.request
                if "EffectiveDate" not in request:  # deterministic: a re-sent upsert changes nothing
                    request = {**request, "EffectiveDate": self.creation_date}
            # fields validated already (the id by the row, the request by rules.models)
            records.append(EndpointRecord.model_construct(
                ApplicationId=self.spec.app_id, EndpointId=row.endpoint_id, Op="upsert", Endpoint=request,
                AddImportedSegments=segments, RequestId=request.get("RequestId"),
            ))
        return records


def _pieces(source: SourceFile, fmt: str) -> Iterator[tuple[int, int, list[ImportedRow | RowProblem]]]:
    """(first line, last line, parsed results) per piece of ``source``."""
    header: CsvHeader | None = None
    results: list[ImportedRow | RowProblem] = []
    first = number = 0
    for number, raw in enumerate(read_lines(source.path), start=1):
        problem: RowProblem | None = None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text, problem = "", RowProblem(number, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        if fmt == "CSV" and number == 1:
            header = parse_csv_header(text.removeprefix("\ufeff"))
            continue
        if not first:
            first = number
        if problem is not None:
            results.append(problem)
        else:
            result = parse_json_row(number, text) if fmt == "JSON" else parse_csv_row(header, number, text)  # type: ignore[arg-type]
            if result is not None:
                results.append(result)
        if number - first + 1 == PIECE_LINES:
            yield first, number, results
            results, first = [], 0
    if first:
        yield first, number, results


def _piece_count(source: SourceFile, fmt: str) -> int:
    lines = count_lines(source.path)
    data_lines = max(lines - 1, 0) if fmt == "CSV" else lines
    return math.ceil(data_lines / PIECE_LINES)


async def run_import(
    target: ImportTarget,
    spec: JobSpec,
    sources: Sequence[SourceFile],
    *,
    creation_date: str,
    owner: str,
    resume_from: int = 0,
    now: Callable[[], datetime] = _utc_now,
    on_piece: Callable[[int], None] | None = None,
) -> ImportReport:
    """Run (or resume) one job to COMPLETED or FAILED; never raises for bad rows or a failed
    write (the job record says what happened). ``on_piece(lines)`` reports progress."""
    report = ImportReport(sources=len(sources))
    run = _Run(target, spec, creation_date, owner, now, report)
    report.total_pieces = sum(_piece_count(s, spec.format) for s in sources)
    completed = min(resume_from, report.total_pieces)
    await run.progress(completed)
    piece = 0
    try:
        for source in sources:
            for first, last, results in _pieces(source, spec.format):
                rows = run.take(source.name, results)
                if piece >= completed:
                    records = run.records(rows)
                    try:
                        if records:
                            await target.write_endpoints(records)
                    except Exception as exc:  # noqa: BLE001 - any producer error fails the piece
                        where = f"{source.name} lines {first}-{last}"
                        raise JobFailed(f"piece {piece + 1} ({where}) was not written: "
                                        f"{type(exc).__name__}: {exc}") from exc
                    completed = piece + 1
                    report.pieces_written += 1
                    await run.progress(completed)
                else:
                    report.pieces_skipped += 1
                piece += 1
                if on_piece is not None:
                    on_piece(last - first + 1)
                await asyncio.sleep(0)  # a worker keeps serving events between pieces
        if spec.segment_id is not None:
            report.segment = await write_import_segment(
                target, spec, report.members, now(), fail=JobFailed)
    except JobFailed as exc:
        report.failure = str(exc)
        await run.save("FAILED", completed, failed=1)
        return report
    except asyncio.CancelledError:  # Ctrl-C, a worker shutting down: a retry resumes at once
        report.failure = f"interrupted after piece {completed}"
        with contextlib.suppress(Exception):
            await run.save("FAILED", completed)
        raise
    await run.save("COMPLETED", completed)
    return report
