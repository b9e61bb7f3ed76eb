"""The blog's step 1 on a real worker and broker: endpoints and an imported segment from a
CSV, through ``inapp segments import`` (a real process) and through boto3's
``create_import_job`` (S3 on a moto server process); then an in-app campaign on the
imported segment decides for exactly its members."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.imports.job import PIECE_LINES
from engine.launcher import Deployment, WorkerProcess
from tests.imports.conftest import S3Server
from tests.imports.test_parsing import BLOG_CSV
from tests.integration.engine_helpers import EngineTopics, event, in_app_message, schedule
from tests.integration.workers import CREDENTIALS, pinpoint_client, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROLE = "arn:aws:iam::123456789012:role/PinpointSegmentImport"


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str, broker_kind: str, s3_server: S3Server,
               tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    tag = uuid.uuid4().hex[:8]
    return Deployment(
        bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"imp{tag}.", app_id=f"inapp-imp-{tag}",
        partitions=4, data_dir=tmp_path_factory.mktemp("imports"), embedded_broker=broker_kind == "tansu",
        extra_env=s3_server.env(),
    )


@pytest.fixture(scope="module")
def worker(deployment: Deployment) -> Iterator[WorkerProcess]:
    process = WorkerProcess(deployment).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def pinpoint(worker: WorkerProcess) -> Any:
    return pinpoint_client(worker.base_url)


@pytest.fixture(scope="module")
def topics(deployment: Deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


def inapp_import(deployment: Deployment, worker: WorkerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """`inapp segments import ...` as users run it, with the deployment's Kafka settings."""
    return subprocess.run([sys.executable, "-m", "engine.cli", "segments", "import", *args],
                          env=deployment.env(worker.port), capture_output=True, text=True, timeout=180)


def new_app(pinpoint: Any, outsider: str = "999") -> str:
    """An app with one IN_APP endpoint that no import lists."""
    app_id = str(pinpoint.create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"])
    pinpoint.update_endpoint(ApplicationId=app_id, EndpointId=outsider,
                             EndpointRequest={"ChannelType": "IN_APP", "Metrics": {"LastPurchaseValue": 900.0}})
    return app_id


async def decisions_on_imported_segment(pinpoint: Any, topics: EngineTopics, app_id: str, segment_id: str,
                                        endpoint_ids: list[str]) -> list[str]:
    """Create the blog's campaign on ``segment_id``, send app_launch for every endpoint, and
    return the endpoints that got a decision."""
    wait_until(lambda: _has_segment(pinpoint, app_id, segment_id), timeout=30, message="the worker to see the segment")
    for endpoint_id in endpoint_ids:  # the worker applied every upsert (it may have a backlog)
        wait_until(lambda: _endpoint(pinpoint, app_id, endpoint_id), timeout=90, message=f"endpoint {endpoint_id}")
    campaign = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest={
        "Name": "my_first_in-app_campaign", "SegmentId": segment_id, "Priority": 1,
        "MessageConfiguration": in_app_message("Welcome back!"), "Schedule": schedule(["app_launch"])})
    events = [event(app_id, endpoint_id, "app_launch") for endpoint_id in endpoint_ids]
    decided = await topics.decide(events)
    assert {d["CampaignId"] for d in decided} <= {campaign["CampaignResponse"]["Id"]}
    return sorted(d["EndpointId"] for d in decided)


def _endpoint(pinpoint: Any, app_id: str, endpoint_id: str) -> dict[str, Any] | None:
    try:
        return dict(pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=endpoint_id)["EndpointResponse"])
    except pinpoint.exceptions.NotFoundException:
        return None


def _has_segment(pinpoint: Any, app_id: str, segment_id: str) -> bool:
    try:
        pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)
    except pinpoint.exceptions.NotFoundException:
        return False
    return True


def finished_job(pinpoint: Any, app_id: str) -> dict[str, Any]:
    """The app's one import job once the worker shows it finished (the CLI writes to Kafka;
    the worker's control plane applies it a moment later)."""
    def done() -> dict[str, Any] | None:
        jobs = pinpoint.get_import_jobs(ApplicationId=app_id)["ImportJobsResponse"]["Item"]
        return dict(jobs[0]) if jobs and jobs[0]["JobStatus"] in ("COMPLETED", "FAILED") else None

    return wait_until(done, timeout=30, message="the CLI's job on the worker")


