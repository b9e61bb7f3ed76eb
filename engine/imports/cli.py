"""``inapp segments import FILE --app APP --name NAME``: a Pinpoint export in one command.

The command writes to the engine's Kafka directly (``engine.imports.kafka_target``) and runs
the same job as CreateImportJob (``engine.imports.job``): endpoint upserts, an IMPORT
segment, a job record that GetImportJob(s) and GetSegmentImportJobs show. It prints a
progress bar (stderr) and a summary (stdout): rows read, endpoints upserted, rejected rows
with line numbers and reasons. Exit status: 0 done; 1 rows were rejected (unless
``--allow-partial``); 2 it could not start (usage, unknown app or segment, no engine
topics); 3 the job failed (a piece could not be written; rerunning resumes it).
"""

from __future__ import annotations

import asyncio
import csv
import os
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

__all__ = ["segments"]

EXIT_REJECTED, EXIT_NOT_STARTED, EXIT_FAILED = 1, 2, 3
SHOWN_PROBLEMS = 50


class _Stop(click.ClickException):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code


@click.group()
def segments() -> None:
    """Segments: import Pinpoint endpoint files (CSV or JSON lines) as IMPORT segments."""


@segments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--app", "app_id", required=True, help="ApplicationId the endpoints belong to")
@click.option("--name", help="name of the new IMPORT segment (default: the file name without extension)")
@click.option("--segment-id", help="add the endpoints to this existing IMPORT segment instead of a new one")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"], case_sensitive=False),
              help="file format (default: from the extension: .csv, or .json/.jsonl/.ndjson)")
@click.option("--allow-partial", is_flag=True, help="exit 0 even when rows were rejected")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="write every rejected row (line, endpoint id, reason) to this CSV file")
@click.option("--dry-run", is_flag=True, help="check the file and print the summary; write nothing, need no Kafka")
@click.option("--bootstrap", help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)")
def import_segment(file: Path, app_id: str, name: str | None, segment_id: str | None, fmt: str | None,
                   allow_partial: bool, report_path: Path | None, dry_run: bool, bootstrap: str | None) -> None:
    """Import FILE (Pinpoint's CSV with a dotted header, or JSON lines with Id) into APP:
    every good row upserts its endpoint and joins the segment; bad rows are reported with
    their line numbers and never stop the rest. Rerunning the same import writes nothing
    again (a finished job) or resumes it (an interrupted one)."""
    from engine.imports.launch import default_segment_name, file_job_spec
    from engine.imports.sources import file_fingerprint, format_for_path
    from engine.settings import Settings

    settings = Settings()
    chosen = fmt.upper() if fmt else format_for_path(file.name)
    if chosen is None:
        raise click.UsageError(f"cannot tell the format of {file.name}: use --format csv or --format json")
    servers = bootstrap or settings.kafka_bootstrap_servers
    if not servers and not dry_run:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS (or --bootstrap) to the engine's Kafka")
    segment_name = None if segment_id else (name or default_segment_name(file.name))
    spec = file_job_spec(app_id, file, chosen, file_fingerprint(file), segment_name=segment_name,
                         segment_id=segment_id, settings=settings)
    outcome = asyncio.run(_run(spec, file, settings, servers or "", dry_run))
    code = _summarise(outcome, report_path, dry_run)
    if code == EXIT_REJECTED and allow_partial:
        code = 0
    sys.exit(code)


class _NullTarget:
    """--dry-run: the job runs against nothing."""

    def control_record(self, kind: Any, key: str) -> None:
        return None

    async def write_control(self, kind: Any, key: str, record: Any) -> None:
        return None

    async def write_endpoints(self, records: Any) -> None:
        return None


async def _run(spec: Any, file: Path, settings: Any, servers: str, dry_run: bool) -> dict[str, Any]:
    from tqdm import tqdm

    from engine.imports.job import run_import
    from engine.imports.kafka_target import EngineNotFound, KafkaImportTarget
    from engine.imports.launch import launch_job
    from engine.imports.sources import SourceFile, count_lines

    owner = f"cli {socket.gethostname()} pid {os.getpid()}"
    now = datetime.now(timezone.utc)
    target: Any = _NullTarget()
    kafka: KafkaImportTarget | None = None
    try:
        if not dry_run:
            kafka = KafkaImportTarget(settings, servers)
            try:
                await kafka.start()
            except (EngineNotFound, asyncio.TimeoutError, OSError) as exc:
                raise _Stop(f"cannot reach the engine on {servers}: {exc}", EXIT_NOT_STARTED) from None
            _check_targets(kafka, spec)
            target = kafka
        launch = await launch_job(target, spec, owner=owner, now=now, runner_gone=_dead_here)
        if launch.claim.action == "done":
            return {"spec": spec, "done": launch.job}
        if launch.claim.action == "busy":
            heartbeat = (launch.job.get("Runner") or {}).get("Heartbeat")
            raise _Stop(f"job {spec.job_id} is being run by {launch.job.get('Runner', {}).get('Owner')} "
                        f"(last progress {heartbeat}); try again later", EXIT_FAILED)
        rows = max(count_lines(file) - (spec.format == "CSV"), 0)
        started = time.perf_counter()
        with tqdm(total=rows, unit="rows", unit_scale=True, desc=file.name, file=sys.stderr,
                  disable=None, leave=False) as bar:
            report = await run_import(target, spec, [SourceFile(file.name, file)],
                                      creation_date=launch.creation_date, owner=owner,
                                      resume_from=launch.claim.resume_from, on_piece=bar.update)
        return {"spec": spec, "report": report, "seconds": time.perf_counter() - started}
    finally:
        if kafka is not None:
            await kafka.stop()


