"""Pinpoint's import-job shapes (botocore model: ImportJobRequest, ImportJobResource,
ImportJobResponse, ImportJobsResponse) and the job's stored form.

A job is stored on ``inapp.import-jobs`` as ``ControlRecord(Kind="import-job",
Versions=[job])`` under ``"{appId}/{jobId}"``; ``job`` is the ImportJobResponse wire dict plus
one internal member, ``Runner`` (who runs it and when it last made progress), which the API
never returns (:func:`public_job`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from rules.models.base import FormatName, IsoDateTime, WireModel

__all__ = [
    "ImportJobRequest",
    "ImportJobResource",
    "ImportJobResponse",
    "JobStatus",
    "RUNNER_MEMBER",
    "TERMINAL_STATUSES",
    "public_job",
]

# botocore's JobStatus enumeration; this engine goes CREATED -> PROCESSING -> COMPLETED|FAILED
JobStatus = Literal[
    "CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "PENDING_JOB",
    "COMPLETING", "COMPLETED", "FAILING", "FAILED",
]
TERMINAL_STATUSES: frozenset[str] = frozenset({"COMPLETED", "FAILED"})
RUNNER_MEMBER = "Runner"


class ImportJobRequest(WireModel):
    """Body of CreateImportJob. ``RoleArn`` and ``ExternalId`` are kept but not used: the
    engine reads S3 with the credentials of its settings."""

    define_segment: bool | None = None
    external_id: str | None = None
    format: FormatName
    register_endpoints: bool | None = None
    role_arn: str
    s3_url: str = Field(alias="S3Url", min_length=1)
    segment_id: str | None = None
    segment_name: str | None = None


class ImportJobResource(ImportJobRequest):
    """``Definition`` of a job: the request as given, with ``SegmentId`` filled in when the
    job defines a segment."""


class ImportJobResponse(WireModel):
    application_id: str
    completed_pieces: int | None = Field(default=None, ge=0)
    completion_date: IsoDateTime | None = None
    creation_date: IsoDateTime
    definition: ImportJobResource
    failed_pieces: int | None = Field(default=None, ge=0)
    failures: list[str] | None = None
    id: str
    job_status: JobStatus
    total_failures: int | None = Field(default=None, ge=0)
    total_pieces: int | None = Field(default=None, ge=0)
    total_processed: int | None = Field(default=None, ge=0)
    type: str = "IMPORT"


def public_job(stored: dict[str, Any]) -> dict[str, Any]:
    """The ImportJobResponse wire dict of a stored job (without the internal ``Runner``)."""
    return ImportJobResponse.model_validate(stored).to_wire()