async def endpoint_records(topics: EngineTopics) -> int:
    return len(await topics.read("endpoints"))


async def test_the_blog_step_1_through_the_cli(deployment: Deployment, worker: WorkerProcess, pinpoint: Any,
                                                topics: EngineTopics, tmp_path: Path) -> None:
    app_id = new_app(pinpoint)
    csv_file = tmp_path / "in-app-segment.csv"
    csv_file.write_text(BLOG_CSV)
    done = inapp_import(deployment, worker, str(csv_file), "--app", app_id, "--name", "in-app-segment")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "COMPLETED" in done.stdout
    assert "rows read:            2" in done.stdout and "rejected rows:        0" in done.stdout
    job = finished_job(pinpoint, app_id)
    assert (job["JobStatus"], job["TotalProcessed"], job["TotalFailures"]) == ("COMPLETED", 2, 0)
    segment_id = job["Definition"]["SegmentId"]
    segment = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "IMPORT" and segment["Name"] == "in-app-segment"
    assert segment["ImportDefinition"]["Size"] == 2 and segment["ImportDefinition"]["ChannelCounts"] == {"IN_APP": 2}
    endpoint = wait_until(lambda: _endpoint(pinpoint, app_id, "111"), timeout=90, message="endpoint 111")
    assert endpoint["User"] == {"UserId": "user-111", "UserAttributes": {"FirstName": ["Maria"]}}

    decided = await decisions_on_imported_segment(pinpoint, topics, app_id, segment_id, ["111", "222", "999"])
    assert decided == ["111", "222"]  # the imported members, not the outsider

    # the same import again: the finished job is found, nothing is written twice
    before = await endpoint_records(topics)
    again = inapp_import(deployment, worker, str(csv_file), "--app", app_id, "--name", "in-app-segment")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already imported" in again.stdout
    assert await endpoint_records(topics) == before
    assert len(pinpoint.get_segments(ApplicationId=app_id)["SegmentsResponse"]["Item"]) == 1


async def test_bad_rows_are_reported_with_line_numbers_and_fail_the_command(
        deployment: Deployment, worker: WorkerProcess, pinpoint: Any, tmp_path: Path) -> None:
    app_id = new_app(pinpoint)
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(
        "ChannelType,Address,Id,User.UserId,Metrics.LastPurchaseValue,Nickname\n"
        "IN_APP,,a1,u1,10,\n"
        "IN_APP,,,u2,20,\n"            # line 3: no Id
        "IN_APP,,a3,u3,lots,\n"        # line 4: not a number
        "EMAIL,x@example.com,a4,u4,5,\n"  # line 5: imported, reported as a notice
        "IN_APP,,a5,u5,7,Bobby\n")     # line 6: a column we cannot import
    report = tmp_path / "rejected.csv"
    failed = inapp_import(deployment, worker, str(csv_file), "--app", app_id, "--name", "export",
                          "--report", str(report))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert "rows read:            5" in out and "rejected rows:        3" in out
    assert "line 3: Id: an endpoint id is required" in out
    assert "line 4: Metrics.LastPurchaseValue: 'lots' is not a number" in out
    assert "line 6: unknown column 'Nickname' (value 'Bobby') cannot be imported" in out
    assert "line 5: ChannelType EMAIL: imported, but only IN_APP endpoints receive in-app messages" in out
    assert report.read_text().splitlines()[1:] == [
        "3,,Id: an endpoint id is required",
        "4,a3,Metrics.LastPurchaseValue: 'lots' is not a number",
        "6,a5,unknown column 'Nickname' (value 'Bobby') cannot be imported",
    ]
    job = finished_job(pinpoint, app_id)
    assert job["Failures"] == [line.strip() for line in out.splitlines() if line.startswith("  line ")
                               and "ChannelType EMAIL" not in line]
    # the good rows were imported all the same; --allow-partial accepts that
    assert wait_until(lambda: _endpoint(pinpoint, app_id, "a4"), timeout=90, message="a4")["ChannelType"] == "EMAIL"
    accepted = inapp_import(deployment, worker, str(csv_file), "--app", app_id, "--name", "export", "--allow-partial")
    assert accepted.returncode == 0 and "already imported" in accepted.stdout


