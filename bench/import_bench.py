"""Segment import benchmark (issue 8): a program that prints rows/s, not a timed test.

    python bench/import_bench.py [--rows 100000] [--api] [--keep-batch-size]

One broker (``KAFKA_BOOTSTRAP_SERVERS`` when set, else an embedded Tansu broker started
here), one ``inapp worker`` process, fresh topics under a per-run prefix, one app. A CSV of
``--rows`` IN_APP endpoints in the blog's shape (Id, User.UserId, a user attribute, the
LastPurchaseValue metric, a time zone, a two-valued custom attribute) is generated, then:

  a. parse + validate: the job runner over no target (``inapp segments import --dry-run``)
  b. CLI: ``inapp segments import FILE --app APP --name NAME`` as a process, start to exit
     (parse, validate, produce every upsert to Kafka acked, job record, IMPORT segment)
  c. applied: from the CLI's start until the worker's endpoints agent has applied (and
     committed) every upsert: the endpoints topic's end offsets reached by its group
  d. with ``--api``: CreateImportJob through boto3, the file on a moto S3 server process,
     until GetImportJob says COMPLETED (the worker parses and produces through Faust)

Against the embedded Tansu broker the workers produce one record per batch (see
``Settings.producer_max_batch_bytes``); the CLI uses Kafka's usual batching unless
``--keep-batch-size`` gives it the workers' setting too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.brokers import Broker, EmbeddedBroker, ExternalBroker, wait_until_ready  # noqa: E402
from engine.launcher import Deployment, WorkerProcess  # noqa: E402

ACCESS_KEY, SECRET = "AKIAIMPORTBENCH00001", "import-bench-secret"
ZONES = ["America/New_York", "Europe/Paris", "Asia/Tokyo", "UTC", ""]
NAMES = ["Maria", "John", "Aiko", "Lena", "Omar", "Chen", "Ana", "Ravi"]
INTERESTS = ["books", "music", "garden", "sports", "travel", "food"]


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    lines = ["ChannelType,Address,Id,User.UserId,User.UserAttributes.FirstName,Metrics.LastPurchaseValue,"
             "Demographic.Timezone,Attributes.interests,Attributes.interests"]
    for n in range(rows):
        first, second = rng.sample(INTERESTS, 2)
        lines.append(f"IN_APP,,ep-{n:07d},user-{n:07d},{rng.choice(NAMES)},{rng.randint(1, 2000)},"
                     f"{rng.choice(ZONES)},{first},{second}")
    path.write_text("\n".join(lines) + "\n")


def _broker() -> Broker:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        wait_until_ready(configured, timeout=60)
        return ExternalBroker(configured)
    return EmbeddedBroker().start()


def _client(base_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("pinpoint", endpoint_url=base_url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET, config=Config(read_timeout=120))


def phase_parse(path: Path) -> float:
    from engine.imports.job import run_import
    from engine.imports.launch import file_job_spec
    from engine.imports.sources import SourceFile, file_fingerprint
    from engine.settings import Settings

    class Nothing:
        def control_record(self, kind: Any, key: str) -> None:
            return None

        async def write_control(self, kind: Any, key: str, record: Any) -> None:
            return None

        async def write_endpoints(self, records: Any) -> None:
            return None

    spec = file_job_spec("a" * 32, path, "CSV", file_fingerprint(path), segment_name="bench", segment_id=None,
                         settings=Settings())
    started = time.perf_counter()
    report = asyncio.run(run_import(Nothing(), spec, [SourceFile(path.name, path)],
                                    creation_date="2026-11-28T10:00:00.000Z", owner="bench"))
    seconds = time.perf_counter() - started
    assert report.rows_accepted == report.rows_read and not report.rejected, report.rejected[:3]
    return report.rows_read / seconds


async def _records_per_partition(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Records on each partition, counted by reading them (Tansu's end offsets run low after
    multi-record batches, so they are not asked)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        counts = {tp.partition: 0 for tp in assigned}
        while batches := await consumer.getmany(timeout_ms=2000, max_records=10000):
            for tp, messages in batches.items():
                counts[tp.partition] += len(messages)
        return counts
    finally:
        await consumer.stop()


def _last_per_partition(rows: int, partitions: int) -> list[str]:
    """The last endpoint id of the file on each partition: once the worker has it, it has
    applied every upsert before it (one agent per partition, in order)."""
    from engine.partitioning import partition_of

    last: dict[int, str] = {}
    for n in range(rows):
        endpoint_id = f"ep-{n:07d}"
        last[partition_of(endpoint_id.encode(), partitions)] = endpoint_id
    return list(last.values())


def _wait_applied(pinpoint: Any, app_id: str, endpoint_ids: list[str], timeout: float) -> float:
    pending = list(endpoint_ids)
    deadline = time.monotonic() + timeout
    while pending:
        try:
            pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=pending[0])
            pending.pop(0)
            continue
        except pinpoint.exceptions.NotFoundException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the worker did not apply {pending} in time")
        time.sleep(0.1)
    return time.monotonic()


def phase_cli(deployment: Deployment, worker: WorkerProcess, path: Path, app_id: str, keep_batch: bool,
              rows: int) -> tuple[float, float, str]:
    env = deployment.env(worker.port)
    if not keep_batch:
        env.pop("INAPP_PRODUCER_MAX_BATCH_BYTES", None)
    pinpoint = _client(worker.base_url)
    last = _last_per_partition(rows, deployment.partitions)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "engine.cli", "segments", "import", str(path), "--app", app_id,
                           "--name", "bench-import"], env=env, capture_output=True, text=True, timeout=1800)
    cli_seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"inapp segments import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    applied_at = _wait_applied(pinpoint, app_id, last, timeout=1800)
    on_topic = asyncio.run(_records_per_partition(deployment.bootstrap, f"{deployment.prefix}endpoints",
                                                  deployment.partitions))
    assert sum(on_topic.values()) == rows, f"every row is one upsert on the topic: {on_topic}"
    sample = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId=last[0])["EndpointResponse"]
    assert sample["ChannelType"] == "IN_APP" and "LastPurchaseValue" in sample["Metrics"], sample
    summary = done.stdout.splitlines()[0]
    return rows / cli_seconds, rows / (applied_at - started), summary


def phase_api(deployment: Deployment, worker: WorkerProcess, path: Path, s3_url: str, rows: int) -> float:
    pinpoint = _client(worker.base_url)
    app_id = pinpoint.create_app(CreateApplicationRequest={"Name": "bench-api"})["ApplicationResponse"]["Id"]
    started = time.monotonic()
    job = pinpoint.create_import_job(ApplicationId=app_id, ImportJobRequest={
        "DefineSegment": True, "SegmentName": "bench-api", "Format": "CSV", "RegisterEndpoints": True,
        "RoleArn": "arn:aws:iam::123456789012:role/import", "S3Url": s3_url})["ImportJobResponse"]
    while job["JobStatus"] not in ("COMPLETED", "FAILED"):
        time.sleep(0.25)
        job = pinpoint.get_import_job(ApplicationId=app_id, JobId=job["Id"])["ImportJobResponse"]
    seconds = time.monotonic() - started
    assert job["JobStatus"] == "COMPLETED" and job["TotalProcessed"] == rows, job
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--api", action="store_true", help="also time CreateImportJob from a moto S3 server")
    parser.add_argument("--keep-batch-size", action="store_true",
                        help="the CLI uses the workers' producer batch size (1 record on Tansu)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="inapp-import-bench-"))
    path = workdir / "bench-import.csv"
    write_csv(path, args.rows)
    print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, CSV in the blog's shape; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"a. parse + validate (no Kafka):        {phase_parse(path):>9,.0f} rows/s")

    broker = _broker()
    moto = None
    try:
        tag = uuid.uuid4().hex[:8]
        extra: dict[str, str] = {}
        if args.api:
            moto, s3_env, s3_url = _start_moto(path)
            extra.update(s3_env)
        deployment = Deployment(bootstrap=broker.bootstrap_servers, credentials=f"{ACCESS_KEY}:{SECRET}",
                                prefix=f"ib{tag}.", app_id=f"inapp-ib-{tag}", partitions=4,
                                data_dir=workdir / "deployment", embedded_broker=broker.kind == "tansu",
                                extra_env=extra)
        print(f"broker: {broker.kind} at {broker.bootstrap_servers}; one worker, 4 partitions")
        worker = WorkerProcess(deployment).start()
        try:
            app_id = _client(worker.base_url).create_app(CreateApplicationRequest={"Name": "bench"})[
                "ApplicationResponse"]["Id"]
            cli_rate, applied_rate, summary = phase_cli(deployment, worker, path, app_id, args.keep_batch_size,
                                                        args.rows)
            print(f"b. inapp segments import (process):    {cli_rate:>9,.0f} rows/s   [{summary}]")
            print(f"c. ... until the worker applied all:   {applied_rate:>9,.0f} rows/s")
            if args.api:
                print(f"d. CreateImportJob (S3) to COMPLETED:  {phase_api(deployment, worker, path, s3_url, args.rows):>9,.0f} rows/s")
        finally:
            worker.stop()
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        broker.stop()
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)


def _start_moto(path: Path) -> tuple[subprocess.Popen[bytes], dict[str, str], str]:
    import urllib.request

    import boto3

    from engine.brokers import free_port

    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k",
                      aws_secret_access_key="s")
    s3.create_bucket(Bucket="bench")
    s3.upload_file(str(path), "bench", "bench-import.csv")
    env = {"INAPP_S3_ENDPOINT_URL": url, "INAPP_S3_ACCESS_KEY_ID": "k", "INAPP_S3_SECRET_ACCESS_KEY": "s"}
    return process, env, "s3://bench/bench-import.csv"


if __name__ == "__main__":
    main()
