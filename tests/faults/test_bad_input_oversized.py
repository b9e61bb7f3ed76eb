"""Records over 1 MB on topics an operator opened to 8 MB records (``max.message.bytes``):
a 2 MB event (valid JSON with a 2 MB attribute, and 2 MB of bytes that are not UTF-8), a 2 MB
endpoint record, and 2 MB of garbage on the campaigns control topic.

Each must land on the dead-letter topic with its reason (PRODUCT.md semantics 10; the letter
may keep only a prefix of the original bytes, but it must exist), the good events around them
must be decided, and no agent may crash or restart.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
import pytest

from engine.launcher import Deployment, WorkerProcess
from tests.faults.kafka_io import allow_records_up_to, publish
from tests.integration.engine_helpers import EngineTopics, PinpointApp, crash_lines, event
from tests.integration.workers import CREDENTIALS, pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

TWO_MB = 2 * 1024 * 1024
EIGHT_MB = 8 * 1024 * 1024
ENDPOINTS = ("big-1", "big-2")


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, broker_kind, tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    deployment = Deployment(bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"big{tag}.",
                            app_id=f"inapp-big-{tag}", partitions=2, data_dir=tmp_path_factory.mktemp("oversized"),
                            embedded_broker=broker_kind == "tansu")
    process = WorkerProcess(deployment).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def run(worker) -> dict[str, Any]:
    deployment = worker.deployment
    boot, prefix = deployment.bootstrap, deployment.prefix
    topics = EngineTopics(boot, prefix)
    app = PinpointApp.create(pinpoint_client(worker.base_url), "oversized")
    app.endpoints({eid: {"Demographic": {"Timezone": "UTC"}} for eid in ENDPOINTS})
    app.campaign("good", ["purchase"], Limits={"Session": 0, "Daily": 0, "Total": 0})
    log_start = len(worker.log_text())
    for name in ("events", "endpoints", "campaigns"):
        asyncio.run(allow_records_up_to(boot, f"{prefix}{name}", EIGHT_MB))

    def good(n: int) -> dict[str, Any]:
        return event(app.app_id, ENDPOINTS[n % 2], "purchase", attributes={"n": str(n)})

    big_event = event(app.app_id, "big-1", "purchase", attributes={"blob": "x" * TWO_MB})
    big_endpoint = {"ApplicationId": app.app_id, "EndpointId": "big-1", "Op": "upsert",
                    "Endpoint": {"Attributes": {"blob": ["y" * TWO_MB]}}}
    bad = {
        "events/2mb-attribute-value": ("events", b"big-1", orjson.dumps(big_event)),
        "events/2mb-not-utf8": ("events", b"big-1", b"\xff" * TWO_MB),
        "endpoints/2mb-endpoint-record": ("endpoints", b"big-1", orjson.dumps(big_endpoint)),
        "campaigns/2mb-garbage": ("campaigns", f"{app.app_id}/garbage".encode(), b"\x00" + b"z" * TWO_MB),
    }
    goods = [good(n) for n in range(len(bad) + 1)]
    positions = {}
    for n, (name, (topic, key, value)) in enumerate(bad.items()):
        asyncio.run(publish(boot, f"{prefix}events", [(goods[n]["EndpointId"].encode(), orjson.dumps(goods[n]))],
                            one_per_batch=deployment.embedded_broker))
        [positions[name]] = asyncio.run(publish(boot, f"{prefix}{topic}", [(key, value)],
                                                one_per_batch=deployment.embedded_broker,
                                                max_request_size=EIGHT_MB))
    asyncio.run(topics.publish([goods[-1]]))
    ids = [g["EventId"] for g in goods]
    try:
        asyncio.run(topics.wait_processed(ids, timeout=60))
    except TimeoutError:  # the checks below say what is missing
        pass

    def found(name: str, letters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        topic = f"{prefix}{name.split('/')[0]}"
        partition, offset = positions[name]
        return [d for d in letters if d["SourceTopic"] == topic
                and (d.get("SourcePartition"), d.get("SourceOffset")) == (partition, offset)]

    try:
        letters = asyncio.run(topics.dead_letters(until=lambda ls: all(found(n, ls) for n in bad), timeout=30))
    except TimeoutError:
        letters = asyncio.run(topics.dead_letters())
    decided = asyncio.run(topics.decisions(ids))
    return {"bad": list(bad), "letters": {n: found(n, letters) for n in bad}, "goods": goods,
            "decided": decided, "log_start": log_start}


@pytest.mark.parametrize("name", ["events/2mb-attribute-value", "events/2mb-not-utf8",
                                  "endpoints/2mb-endpoint-record", "campaigns/2mb-garbage"])
def test_a_2mb_record_lands_on_the_dead_letter_topic(name, run):
    letters = run["letters"][name]
    assert len(letters) == 1, f"{name}: {len(letters)} dead letters (want one)"
    assert letters[0]["Reason"]


def test_the_good_events_around_them_are_decided_once(run):
    per_event = {g["EventId"]: 0 for g in run["goods"]}
    for decision in run["decided"]:
        per_event[decision["EventId"]] += 1
    assert list(per_event.values()) == [1] * len(per_event)


def test_no_agent_crashed_or_restarted(run, worker, figures):
    lines = crash_lines(worker, since=run["log_start"])
    figures.report(records_over_1mb=len(run["bad"]),
                   dead_lettered=sum(1 for n in run["bad"] if run["letters"][n]),
                   good_events=len(run["goods"]), decisions=len(run["decided"]),
                   agent_crashes=sum("Crashed reason" in line for line in lines),
                   worker_alive=worker.alive)
    assert worker.alive, "the worker process exited:\n" + "\n".join(line[:300] for line in lines[-8:])
    assert lines == [], "\n".join(line[:400] for line in lines[:20])
