"""CreateImportJob, GetImportJob(s), GetSegmentImportJobs driven by boto3's pinpoint client,
reading S3 from a real moto server process; the engine is the API test double."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.harness import RunningApi, api_settings, serve_api
from tests.api.memory_backend import InMemoryBackend
from tests.imports.conftest import S3Server
from tests.imports.test_parsing import BLOG_CSV

ROLE = "arn:aws:iam::123456789012:role/PinpointSegmentImport"


@pytest.fixture
def api(s3_server: S3Server) -> Iterator[RunningApi]:
    settings = api_settings(**{k.removeprefix("INAPP_").lower(): v for k, v in s3_server.env().items()})
    with serve_api(InMemoryBackend(), settings) as running:
        yield running


def new_app(api: RunningApi) -> str:
    return str(api.client().create_app(CreateApplicationRequest={"Name": "retail"})["ApplicationResponse"]["Id"])


def import_job(api: RunningApi, app_id: str, s3_url: str, **request: Any) -> dict[str, Any]:
    body = {"DefineSegment": True, "Format": "CSV", "RegisterEndpoints": True, "RoleArn": ROLE, "S3Url": s3_url,
            **request}
    return dict(api.client().create_import_job(ApplicationId=app_id, ImportJobRequest=body)["ImportJobResponse"])


def finished(api: RunningApi, app_id: str, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = api.client().get_import_job(ApplicationId=app_id, JobId=job_id)["ImportJobResponse"]
        if job["JobStatus"] in ("COMPLETED", "FAILED"):
            return dict(job)
        assert time.monotonic() < deadline, f"job still {job['JobStatus']}"
        time.sleep(0.05)


def test_the_blog_step_1_through_create_import_job(api: RunningApi, s3_server: S3Server) -> None:
    app_id = new_app(api)
    url = s3_server.put(s3_server.bucket(), "imports/in-app-segment.csv", BLOG_CSV)
    created = import_job(api, app_id, url, SegmentName="in-app-segment")
    assert created["JobStatus"] == "CREATED" and created["Type"] == "IMPORT"
    assert created["Definition"]["S3Url"] == url and created["Definition"]["RoleArn"] == ROLE
    job = finished(api, app_id, created["Id"])
    assert job["JobStatus"] == "COMPLETED", job
    assert (job["TotalPieces"], job["CompletedPieces"], job["FailedPieces"]) == (1, 1, 0)
    assert (job["TotalProcessed"], job["TotalFailures"], job["Failures"]) == (2, 0, [])
    assert job["CreationDate"] <= job["CompletionDate"]
    segment_id = job["Definition"]["SegmentId"]
    segment = api.client().get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "IMPORT" and segment["Name"] == "in-app-segment"
    assert segment["ImportDefinition"] == {"ChannelCounts": {"IN_APP": 2}, "ExternalId": "", "Format": "CSV",
                                           "RoleArn": ROLE, "S3Url": url, "Size": 2}
    backend: InMemoryBackend = api.backend
    assert [(r.EndpointId, r.AddImportedSegments) for r in backend.endpoint_writes] == [
        ("111", [segment_id]), ("222", [segment_id])]
    endpoint = api.client().get_endpoint(ApplicationId=app_id, EndpointId="111")["EndpointResponse"]
    assert endpoint["ChannelType"] == "IN_APP" and endpoint["Metrics"] == {"LastPurchaseValue": 600.0}
    listed = api.client().get_import_jobs(ApplicationId=app_id)["ImportJobsResponse"]["Item"]
    assert [j["Id"] for j in listed] == [job["Id"]]
    by_segment = api.client().get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)
    assert [j["Id"] for j in by_segment["ImportJobsResponse"]["Item"]] == [job["Id"]]


def test_repeating_the_request_returns_the_same_job_and_writes_nothing(api: RunningApi, s3_server: S3Server) -> None:
    app_id = new_app(api)
    url = s3_server.put(s3_server.bucket(), "in-app-segment.csv", BLOG_CSV)
    job = finished(api, app_id, import_job(api, app_id, url)["Id"])
    backend: InMemoryBackend = api.backend
    writes = (len(backend.endpoint_writes), len(backend.control_writes))
    again = import_job(api, app_id, url)
    assert again["Id"] == job["Id"] and again["JobStatus"] == "COMPLETED"
    assert (len(backend.endpoint_writes), len(backend.control_writes)) == writes
    segments = api.client().get_segments(ApplicationId=app_id)["SegmentsResponse"]["Item"]
    assert [s["Id"] for s in segments] == [job["Definition"]["SegmentId"]]
    # changed content under the same key is a new import
    s3_server.put(url.split("/")[2], "in-app-segment.csv", BLOG_CSV + "IN_APP,,333,user-333,Ann,900\n")
    changed = finished(api, app_id, import_job(api, app_id, url)["Id"])
    assert changed["Id"] != job["Id"] and changed["TotalProcessed"] == 3


def test_a_folder_imports_every_file_of_the_format_and_names_them_in_failures(
        api: RunningApi, s3_server: S3Server) -> None:
    app_id = new_app(api)
    bucket = s3_server.bucket()
    s3_server.put(bucket, "export/part-1.csv", "Id,ChannelType\na,IN_APP\n,IN_APP\n")
    s3_server.put(bucket, "export/sub/part-2.csv", "Id,ChannelType,Metrics.x\nb,IN_APP,oops\nc,SMS,1\n")
    s3_server.put(bucket, "export/ignored.json", '{"Id": "zzz"}\n')
    job = finished(api, app_id, import_job(api, app_id, f"s3://{bucket}/export")["Id"])
    assert job["JobStatus"] == "COMPLETED"
    assert (job["TotalPieces"], job["TotalProcessed"], job["TotalFailures"]) == (2, 4, 2)
    assert job["Failures"] == [
        f"s3://{bucket}/export/part-1.csv line 3: Id: an endpoint id is required",
        f"s3://{bucket}/export/sub/part-2.csv line 2: Metrics.x: 'oops' is not a number",
    ]
    segment = api.client().get_segment(ApplicationId=app_id, SegmentId=job["Definition"]["SegmentId"])
    definition = segment["SegmentResponse"]["ImportDefinition"]
    assert (definition["Size"], definition["ChannelCounts"]) == (2, {"IN_APP": 1, "SMS": 1})
    assert segment["SegmentResponse"]["Name"] == "export"  # default: the location's last name


def test_json_lines_into_an_existing_import_segment(api: RunningApi, s3_server: S3Server) -> None:
    app_id = new_app(api)
    bucket = s3_server.bucket()
    first = finished(api, app_id, import_job(api, app_id, s3_server.put(bucket, "a.csv", BLOG_CSV))["Id"])
    segment_id = first["Definition"]["SegmentId"]
    url = s3_server.put(bucket, "more.json", '{"Id": "333", "ChannelType": "IN_APP"}\n')
    job = finished(api, app_id, import_job(api, app_id, url, Format="JSON", DefineSegment=False,
                                           SegmentId=segment_id)["Id"])
    assert job["JobStatus"] == "COMPLETED" and job["Definition"]["SegmentId"] == segment_id
    versions = api.client().get_segment_versions(ApplicationId=app_id, SegmentId=segment_id)
    assert [v["Version"] for v in versions["SegmentsResponse"]["Item"]] == [1, 2]
    backend: InMemoryBackend = api.backend
    assert backend.endpoint_writes[-1].EndpointId == "333"
    assert backend.endpoint_writes[-1].AddImportedSegments == [segment_id]
    jobs = api.client().get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)["ImportJobsResponse"]
    assert [j["Id"] for j in jobs["Item"]] == [job["Id"], first["Id"]]  # newest first
    page = api.client().get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id, PageSize="1")
    assert len(page["ImportJobsResponse"]["Item"]) == 1 and page["ImportJobsResponse"]["NextToken"]


def test_unreadable_s3_gives_a_failed_job(api: RunningApi) -> None:
    app_id = new_app(api)
    job = import_job(api, app_id, "s3://no-such-bucket-here/file.csv")
    assert job["JobStatus"] == "FAILED"
    assert job["Failures"] and "NoSuchBucket" in job["Failures"][0]
    assert api.client().get_import_job(ApplicationId=app_id, JobId=job["Id"])["ImportJobResponse"]["JobStatus"] == "FAILED"


@pytest.mark.parametrize(("change", "code", "phrase"), [
    ({"S3Url": "https://example.com/file.csv"}, "BadRequestException", "s3://bucket-name"),
    ({"Format": "XML"}, "BadRequestException", "Format"),
    ({"DefineSegment": False, "SegmentId": "0" * 32}, "BadRequestException", "does not exist"),
])
def test_bad_requests(api: RunningApi, change: dict[str, Any], code: str, phrase: str) -> None:
    app_id = new_app(api)
    with pytest.raises(ClientError) as caught:
        import_job(api, app_id, "s3://bucket/file.csv", **change)
    assert caught.value.response["Error"]["Code"] == code
    assert phrase in caught.value.response["Error"]["Message"]


def test_a_dimensional_segment_is_refused_and_unknown_things_are_404(api: RunningApi) -> None:
    app_id = new_app(api)
    segment = api.client().create_segment(ApplicationId=app_id, WriteSegmentRequest={"Name": "d", "Dimensions": {}})
    with pytest.raises(ClientError) as caught:
        import_job(api, app_id, "s3://bucket/file.csv", SegmentId=segment["SegmentResponse"]["Id"])
    assert "not an IMPORT segment" in caught.value.response["Error"]["Message"]
    client = api.client()
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_import_job(ApplicationId=app_id, JobId="f" * 32)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_import_jobs(ApplicationId="f" * 32)
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_segment_import_jobs(ApplicationId=app_id, SegmentId="f" * 32)
    assert client.get_import_jobs(ApplicationId=app_id)["ImportJobsResponse"]["Item"] == []
