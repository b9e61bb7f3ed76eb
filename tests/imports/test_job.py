"""The import job runner over a test double of the engine (engine.imports.job, .launch):
job records as Pinpoint reports them, the IMPORT segment, pieces, and retries that write
nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.imports import job as job_module
from engine.imports.job import LEASE_SECONDS, claim_job, run_import
from engine.imports.launch import file_job_spec, launch_job
from engine.imports.model import public_job
from engine.imports.sources import SourceFile, file_fingerprint
from engine.settings import Settings
from tests.imports.memory_target import MemoryTarget
from tests.imports.test_parsing import BLOG_CSV
from topics.wire import ControlRecord

APP = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
SETTINGS = Settings(api_region="eu-west-1", api_account_id="123456789012")


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


async def import_file(target: MemoryTarget, path: Path, *, name: str | None = "in-app-segment",
                      segment_id: str | None = None, fmt: str = "CSV", now: datetime = NOW,
                      owner: str = "test") -> tuple[Any, Any]:
    """What the CLI does: spec, claim, CREATED record, run (when the claim says so)."""
    spec = file_job_spec(APP, path, fmt, file_fingerprint(path), segment_name=name, segment_id=segment_id,
                         settings=SETTINGS)
    launch = await launch_job(target, spec, owner=owner, now=now)
    report = None
    if launch.should_run:
        report = await run_import(target, spec, [SourceFile(path.name, path)], creation_date=launch.creation_date,
                                  owner=owner, resume_from=launch.claim.resume_from, now=lambda: now)
    return spec, report if report is not None else launch


def csv_rows(count: int, start: int = 0) -> str:
    return "Id,ChannelType,Metrics.n\n" + "".join(f"e{i},IN_APP,{i}\n" for i in range(start, start + count))


async def test_the_blog_csv_imports_two_endpoints_into_an_import_segment(tmp_path: Path) -> None:
    target = MemoryTarget()
    spec, report = await import_file(target, write(tmp_path, "in-app-segment.csv", BLOG_CSV))
    job = public_job(target.job(spec.key))
    assert job["JobStatus"] == "COMPLETED" and job["Type"] == "IMPORT"
    assert {k: job[k] for k in ("TotalPieces", "CompletedPieces", "FailedPieces", "TotalProcessed",
                                "TotalFailures", "Failures")} == {
        "TotalPieces": 1, "CompletedPieces": 1, "FailedPieces": 0, "TotalProcessed": 2,
        "TotalFailures": 0, "Failures": []}
    assert job["Definition"]["SegmentId"] == spec.segment_id and job["Definition"]["Format"] == "CSV"
    assert "Runner" not in job  # internal member, never on the wire
    segment = target.records["segment"][f"{APP}/{spec.segment_id}"].current
    assert segment["SegmentType"] == "IMPORT" and segment["Name"] == "in-app-segment" and segment["Version"] == 1
    assert segment["Arn"] == f"arn:aws:mobiletargeting:eu-west-1:123456789012:apps/{APP}/segments/{spec.segment_id}"
    assert segment["ImportDefinition"] == {
        "ChannelCounts": {"IN_APP": 2}, "ExternalId": "", "Format": "CSV", "RoleArn": "",
        "S3Url": (tmp_path / "in-app-segment.csv").resolve().as_uri(), "Size": 2}
    records = target.endpoint_records
    assert [(r.EndpointId, r.AddImportedSegments) for r in records] == [
        ("111", [spec.segment_id]), ("222", [spec.segment_id])]
    # no EffectiveDate in the file: the job's creation date, so a re-sent upsert is identical
    assert records[0].Endpoint["EffectiveDate"] == job["CreationDate"]
    assert records[0].Endpoint["Metrics"] == {"LastPurchaseValue": 600.0}


async def test_progress_is_recorded_as_pieces_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_module, "PIECE_LINES", 10)
    target = MemoryTarget()
    spec, report = await import_file(target, write(tmp_path, "users.csv", csv_rows(35)))
    history = target.job_history(spec.key)
    statuses = [job["JobStatus"] for job, _ in history]
    assert statuses[0] == "CREATED" and statuses[-1] == "COMPLETED"
    assert set(statuses[1:-1]) == {"PROCESSING"} and len(statuses) >= 4
    completed = [job["CompletedPieces"] for job, _ in history]
    assert completed == sorted(completed) and completed[-1] == 4
    # a record never counts a piece before its endpoints were acknowledged
    assert all(job["CompletedPieces"] <= batches for job, batches in history)
    assert {job["TotalPieces"] for job, _ in history[1:]} == {4}
    assert [len(batch) for batch in target.batches] == [10, 10, 10, 5]
    assert report.job["TotalProcessed"] == 35 and "CompletionDate" in history[-1][0]


async def test_rejected_rows_are_reported_with_line_numbers_first_100_listed(tmp_path: Path) -> None:
    lines = ["Id,ChannelType,Metrics.n"]
    for i in range(150):
        lines.append(f"good{i},IN_APP,{i}")
        lines.append(f"bad{i},IN_APP,not-a-number")
    target = MemoryTarget()
    spec, report = await import_file(target, write(tmp_path, "mixed.csv", "\n".join(lines) + "\n"))
    job = public_job(target.job(spec.key))
    assert job["JobStatus"] == "COMPLETED"  # rejected rows never stop the job
    assert (job["TotalProcessed"], job["TotalFailures"], len(job["Failures"])) == (300, 150, 100)
    assert job["Failures"][0] == "line 3: Metrics.n: 'not-a-number' is not a number"
    assert job["Failures"][99].startswith("line 201: ")
    assert len(report.rejected) == 150 and report.rejected[-1].line == 301  # the CLI has them all
    assert len(target.endpoint_records) == 150
    segment = target.records["segment"][f"{APP}/{spec.segment_id}"].current
    assert segment["ImportDefinition"]["Size"] == 150


async def test_a_failed_write_fails_the_job_and_a_retry_resumes_without_rewriting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_module, "PIECE_LINES", 10)
    path = write(tmp_path, "users.csv", csv_rows(40))
    target = MemoryTarget(fail_on_batch=3)
    spec, report = await import_file(target, path)
    job = public_job(target.job(spec.key))
    assert (job["JobStatus"], job["CompletedPieces"], job["FailedPieces"]) == ("FAILED", 2, 1)
    assert job["Failures"][0].startswith("piece 3 (users.csv lines 22-31) was not written: ConnectionError")
    assert f"{APP}/{spec.segment_id}" not in target.records.get("segment", {})
    written_before = [r.EndpointId for r in target.endpoint_records]
    assert written_before == [f"e{i}" for i in range(20)]

    _, retry = await import_file(target, path, now=NOW + timedelta(minutes=5))
    assert (retry.pieces_skipped, retry.pieces_written) == (2, 2)
    written = [r.EndpointId for r in target.endpoint_records]
    assert written == [f"e{i}" for i in range(40)]  # every endpoint exactly once
    job = public_job(target.job(spec.key))
    assert (job["JobStatus"], job["CompletedPieces"], job["FailedPieces"], job["TotalProcessed"]) == (
        "COMPLETED", 4, 0, 40)
    assert job["CreationDate"] == "2026-11-28T10:00:00.000Z"  # the first attempt's
    segment = target.records["segment"][f"{APP}/{spec.segment_id}"].current
    assert segment["ImportDefinition"]["Size"] == 40


async def test_retrying_a_completed_job_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "in-app-segment.csv", BLOG_CSV)
    target = MemoryTarget()
    spec, _ = await import_file(target, path)
    writes = (len(target.control_writes), len(target.endpoint_records))
    again_spec, launch = await import_file(target, path, now=NOW + timedelta(hours=1))
    assert again_spec.job_id == spec.job_id and again_spec.segment_id == spec.segment_id
    assert launch.claim.action == "done"
    assert (len(target.control_writes), len(target.endpoint_records)) == writes
    # another file (or name) is another job with its own segment
    other_spec, _ = await import_file(target, write(tmp_path, "other.csv", BLOG_CSV.replace("600", "601")))
    assert other_spec.job_id != spec.job_id and other_spec.segment_id != spec.segment_id


async def test_a_job_reporting_progress_is_not_run_twice_but_a_silent_one_is_taken_over(tmp_path: Path) -> None:
    path = write(tmp_path, "in-app-segment.csv", BLOG_CSV)
    target = MemoryTarget()
    spec = file_job_spec(APP, path, "CSV", file_fingerprint(path), segment_name="s", segment_id=None,
                         settings=SETTINGS)
    await launch_job(target, spec, owner="worker a", now=NOW)  # CREATED, then its runner died
    assert claim_job(target, spec.key, NOW + timedelta(seconds=5)).action == "busy"
    late = NOW + timedelta(seconds=LEASE_SECONDS + 1)
    assert claim_job(target, spec.key, late).action == "run"


async def test_an_import_into_an_existing_import_segment_adds_a_version(tmp_path: Path) -> None:
    target = MemoryTarget()
    first_spec, _ = await import_file(target, write(tmp_path, "a.csv", BLOG_CSV))
    more = "Id,ChannelType\n333,IN_APP\n444,EMAIL\n"
    spec, report = await import_file(target, write(tmp_path, "b.csv", more), name=None,
                                     segment_id=first_spec.segment_id)
    assert spec.segment_id == first_spec.segment_id and not spec.new_segment
    record = target.records["segment"][f"{APP}/{spec.segment_id}"]
    assert [v["Version"] for v in record.Versions] == [1, 2]
    current = record.current
    assert current["Name"] == "in-app-segment" and current["SegmentType"] == "IMPORT"
    assert current["ImportDefinition"]["Size"] == 2
    assert current["ImportDefinition"]["ChannelCounts"] == {"EMAIL": 1, "IN_APP": 1}
    assert [r.AddImportedSegments for r in target.endpoint_records[-2:]] == [[spec.segment_id]] * 2
    assert [n.line for n in report.notices] == [3]  # the EMAIL endpoint is reported


async def test_a_dimensional_segment_cannot_receive_imported_endpoints(tmp_path: Path) -> None:
    target = MemoryTarget()
    key = f"{APP}/dim"
    target.records["segment"] = {key: ControlRecord(Kind="segment", Versions=[{
        "ApplicationId": APP, "Arn": "arn", "CreationDate": "2026-11-28T10:00:00.000Z", "Id": "dim",
        "SegmentType": "DIMENSIONAL", "Dimensions": {}, "Version": 1}])}
    spec, report = await import_file(target, write(tmp_path, "a.csv", BLOG_CSV), segment_id="dim")
    assert report.status == "FAILED" and "not an IMPORT segment" in (report.failure or "")


async def test_lines_that_are_not_utf8_are_rejected_alone(tmp_path: Path) -> None:
    content = b"Id,ChannelType\ne1,IN_APP\ne\xff2,IN_APP\ne3,IN_APP\n"
    target = MemoryTarget()
    _, report = await import_file(target, write(tmp_path, "latin.csv", content))
    assert [p.line for p in report.rejected] == [3] and "not UTF-8" in report.rejected[0].reason
    assert sorted(report.members) == ["e1", "e3"]


async def test_json_lines_import_the_same_way(tmp_path: Path) -> None:
    text = '{"Id":"111","ChannelType":"IN_APP","User":{"UserId":"u"}}\n\n{"ChannelType":"IN_APP"}\n'
    target = MemoryTarget()
    spec, report = await import_file(target, write(tmp_path, "e.json", text), fmt="JSON")
    assert report.job["Failures"] == ["line 3: Id: an endpoint id is required"]
    assert [r.EndpointId for r in target.endpoint_records] == ["111"]
    assert target.records["segment"][f"{APP}/{spec.segment_id}"].current["ImportDefinition"]["Format"] == "JSON"


_good = st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True).map(lambda s: ("good", s))
_bad = st.sampled_from([",IN_APP,1", "x,IN_APP,abc", "y,SMOKE,1", "z,IN_APP,1,extra"]).map(lambda s: ("bad", s))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_good, _bad), max_size=60))
async def test_every_row_is_either_imported_or_reported(tmp_path: Path, lines: list[tuple[str, str]]) -> None:
    body = [f"{value},IN_APP,1" if kind == "good" else value for kind, value in lines]
    path = write(tmp_path, f"p{abs(hash(tuple(body)))}.csv", "Id,ChannelType,Metrics.n\n" + "\n".join(body) + "\n")
    target = MemoryTarget()
    _, report = await import_file(target, path)
    good_ids = {value for kind, value in lines if kind == "good"}
    assert report.rows_read == len(lines) == report.rows_accepted + len(report.rejected)
    assert set(report.members) == good_ids
    assert [r.EndpointId for r in target.endpoint_records] == [v for k, v in lines if k == "good"]
    assert sorted(p.line for p in report.rejected) == [n + 2 for n, (k, _) in enumerate(lines) if k == "bad"]


def test_the_clis_endpoint_encoding_is_the_wires() -> None:
    """kafka_target.endpoint_record_json skips pydantic's serializer; it must not change a byte."""
    from engine.imports.kafka_target import endpoint_record_json
    from topics.wire import EndpointRecord, encode_json

    for record in (
        EndpointRecord(ApplicationId=APP, EndpointId="e1", Endpoint={"ChannelType": "IN_APP", "Metrics": {"m": 1.5},
                                                                     "User": {"UserAttributes": {"a": ["x", "y"]}}},
                       AddImportedSegments=["s1"], RequestId="r-1"),
        EndpointRecord.model_construct(ApplicationId=APP, EndpointId="e2", Op="upsert", Endpoint={},
                                       AddImportedSegments=[], RequestId=None),
    ):
        assert endpoint_record_json(record) == encode_json(record)


async def test_an_interrupted_run_is_recorded_failed_so_a_retry_resumes_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setattr(job_module, "PIECE_LINES", 10)
    path = write(tmp_path, "users.csv", csv_rows(40))
    target = MemoryTarget()
    stuck = asyncio.Event()
    real_write = target.write_endpoints

    async def write_then_hang(records: Any) -> None:
        if len(target.batches) == 2:
            stuck.set()
            await asyncio.Event().wait()  # the third piece never completes
        await real_write(records)

    target.write_endpoints = write_then_hang  # type: ignore[method-assign]
    running = asyncio.ensure_future(import_file(target, path))
    await stuck.wait()
    running.cancel()  # Ctrl-C, or a worker shutting down
    with pytest.raises(asyncio.CancelledError):
        await running
    spec = file_job_spec(APP, path, "CSV", file_fingerprint(path), segment_name="in-app-segment", segment_id=None,
                         settings=SETTINGS)
    job = target.job(spec.key)
    assert (job["JobStatus"], job["CompletedPieces"]) == ("FAILED", 2)
    assert job["Failures"] == ["interrupted after piece 2"]
    assert claim_job(target, spec.key, NOW).action == "run"  # no lease to wait for