def test_the_cli_refuses_an_unknown_app(deployment: Deployment, worker: WorkerProcess, tmp_path: Path) -> None:
    csv_file = tmp_path / "in-app-segment.csv"
    csv_file.write_text(BLOG_CSV)
    refused = inapp_import(deployment, worker, str(csv_file), "--app", "f" * 32)
    assert refused.returncode == 2 and "application ffff" in refused.stderr


async def test_the_blog_step_1_through_boto3_create_import_job(
        pinpoint: Any, topics: EngineTopics, s3_server: S3Server) -> None:
    app_id = new_app(pinpoint)
    url = s3_server.put(s3_server.bucket(), "in-app/in-app-segment.csv", BLOG_CSV)
    created = pinpoint.create_import_job(ApplicationId=app_id, ImportJobRequest={
        "DefineSegment": True, "SegmentName": "in-app-segment", "Format": "CSV", "RegisterEndpoints": True,
        "RoleArn": ROLE, "S3Url": url})["ImportJobResponse"]
    job = wait_until(lambda: _finished(pinpoint, app_id, created["Id"]), timeout=60, message="the import job")
    assert (job["JobStatus"], job["TotalPieces"], job["CompletedPieces"], job["TotalProcessed"]) == (
        "COMPLETED", 1, 1, 2)
    segment_id = job["Definition"]["SegmentId"]
    jobs = pinpoint.get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)["ImportJobsResponse"]
    assert [j["Id"] for j in jobs["Item"]] == [created["Id"]]
    decided = await decisions_on_imported_segment(pinpoint, topics, app_id, segment_id, ["111", "222", "999"])
    assert decided == ["111", "222"]


def _finished(pinpoint: Any, app_id: str, job_id: str) -> dict[str, Any] | None:
    job = pinpoint.get_import_job(ApplicationId=app_id, JobId=job_id)["ImportJobResponse"]
    return dict(job) if job["JobStatus"] in ("COMPLETED", "FAILED") else None


async def test_an_interrupted_import_resumes_and_sends_only_the_unrecorded_pieces_again(
        deployment: Deployment, worker: WorkerProcess, pinpoint: Any, topics: EngineTopics, tmp_path: Path) -> None:
    app_id = new_app(pinpoint)
    rows = 8 * PIECE_LINES
    csv_file = tmp_path / "big.csv"
    csv_file.write_text("ChannelType,Id,Metrics.n\n" + "".join(f"IN_APP,r{n:06d},{n}\n" for n in range(rows)))
    command = [sys.executable, "-m", "engine.cli", "segments", "import", str(csv_file), "--app", app_id]
    first = subprocess.Popen(command, env=deployment.env(worker.port), stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ours(records: list[Any]) -> list[dict[str, Any]]:
        return [r["Versions"][-1] for r in records if r and r["Versions"][-1].get("ApplicationId") == app_id]

    try:  # kill -9 once two pieces are recorded
        await topics.read("import-jobs", until=lambda records: any(
            job.get("CompletedPieces", 0) >= 2 for job in ours(records)), timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert ours(await topics.read("import-jobs"))[-1]["JobStatus"] != "COMPLETED", "killed too late"

    second = subprocess.run(command, env=deployment.env(worker.port), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "resumed: " in second.stdout and f"rows read:            {rows:,}" in second.stdout
    sent = [r["EndpointId"] for r in await topics.read("endpoints")
            if r["ApplicationId"] == app_id and r["EndpointId"] != "999"]
    assert set(sent) == {f"r{n:06d}" for n in range(rows)}
    # only pieces written after the last recorded progress went out twice
    assert len(sent) - rows <= 2 * PIECE_LINES, len(sent) - rows
    job = ours(await topics.read("import-jobs"))[-1]
    assert (job["JobStatus"], job["CompletedPieces"], job["TotalPieces"], job["TotalProcessed"]) == (
        "COMPLETED", 8, 8, rows)
    segment = wait_until(lambda: _segment_of(pinpoint, app_id, job["Definition"]["SegmentId"]), timeout=30,
                         message="the segment")
    assert segment["ImportDefinition"]["Size"] == rows


def _segment_of(pinpoint: Any, app_id: str, segment_id: str) -> dict[str, Any] | None:
    try:
        return dict(pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"])
    except pinpoint.exceptions.NotFoundException:
        return None
