"""Segment import: Pinpoint's CSV / JSON endpoint files become endpoint upserts and an
``IMPORT`` segment (PRODUCT.md semantics 9), through CreateImportJob (S3) or
``inapp segments import`` (a local file), both running :func:`run_import`.

| module | what it holds |
|---|---|
| ``parsing`` | pure: a line of CSV / JSON -> an endpoint row or a row problem |
| ``sources`` | local files and S3 objects, line counts, fingerprints |
| ``model`` | ImportJobRequest / ImportJobResponse and the stored job |
| ``job`` | the runner: pieces, job record, retries |
| ``segment`` | the IMPORT segment a job creates or adds a version to |
| ``launch`` | job ids, claims, CREATED records, background S3 jobs |
| ``kafka_target`` | the CLI's way to the engine: Kafka, as a worker writes it |
| ``cli`` | ``inapp segments import`` |
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ImportJobRequest",
    "ImportJobResponse",
    "ImportReport",
    "ImportTarget",
    "ImportedRow",
    "JobSpec",
    "RowProblem",
    "parse_lines",
    "public_job",
    "run_import",
]

# loaded on first use, so that `inapp --help` and the other commands do not pay for the API
# package that the parsing builds on
_HOME = {
    "ImportJobRequest": "model", "ImportJobResponse": "model", "public_job": "model",
    "ImportReport": "job", "ImportTarget": "job", "JobSpec": "job", "run_import": "job",
    "ImportedRow": "parsing", "RowProblem": "parsing", "parse_lines": "parsing",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
