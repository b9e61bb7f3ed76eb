"""Bad input mixed into good traffic, where tests/integration/test_engine_dead_letters*.py
do not look (PRODUCT.md semantics 10: bad input never stops the engine, is never lost).

* The control topics: garbage bytes and ``ControlRecord`` envelopes with bad content written
  straight to ``<prefix>campaigns`` and ``<prefix>segments`` (not through the API, which would
  refuse them) each land on the dead-letter topic once, with the reason; the campaigns that
  were fine keep deciding.
* The events topic: a huge attribute map, JSON nested 100,000 deep, NaN and lone surrogates,
  a timestamp in year 10000: dead-lettered with the reason (records over 1 MB:
  test_bad_input_oversized.py). Timestamps far in the future are clamped and decided; far in the past (before the
  campaign starts) and events for a deleted campaign are processed without a decision and
  without a dead letter: not errors.
* The API: the same kinds of input through PutEvents, CreateCampaign and CreateSegment get
  Pinpoint's 400 (or 413 for a body over PutEvents' 4 MB).

Every good event around the bad ones is decided exactly once, and the worker never dies or
restarts an agent.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from engine.launcher import Deployment, WorkerProcess
from tests.faults.kafka_io import publish, read_records
from tests.integration.engine_helpers import EngineTopics, PinpointApp, crash_lines, event
from tests.integration.workers import CREDENTIALS, pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

ENDPOINTS = ("bi-1", "bi-2")
TWO_MB = 2 * 1024 * 1024
FAR_FUTURE = "2199-01-01T00:00:00.000Z"
LAST_INSTANT = "9999-12-31T23:59:59.999Z"
FAR_PAST = "2000-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Bad:
    """One bad record: where it goes, what it is, and a phrase its dead letter's
    ``Field`` + ``Reason`` must contain. ``resource`` is set for records that parse as an
    envelope but not as a resource: their dead letter names the key instead of an offset."""

    name: str
    topic: str  # events, campaigns, segments (without prefix)
    key: bytes | None
    value: bytes
    reason: str
    resource: bool = False


@dataclass
class Outcome:
    """What came out of the whole corpus."""

    bad: list[Bad]
    positions: dict[str, tuple[int, int]]  # bad record name -> (partition, offset)
    letters: list[dict[str, Any]]
    good_before: list[dict[str, Any]]
    good_after: list[dict[str, Any]]
    quiet: dict[str, dict[str, Any]]  # name -> event expected to get neither decision nor letter
    clamped: dict[str, dict[str, Any]]  # name -> far-future event expected to be decided
    decisions: dict[str, list[dict[str, Any]]]  # EventId -> decisions
    api: dict[str, str] = field(default_factory=dict)  # API case -> "status ErrorType"
    log_start: int = 0

    def letters_for(self, bad: Bad, prefix: str) -> list[dict[str, Any]]:
        topic = f"{prefix}{bad.topic}"
        if bad.resource:
            key = bad.key.decode() if bad.key is not None else None
            return [d for d in self.letters if d["SourceTopic"] == topic and d.get("SourceOffset") is None
                    and d.get("Key") == key]
        partition, offset = self.positions[bad.name]
        return [d for d in self.letters if d["SourceTopic"] == topic
                and (d.get("SourcePartition"), d.get("SourceOffset")) == (partition, offset)]


def _stamped(record: dict[str, Any], timestamp: str) -> dict[str, Any]:
    record["Event"]["Timestamp"] = timestamp
    return record


def _control_corpus(app_id: str, good_campaign: dict[str, Any], good_segment: dict[str, Any]) -> list[Bad]:
    """Bad records for the campaigns and segments topics, built from good ones."""

    def campaign(name: str, reason: str, change: Any, *, resource: bool = True) -> Bad:
        version = orjson.loads(orjson.dumps(good_campaign))
        campaign_id = uuid.uuid4().hex
        version.update(Id=campaign_id, Name=name)
        change(version)
        value = orjson.dumps({"Kind": "campaign", "Versions": [version]})
        return Bad(name, "campaigns", f"{app_id}/{campaign_id}".encode(), value, reason, resource)

    def segment(name: str, reason: str, change: Any) -> Bad:
        version = orjson.loads(orjson.dumps(good_segment))
        segment_id = uuid.uuid4().hex
        version.update(Id=segment_id, Name=name)
        change(version)
        value = orjson.dumps({"Kind": "segment", "Versions": [version]})
        return Bad(name, "segments", f"{app_id}/{segment_id}".encode(), value, reason, resource=True)

    def set_path(path: str, value: Any) -> Any:
        def change(version: dict[str, Any]) -> None:
            *parents, last = path.split(".")
            target = version
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value
        return change

    campaign_envelope = {"Kind": "campaign", "Versions": [good_campaign]}
    return [
        Bad("campaign-garbage-bytes", "campaigns", b"garbage", b"\xff\xfe\x00 not json \x80", "json"),
        # (a record without a key cannot be written: Kafka refuses it on a compacted topic)
        Bad("campaign-key-not-utf8", "campaigns", b"\xff\xfe-key", b"{{{{", "json"),
        Bad("campaign-json-array", "campaigns", b"array", b"[1, 2, 3]", "object"),
        Bad("campaign-wrong-kind", "campaigns", f"{app_id}/wrong-kind".encode(),
            orjson.dumps({"Kind": "segment", "Versions": [good_segment]}), "segment record"),
        Bad("campaign-no-versions", "campaigns", f"{app_id}/no-versions".encode(),
            orjson.dumps({"Kind": "campaign", "Versions": []}), "Versions"),
        Bad("campaign-unknown-envelope-member", "campaigns", f"{app_id}/extra".encode(),
            orjson.dumps({**campaign_envelope, "Surprise": True}), "Surprise"),
        campaign("campaign-bad-dimension-type", "DimensionType",
                 set_path("Schedule.EventFilter.Dimensions.EventType.DimensionType", "SOMETIMES")),
        campaign("campaign-limits-a-string", "Limits", set_path("Limits.Total", "lots")),
        campaign("campaign-unknown-segment", "segment", set_path("SegmentId", "no-such-segment")),
        campaign("campaign-priority-a-list", "Priority", set_path("Priority", [1])),
        Bad("segment-garbage-bytes", "segments", b"garbage", b"\x00\x01\x02\xff", "json"),
        Bad("segment-wrong-kind", "segments", f"{app_id}/wrong-kind".encode(),
            orjson.dumps(campaign_envelope), "campaign record"),
        segment("segment-bad-attribute-type", "AttributeType",
                set_path("Dimensions.Attributes.plan", {"AttributeType": "BOGUS", "Values": ["pro"]})),
        segment("segment-dimensions-a-list", "Dimensions", set_path("Dimensions", ["everyone"])),
    ]


def _event_corpus(app_id: str) -> list[Bad]:
    def good_bytes(**changes: Any) -> dict[str, Any]:
        record = event(app_id, "bi-1", "purchase", attributes={"sku": "A-1"})
        record["Event"].update(changes)
        return record

    base = orjson.dumps(good_bytes())
    nested = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    return [
        Bad("5000-attributes", "events", b"bi-1",
            orjson.dumps(good_bytes(Attributes={f"attr-{n}": "v" * 20 for n in range(5000)})), "40"),
        Bad("nested-100000-deep", "events", b"bi-1", nested, "not JSON"),
        Bad("nan-metric", "events", b"bi-1", base.replace(b'"sku":"A-1"}', b'"sku":"A-1"},"Metrics":{"m":NaN}'),
            "not JSON"),
        Bad("lone-surrogate", "events", b"bi-1", base.replace(b'"A-1"', b'"A-\\ud800"'), "not JSON"),
        Bad("timestamp-year-10000", "events", b"bi-1",
            orjson.dumps(good_bytes(Timestamp="10000-01-01T00:00:00.000Z")), "ISO-8601"),
    ]


async def _control_record(bootstrap: str, topic: str, key: str) -> dict[str, Any]:
    for record in reversed(await read_records(bootstrap, topic)):
        if record.key == key.encode() and record.value is not None:
            return dict(record.json()["Versions"][-1])
    raise AssertionError(f"no record {key} on {topic}")


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap, broker_kind, tmp_path_factory) -> Deployment:
    tag = uuid.uuid4().hex[:8]
    return Deployment(bootstrap=kafka_bootstrap, credentials=CREDENTIALS, prefix=f"bad{tag}.",
                      app_id=f"inapp-bad-{tag}", partitions=4, data_dir=tmp_path_factory.mktemp("bad-input"),
                      embedded_broker=broker_kind == "tansu")


@pytest.fixture(scope="module")
def worker(deployment):
    process = WorkerProcess(deployment).start()
    try:
        yield process
    finally:
        process.stop()


def _api_cases(client: Any, app: PinpointApp) -> dict[str, str]:
    """Bad input through the API: the status and error type each one got."""

    def answer(call: Any) -> str:
        try:
            response = call()
        except ClientError as error:
            return f"{error.response['ResponseMetadata']['HTTPStatusCode']} {error.response['Error']['Code']}"
        except Exception as error:  # noqa: BLE001 - a dropped connection is an answer too
            return f"no answer: {type(error).__name__}: {error}"
        return f"{response['ResponseMetadata']['HTTPStatusCode']} ok"

    def put(events: dict[str, Any]) -> Any:
        response = client.put_events(ApplicationId=app.app_id, EventsRequest={"BatchItem": {
            "bi-2": {"Endpoint": {}, "Events": events}}})
        statuses = {k: v["StatusCode"] for k, v in
                    response["EventsResponse"]["Results"]["bi-2"]["EventsItemResponse"].items()}
        return {"ResponseMetadata": {"HTTPStatusCode": max(statuses.values())}}

    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    segment = {"Name": "bad", "Dimensions": {"Attributes": {"plan": {"AttributeType": "BOGUS", "Values": ["x"]}}}}
    return {
        "putevents-2mb-attribute-value": answer(lambda: put({"big": {
            "EventType": "purchase", "Timestamp": now, "Attributes": {"blob": "x" * TWO_MB}}})),
        "putevents-5mb-body": answer(lambda: put({f"e{n}": {
            "EventType": "purchase", "Timestamp": now, "Attributes": {"blob": "x" * 190}} for n in range(30)}
            | {"pad": {"EventType": "purchase", "Timestamp": now, "Attributes": {"p": "y" * (5 * 1024 * 1024)}}})),
        "putevents-timestamp-year-10000": answer(lambda: put({"y10k": {
            "EventType": "purchase", "Timestamp": "10000-01-01T00:00:00Z"}})),
        "putevents-41-attributes": answer(lambda: put({"a41": {
            "EventType": "purchase", "Timestamp": now, "Attributes": {f"a{n}": "x" for n in range(41)}}})),
        "createcampaign-unknown-segment": answer(lambda: client.create_campaign(
            ApplicationId=app.app_id, WriteCampaignRequest={"Name": "x", "SegmentId": "no-such-segment"})),
        "createsegment-bad-attribute-type": answer(lambda: client.create_segment(
            ApplicationId=app.app_id, WriteSegmentRequest=segment)),
    }


API_EXPECTED = {
    "putevents-2mb-attribute-value": "400",
    "putevents-5mb-body": "413 PayloadTooLargeException",
    "putevents-timestamp-year-10000": "400",
    "putevents-41-attributes": "400",
    "createcampaign-unknown-segment": "400 BadRequestException",
    "createsegment-bad-attribute-type": "400 BadRequestException",
}


@pytest.fixture(scope="module")
async def outcome(deployment, worker) -> Outcome:
    boot, prefix = deployment.bootstrap, deployment.prefix
    topics = EngineTopics(boot, prefix)
    client = pinpoint_client(worker.base_url)
    app = PinpointApp.create(client, "bad-input")
    app.endpoints({eid: {"Demographic": {"Timezone": "UTC"}, "Attributes": {"plan": ["pro"]}} for eid in ENDPOINTS})
    good_id = app.campaign("good", ["purchase"], Limits={"Session": 0, "Daily": 0, "Total": 0})
    doomed_id = app.campaign("doomed", ["legacy_open"])
    doomed = await topics.decide([event(app.app_id, "bi-2", "legacy_open")])
    assert [d["CampaignId"] for d in doomed] == [doomed_id], "the doomed campaign must work before it is deleted"
    client.delete_campaign(ApplicationId=app.app_id, CampaignId=doomed_id)
    log_start = len(worker.log_text())

    good_campaign = await _control_record(boot, f"{prefix}campaigns", f"{app.app_id}/{good_id}")
    good_segment = await _control_record(boot, f"{prefix}segments", f"{app.app_id}/{app.segment_id}")
    control = _control_corpus(app.app_id, good_campaign, good_segment)
    events = _event_corpus(app.app_id)

    def good(n: int) -> dict[str, Any]:
        return event(app.app_id, ENDPOINTS[n % 2], "purchase", attributes={"n": str(n)})

    quiet = {
        "timestamp-far-past": _stamped(good(900), FAR_PAST),
        "deleted-campaign": event(app.app_id, "bi-2", "legacy_open"),
    }
    clamped = {"timestamp-2199": _stamped(good(901), FAR_FUTURE),
               "timestamp-9999-12-31": _stamped(good(902), LAST_INSTANT)}

    positions: dict[str, tuple[int, int]] = {}
    for bad in control:
        [positions[bad.name]] = await publish(boot, f"{prefix}{bad.topic}", [(bad.key, bad.value)],
                                              one_per_batch=deployment.embedded_broker)
    good_before: list[dict[str, Any]] = []
    records: list[tuple[bytes | None, bytes | None]] = []
    for n, bad in enumerate(events):
        good_before.append(good(n))
        records += [(good_before[-1]["EndpointId"].encode(), orjson.dumps(good_before[-1])), (bad.key, bad.value)]
    for extra in (*quiet.values(), *clamped.values()):
        good_before.append(good(len(good_before)))
        records += [(good_before[-1]["EndpointId"].encode(), orjson.dumps(good_before[-1])),
                    (extra["EndpointId"].encode(), orjson.dumps(extra))]
    landed = await publish(boot, f"{prefix}events", records, one_per_batch=deployment.embedded_broker)
    for n, bad in enumerate(events):
        positions[bad.name] = landed[2 * n + 1]

    every = control + events
    wanted = len(every)

    def all_there(found: list[dict[str, Any]]) -> bool:
        partial = Outcome(every, positions, found, [], [], {}, {}, {})
        return sum(1 for b in every if partial.letters_for(b, prefix)) >= wanted

    ids = [e["EventId"] for e in (*good_before, *quiet.values(), *clamped.values())]
    await topics.wait_processed(ids, timeout=120)
    try:
        letters = await topics.dead_letters(until=all_there, timeout=60)
    except TimeoutError:  # each missing one fails on its own below
        letters = await topics.dead_letters()
    # after all of that (the control garbage is applied: its dead letters are out), the good
    # campaign still decides
    good_after = [good(1000 + n) for n in range(6)]
    decided_after = await topics.decide(good_after, timeout=120)
    decisions: dict[str, list[dict[str, Any]]] = {}
    for decision in [*await topics.decisions(ids), *decided_after]:
        decisions.setdefault(decision["EventId"], []).append(decision)
    api = _api_cases(client, app)
    return Outcome(every, positions, letters, good_before, good_after, quiet, clamped, decisions, api, log_start)


CONTROL_NAMES = [b.name for b in _control_corpus("app", {"Id": "c"}, {"Id": "s"})]
EVENT_NAMES = [b.name for b in _event_corpus("app")]


def _check_letter(outcome: Outcome, name: str, prefix: str) -> dict[str, Any]:
    bad = next(b for b in outcome.bad if b.name == name)
    letters = outcome.letters_for(bad, prefix)
    assert len(letters) == 1, f"{name}: {len(letters)} dead letters (want exactly one)"
    letter = letters[0]
    assert bad.reason.lower() in f"{letter.get('Field') or ''} {letter['Reason']}".lower(), letter["Reason"]
    assert letter["ErrorClass"] and letter["ReceivedAt"]
    return letter


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_a_bad_control_record_lands_once_on_the_dead_letter_topic_with_its_reason(name, outcome, deployment):
    letter = _check_letter(outcome, name, deployment.prefix)
    bad = next(b for b in outcome.bad if b.name == name)
    if bad.key is not None and bad.key.isascii():
        assert letter.get("Key") == bad.key.decode()


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_a_bad_event_lands_once_on_the_dead_letter_topic_with_its_reason(name, outcome, deployment):
    letter = _check_letter(outcome, name, deployment.prefix)
    bad = next(b for b in outcome.bad if b.name == name)
    if letter.get("Value") is not None:  # the original bytes, whole, when the letter can hold them
        kept = (base64.b64decode(letter["Value"]) if letter.get("ValueEncoding") == "base64"
                else letter["Value"].encode())
        assert bad.value.startswith(kept)


@pytest.mark.parametrize("name", ["timestamp-far-past", "deleted-campaign"])
def test_an_event_outside_every_campaign_is_processed_without_decision_or_dead_letter(name, outcome, deployment):
    quiet = outcome.quiet[name]
    assert outcome.decisions.get(quiet["EventId"], []) == []
    assert [d for d in outcome.letters if d.get("Value") and quiet["EventId"] in d["Value"]] == []


@pytest.mark.parametrize("name", ["timestamp-2199", "timestamp-9999-12-31"])
def test_a_far_future_timestamp_is_clamped_and_decided(name, outcome):
    clamped = outcome.clamped[name]
    [decision] = outcome.decisions.get(clamped["EventId"], [None])
    assert decision is not None, f"{name} was not decided"
    decided_at = datetime.fromisoformat(decision["DecidedAt"].replace("Z", "+00:00"))
    assert abs(decided_at - datetime.now(UTC)) < timedelta(hours=1), f"{name} decided at {decided_at}, not clamped"


def test_every_good_event_around_the_bad_ones_is_decided_once(outcome):
    good = outcome.good_before + outcome.good_after
    assert [len(outcome.decisions.get(e["EventId"], [])) for e in good] == [1] * len(good)


@pytest.mark.parametrize("case", sorted(API_EXPECTED))
def test_bad_input_through_the_api_gets_a_pinpoint_error(case, outcome):
    assert outcome.api[case].startswith(API_EXPECTED[case]), outcome.api[case]


def test_the_worker_never_died_nor_restarted_an_agent(outcome, worker, figures):
    lines = crash_lines(worker, since=outcome.log_start)
    lettered = sum(1 for b in outcome.bad if outcome.letters_for(b, worker.deployment.prefix))
    figures.report(
        bad_inputs_tried=len(outcome.bad) + len(outcome.quiet) + len(outcome.clamped) + len(outcome.api),
        control_records=sum(1 for b in outcome.bad if b.topic != "events"),
        bad_events=sum(1 for b in outcome.bad if b.topic == "events"),
        dead_lettered=f"{lettered}/{len(outcome.bad)}", quiet_not_errors=len(outcome.quiet),
        clamped_and_decided=len(outcome.clamped), api_refusals=len(outcome.api),
        good_events_decided=len(outcome.good_before) + len(outcome.good_after),
        crash_lines=len(lines), worker_alive=worker.alive)
    assert worker.alive, worker.log_tail()
    assert lines == [], "\n".join(lines[:30])