def _dead_here(owner: str) -> bool:
    """Whether ``owner`` is an ``inapp segments import`` of this host that no longer runs
    (killed, or the machine rebooted): its job can be resumed without waiting for the lease."""
    kind, _, rest = owner.partition(" ")
    host, _, pid_text = rest.partition(" pid ")
    if kind != "cli" or host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _check_targets(kafka: Any, spec: Any) -> None:
    if kafka.control_record("app", spec.app_id) is None:
        raise _Stop(f"application {spec.app_id} not found", EXIT_NOT_STARTED)
    if not spec.new_segment:
        record = kafka.control_record("segment", f"{spec.app_id}/{spec.segment_id}")
        if record is None:
            raise _Stop(f"segment {spec.segment_id} not found in application {spec.app_id}", EXIT_NOT_STARTED)
        if record.current.get("SegmentType") != "IMPORT":
            raise _Stop(f"segment {spec.segment_id} is not an IMPORT segment", EXIT_NOT_STARTED)


def _summarise(outcome: dict[str, Any], report_path: Path | None, dry_run: bool) -> int:
    spec = outcome["spec"]
    echo = click.echo
    if "done" in outcome:
        job = outcome["done"]
        echo(f"already imported: job {spec.job_id} COMPLETED at {job.get('CompletionDate')}; nothing written again")
        echo(f"rows read:            {job.get('TotalProcessed', 0):,}")
        echo(f"rejected rows:        {job.get('TotalFailures', 0):,}")
        for line in job.get("Failures") or ():
            echo(f"  {line}")
        echo(f"segment:              {spec.segment_id}")
        return EXIT_REJECTED if job.get("TotalFailures") else 0
    report = outcome["report"]
    seconds = outcome["seconds"]
    rate = report.rows_read / seconds if seconds > 0 else 0.0
    verb = "checked (dry run, nothing written)" if dry_run else report.status
    echo(f"job {spec.job_id}: {verb} in {seconds:.1f} s ({rate:,.0f} rows/s)")
    if report.pieces_skipped:
        echo(f"resumed: {report.pieces_skipped} of {report.total_pieces} pieces were written by an earlier attempt")
    echo(f"rows read:            {report.rows_read:,}")
    label = "endpoints to upsert: " if dry_run else "endpoints upserted:  "
    echo(f"{label} {report.rows_accepted:,} rows, {len(report.members):,} distinct endpoints")
    echo(f"rejected rows:        {len(report.rejected):,}")
    if spec.segment_id is not None and (report.segment is not None or dry_run):
        counts = ", ".join(f"{k} {v:,}" for k, v in report.channel_counts().items()) or "none"
        name = spec.segment_name or (report.segment or {}).get("Name")
        echo(f"segment:              {name} ({spec.segment_id}, IMPORT, "
             f"{len(report.members):,} endpoints: {counts}){' - not written' if dry_run else ''}")
    if report.notices:
        echo(f"notices ({len(report.notices):,}):")
        for notice in report.notices[:SHOWN_PROBLEMS]:
            echo(f"  {notice.render()}")
    if report.failure:
        echo(f"FAILED: {report.failure}")
        echo("rerun the same command to resume after the last written piece")
    if report.rejected:
        echo("rejected:")
        for problem in report.rejected[:SHOWN_PROBLEMS]:
            echo(f"  {problem.render()}")
        hidden = len(report.rejected) - SHOWN_PROBLEMS
        if hidden > 0:
            echo(f"  ... and {hidden:,} more" + ("" if report_path else " (--report FILE lists every one)"))
    if report_path is not None:
        with report_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "endpoint_id", "reason"])
            for problem in report.rejected:
                writer.writerow([problem.line, problem.endpoint_id or "", problem.reason])
        echo(f"report:               {report_path} ({len(report.rejected):,} rejected rows)")
    if report.failure:
        return EXIT_FAILED
    return EXIT_REJECTED if report.rejected else 0
