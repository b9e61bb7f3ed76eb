"""Bad input never stops the engine and is never silently lost (PRODUCT.md semantics 10).

Bad records are mixed into good traffic on the events topic: each must land on
``<prefix>dead-letter`` with its reason, the original bytes and where it came from
(``topics.wire.DeadLetter``), while every good event around them is decided and the worker
neither dies nor restarts an agent.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from tests.integration.engine_helpers import (
    BadRecord,
    EngineTopics,
    MixedTraffic,
    PinpointApp,
    crash_lines,
    event,
)
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = ("dl-1", "dl-2")


def good_event(app_id: str, **changes: Any) -> dict[str, Any]:
    """A triggering event for dl-1, with top-level or ``Event`` members replaced, or
    removed when the new value is None."""
    record = event(app_id, "dl-1", "purchase", attributes={"sku": "A-1"}, metrics={"price": 9.5})
    for name, value in changes.items():
        target = record if name in record else record["Event"]
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return record


def bad_records(app_id: str) -> list[BadRecord]:
    def changed(name: str, reason: str, field: str | None, **changes: Any) -> BadRecord:
        return BadRecord(name, b"dl-1", orjson.dumps(good_event(app_id, **changes)), reason, field)

    return [
        BadRecord("json-array", b"dl-1", b"[" + orjson.dumps(good_event(app_id)) + b"]", "JSON object"),
        BadRecord("json-string", b"dl-1", b'"purchase"', "JSON object"),
        BadRecord("json-null", b"dl-1", b"null", "JSON object"),
        BadRecord("no-value", b"dl-1", None, "empty"),
        changed("missing-event-type", "required", "Event.EventType", EventType=None),
        changed("empty-event-type", "at least 1 character", "Event.EventType", EventType=""),
        changed("missing-timestamp", "required", "Event.Timestamp", Timestamp=None),
        changed("timestamp-not-a-date", "ISO-8601", "Event.Timestamp", Timestamp="yesterday"),
        changed("timestamp-a-number", "string", "Event.Timestamp", Timestamp=1764352800),
        changed("metric-a-string", "number", "Event.Metrics.price", Metrics={"price": "lots"}),
        changed("attribute-a-number", "string", "Event.Attributes.sku", Attributes={"sku": 5}),
        changed("event-a-list", "dictionary", "Event", Event=["purchase"]),
        changed("missing-endpoint-id", "required", "EndpointId", EndpointId=None),
        changed("missing-event-id", "required", "EventId", EventId=None),
        changed("unknown-application", "unknown application", "ApplicationId", ApplicationId="no-such-app"),
        changed("unknown-endpoint", "unknown endpoint", "EndpointId", EndpointId="nobody"),
    ]


BAD_NAMES = [b.name for b in bad_records("app")]


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "dead-letters")
    created.endpoints({eid: {"Demographic": {"Timezone": "UTC"}} for eid in ENDPOINTS})
    created.campaign("good", ["purchase"], Limits={"Session": 0, "Daily": 0, "Total": 0})
    return created


@pytest.fixture(scope="module")
def topics(deployment) -> EngineTopics:
    return EngineTopics(deployment.bootstrap, deployment.prefix)


@pytest.fixture(scope="module")
async def traffic(app, topics, worker) -> MixedTraffic:
    return await MixedTraffic.run(
        topics, worker, bad_records(app.app_id),
        lambda n: event(app.app_id, ENDPOINTS[n % 2], "purchase", attributes={"n": str(n)}))


def check_dead_letter(traffic: MixedTraffic, name: str, topics: EngineTopics) -> None:
    """One dead letter, naming where the record came from, why, and what it was."""
    bad = next(b for b in traffic.bad if b.name == name)
    position = traffic.positions[name]
    letters = traffic.letters_of(name)
    assert len(letters) == 1, f"{name}: {len(letters)} dead letters"
    letter = letters[0]
    assert letter["SourceTopic"] == topics.topic("events")
    assert (letter["SourcePartition"], letter["SourceOffset"]) == (position.partition, position.offset)
    assert letter["Key"] == (bad.key.decode() if bad.key is not None else None)
    assert bad.reason.lower() in f"{letter.get('Field', '')} {letter['Reason']}".lower()
    if bad.field is not None:
        assert letter.get("Field") == bad.field
    assert letter["ErrorClass"] and letter["ReceivedAt"]
    if bad.value is None:
        assert letter.get("Value") is None
    elif letter.get("ValueEncoding", "utf-8") == "base64":
        assert base64.b64decode(letter["Value"]) == bad.value
    else:
        assert letter["Value"].encode() == bad.value


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_record_lands_once_on_the_dead_letter_topic_with_its_reason(name, traffic, topics):
    check_dead_letter(traffic, name, topics)


def test_every_good_event_around_the_bad_ones_is_decided_once(traffic):
    assert [len(traffic.decisions.get(e["EventId"], [])) for e in traffic.good] == [1] * len(traffic.good)


async def test_the_worker_neither_died_nor_restarted_an_agent(traffic, worker, app, topics):
    later = [event(app.app_id, eid, "purchase") for eid in ENDPOINTS]
    assert len(await topics.decide(later)) == len(later)  # still deciding after all that
    assert worker.alive
    assert crash_lines(worker, since=traffic.log_start) == []
