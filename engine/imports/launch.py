"""Creating, claiming and starting import jobs: from S3 (the API) or from a local file (CLI).

Both paths build a :class:`~engine.imports.job.JobSpec` whose id is derived from what is
imported, claim it (:func:`~engine.imports.job.claim_job`), write the CREATED record, and
hand the files to the same :func:`~engine.imports.job.run_import`.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from engine.api.wire import iso_timestamp
from engine.imports.job import (
    Claim,
    ImportReport,
    ImportTarget,
    JobSpec,
    claim_job,
    job_id_for,
    run_import,
    segment_id_for,
    stored_job,
)
from engine.imports.model import ImportJobRequest
from engine.imports.sources import (
    S3Object,
    S3SourceError,
    SourceFile,
    download_objects,
    list_s3_objects,
    s3_client,
)
from engine.settings import Settings
from topics.wire import ControlRecord

__all__ = [
    "Launch",
    "default_segment_name",
    "fail_job",
    "file_job_spec",
    "launch_job",
    "list_s3",
    "s3_job_spec",
    "start_s3_job",
]

log = logging.getLogger(__name__)

# running S3 jobs of this process (a task nobody references may be garbage-collected)
_RUNNING: set[asyncio.Task[Any]] = set()


@dataclass(frozen=True)
class Launch:
    """A claimed job: what the claim said, the job's creation date and its record now."""

    claim: Claim
    creation_date: str
    job: dict[str, Any]

    @property
    def should_run(self) -> bool:
        return self.claim.action == "run"


def _spec(app_id: str, request: dict[str, Any], fingerprint: str, *, segment_name: str | None,
          settings: Settings) -> JobSpec:
    job_id = job_id_for(app_id, request, fingerprint)
    existing_segment = request.get("SegmentId")
    segment_id = existing_segment or (segment_id_for(job_id) if request.get("DefineSegment") else None)
    definition = {**request, "SegmentId": segment_id} if segment_id else dict(request)
    return JobSpec(
        app_id=app_id,
        job_id=job_id,
        definition=definition,
        segment_id=segment_id,
        segment_name=segment_name,
        new_segment=existing_segment is None,
        register_endpoints=request.get("RegisterEndpoints") is not False,
        region=settings.api_region,
        account=settings.api_account_id,
    )


def default_segment_name(location: str) -> str:
    """The file name without its extension, as Pinpoint's console names imported segments."""
    name = PurePosixPath(location.rstrip("/")).name
    return name.rsplit(".", 1)[0] if "." in name else name


def s3_job_spec(app_id: str, request: ImportJobRequest, objects: Sequence[S3Object] | None,
                settings: Settings) -> JobSpec:
    """The job of a CreateImportJob request; ``objects`` None when S3 could not be listed
    (the job then gets a fresh id and fails)."""
    import uuid

    fingerprint = (
        "|".join(f"{o.key}:{o.etag}:{o.size}" for o in objects) if objects is not None else uuid.uuid4().hex
    )
    name = request.segment_name or default_segment_name(request.s3_url)
    return _spec(app_id, request.to_wire(), fingerprint, segment_name=name, settings=settings)


def file_job_spec(app_id: str, path: Path, fmt: str, fingerprint: str, *, segment_name: str | None,
                  segment_id: str | None, settings: Settings) -> JobSpec:
    """The job of ``inapp segments import``: its ``S3Url`` is the file's ``file://`` URL."""
    request: dict[str, Any] = {
        "DefineSegment": segment_id is None,
        "Format": fmt,
        "RegisterEndpoints": True,
        "RoleArn": "",
        "S3Url": path.resolve().as_uri(),
    }
    if segment_id is not None:
        request["SegmentId"] = segment_id
    if segment_name is not None:
        request["SegmentName"] = segment_name
    return _spec(app_id, request, fingerprint, segment_name=segment_name, settings=settings)


async def launch_job(target: ImportTarget, spec: JobSpec, *, owner: str, now: datetime,
                     runner_gone: Callable[[str], bool] = lambda owner: False) -> Launch:
    """Claim the job; when it should run, write its CREATED record (keeping the creation date
    of an earlier attempt)."""
    claim = claim_job(target, spec.key, now, runner_gone)
    if claim.record is not None:
        creation = str(claim.record.current["CreationDate"])
        if not claim.action == "run":
            return Launch(claim, creation, claim.record.current)
    else:
        creation = iso_timestamp(now)
    job = stored_job(spec, ImportReport(), status="CREATED", creation_date=creation, owner=owner,
                     now=now, completed=claim.resume_from)
    await target.write_control("import-job", spec.key, ControlRecord(Kind="import-job", Versions=[job]))
    return Launch(claim, creation, job)


async def fail_job(target: ImportTarget, spec: JobSpec, reason: str, *, creation_date: str, owner: str,
                   now: datetime) -> dict[str, Any]:
    """Record a job that could not start (its files could not be read)."""
    report = ImportReport(failure=reason)
    job = stored_job(spec, report, status="FAILED", creation_date=creation_date, owner=owner, now=now)
    await target.write_control("import-job", spec.key, ControlRecord(Kind="import-job", Versions=[job]))
    return job


async def list_s3(settings: Settings, url: str, fmt: str) -> list[S3Object]:
    """The objects of ``url`` (raises S3SourceError); boto3 runs in a thread."""
    def work() -> list[S3Object]:
        return list_s3_objects(s3_client(settings), url, fmt)  # type: ignore[arg-type]

    return await asyncio.to_thread(work)


async def run_s3_job(target: ImportTarget, spec: JobSpec, objects: Sequence[S3Object], settings: Settings, *,
                     creation_date: str, owner: str, resume_from: int) -> ImportReport | None:
    """Download the objects to a temporary directory and run the job; a download failure
    fails the job. Never raises (it runs as a background task)."""
    from datetime import timezone

    try:
        with tempfile.TemporaryDirectory(prefix="inapp-import-") as directory:
            try:
                files: list[SourceFile] = await asyncio.to_thread(
                    download_objects, s3_client(settings), objects, Path(directory))
            except S3SourceError as exc:
                await fail_job(target, spec, str(exc), creation_date=creation_date, owner=owner,
                               now=datetime.now(timezone.utc))
                return None
            return await run_import(target, spec, files, creation_date=creation_date, owner=owner,
                                    resume_from=resume_from)
    except Exception:  # noqa: BLE001 - the record shows the job stuck; the log says why
        log.exception("import job %s stopped", spec.key)
        return None


def start_s3_job(target: ImportTarget, spec: JobSpec, objects: Sequence[S3Object], settings: Settings, *,
                 creation_date: str, owner: str, resume_from: int) -> asyncio.Task[ImportReport | None]:
    """Run the job in the background on this worker's event loop."""
    task = asyncio.get_running_loop().create_task(
        run_s3_job(target, spec, objects, settings, creation_date=creation_date, owner=owner,
                   resume_from=resume_from),
        name=f"import-job-{spec.job_id}",
    )
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return task
