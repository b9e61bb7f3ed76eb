"""Segment import: Pinpoint's CSV / JSON endpoint files become endpoint upserts and an
``IMPORT`` segment (PRODUCT.md semantics 9), through CreateImportJob (S3) or
``inapp segments import`` (a local file), both running :func:`run_import`.

| module | what it holds |
|---|---|
| ``parsing`` | pure: a line of CSV / JSON -> an endpoint row or a row problem |
| ``sources`` | local files and S3 objects, line counts, fingerprints |
| ``model`` | ImportJobRequest / ImportJobResponse and the stored job |
| ``job`` | the runner: pieces, job record, segment, retries |
| ``launch`` | job ids, claims, CREATED records, background S3 jobs |
| ``kafka_target`` | the CLI's way to the engine: Kafka, as a worker writes it |
| ``cli`` | ``inapp segments import`` |
"""

from engine.imports.job import ImportReport, ImportTarget, JobSpec, run_import
from engine.imports.model import ImportJobRequest, ImportJobResponse, public_job
from engine.imports.parsing import ImportedRow, RowProblem, parse_lines

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
