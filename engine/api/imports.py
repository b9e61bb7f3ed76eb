"""Segment import jobs (botocore model: CreateImportJob, GetImportJob, GetImportJobs,
GetSegmentImportJobs), stored under ``"{appId}/{jobId}"`` on ``inapp.import-jobs``.

CreateImportJob lists ``S3Url`` (the S3-compatible endpoint of the settings), answers 201
with the CREATED job and runs it in the background on this worker
(``engine.imports``: endpoint upserts, then the IMPORT segment; PRODUCT.md semantics 9).
Choices where Pinpoint is silent:

- The job id is derived from the app, the request and the listed objects (keys, ETags,
  sizes): repeating a request while the files are unchanged returns the same job instead of
  importing twice; a FAILED job, or one whose runner stopped reporting progress, is resumed
  after its last written piece. S3 that cannot be listed gives a FAILED job, as Pinpoint's
  asynchronous jobs do.
- ``SegmentId`` names an existing IMPORT segment the endpoints join (400 for an unknown or
  dimensional segment); otherwise ``DefineSegment`` creates one named ``SegmentName``
  (default: the file name without extension). ``RegisterEndpoints: false`` records only the
  membership. ``RoleArn``/``ExternalId`` are stored, not used.
- Lists are newest first; ``page-size``/``token`` as for every list.
"""

from __future__ import annotations

from typing import Any

from engine.api.context import Call
from engine.api.errors import BadRequest
from engine.api.validation import parse_model, require_app, require_record
from engine.api.wire import list_body, paginate

__all__ = ["create_import_job", "get_import_job", "get_import_jobs", "get_segment_import_jobs"]


# engine.imports builds on this package (it validates rows with the endpoint quotas of
# engine.api.endpoints), so it is imported when first used, not when the routes load.


def _owner(call: Call) -> str:
    return f"worker {call.ctx.settings.web_host}:{call.ctx.settings.web_port}"


async def create_import_job(call: Call) -> dict[str, Any]:
    from engine.imports import launch
    from engine.imports.model import ImportJobRequest, public_job
    from engine.imports.sources import S3SourceError, parse_s3_url

    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    request = parse_model(ImportJobRequest, call.json())
    try:
        parse_s3_url(request.s3_url)
    except S3SourceError as exc:
        raise BadRequest(f"S3Url: {exc}") from None
    if request.segment_id is not None:
        record = call.backend.control_record("segment", f"{app_id}/{request.segment_id}")
        if record is None:
            raise BadRequest(f"SegmentId: segment {request.segment_id!r} does not exist in this application.")
        if record.current.get("SegmentType") != "IMPORT":
            raise BadRequest(f"SegmentId: segment {request.segment_id!r} is not an IMPORT segment; "
                             "imported endpoints can only join an imported segment.")
    settings = call.ctx.settings
    try:
        objects = await launch.list_s3(settings, request.s3_url, request.format)
        problem = None
    except S3SourceError as exc:
        objects, problem = None, str(exc)
    spec = launch.s3_job_spec(app_id, request, objects, settings)
    now = call.ctx.now()
    async with call.ctx.lock("import-job", spec.key):
        started = await launch.launch_job(call.backend, spec, owner=_owner(call), now=now)
        if not started.should_run:
            return public_job(started.job)
        if problem is not None or objects is None:
            job = await launch.fail_job(call.backend, spec, problem or "S3Url could not be listed",
                                        creation_date=started.creation_date, owner=_owner(call), now=now)
            return public_job(job)
        launch.start_s3_job(call.backend, spec, objects, settings, creation_date=started.creation_date,
                            owner=_owner(call), resume_from=started.claim.resume_from)
    return public_job(started.job)


async def get_import_job(call: Call) -> dict[str, Any]:
    from engine.imports.model import public_job

    app_id = call.label("app_id")
    job_id = call.label("job_id")
    require_app(call.backend, app_id)
    record = require_record(call.backend, "import-job", f"{app_id}/{job_id}", f"Import job {job_id!r}")
    return public_job(record.current)


def _newest_first(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(jobs, key=lambda job: (str(job.get("CreationDate", "")), str(job.get("Id", ""))), reverse=True)


async def get_import_jobs(call: Call) -> dict[str, Any]:
    from engine.imports.model import public_job

    app_id = call.label("app_id")
    require_app(call.backend, app_id)
    jobs = [public_job(r.current) for _, r in call.backend.control_records("import-job", f"{app_id}/")]
    items, next_token = paginate(_newest_first(jobs), call.query("page-size"), call.query("token"))
    return list_body(items, next_token)


async def get_segment_import_jobs(call: Call) -> dict[str, Any]:
    from engine.imports.model import public_job

    app_id = call.label("app_id")
    segment_id = call.label("segment_id")
    require_app(call.backend, app_id)
    require_record(call.backend, "segment", f"{app_id}/{segment_id}", f"Segment {segment_id!r}")
    jobs = [
        public_job(r.current)
        for _, r in call.backend.control_records("import-job", f"{app_id}/")
        if (r.current.get("Definition") or {}).get("SegmentId") == segment_id
    ]
    items, next_token = paginate(_newest_first(jobs), call.query("page-size"), call.query("token"))
    return list_body(items, next_token)
