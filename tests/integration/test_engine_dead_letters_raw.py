"""Raw bytes and over-quota events published straight to Kafka (PRODUCT.md semantics 10).

* Bytes that are not JSON (malformed, or not UTF-8) reach the dead-letter topic (invalid
  UTF-8 as base64) without restarting the events agent.
* Events over Pinpoint's per-event quotas (reference §6.2: at most 40 attribute and metric
  keys, names up to 50 characters, attribute values up to 200) are refused on the topic as
  PutEvents refuses them: one rule, in ``rules.models.Event``.
"""

from __future__ import annotations

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
from tests.integration.test_engine_dead_letters import check_dead_letter, good_event
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ENDPOINTS = ("dlb-1", "dlb-2")


def bad_records(app_id: str) -> list[BadRecord]:
    def over(name: str, reason: str, **changes: object) -> BadRecord:
        record = good_event(app_id, **changes)
        record["EndpointId"] = "dlb-1"
        return BadRecord(name, b"dlb-1", orjson.dumps(record), reason)

    good_bytes = orjson.dumps({**good_event(app_id), "EndpointId": "dlb-1"})
    return [
        BadRecord("malformed-json", b"dlb-1", good_bytes[:40], "not JSON"),
        BadRecord("invalid-utf8", b"dlb-1", good_bytes.replace(b"A-1", b"A-\xff\xfe"), "not JSON"),
        over("41-attributes", "40", Attributes={f"a{n}": "x" for n in range(41)}),
        over("30-attributes-and-11-metrics", "40", Attributes={f"a{n}": "x" for n in range(30)},
             Metrics={f"m{n}": 1.0 for n in range(11)}),
        over("attribute-value-of-201", "200", Attributes={"sku": "x" * 201}),
        over("attribute-name-of-51", "50", Attributes={"n" * 51: "x"}),
    ]


BAD_NAMES = [b.name for b in bad_records("app")]


@pytest.fixture(scope="module")
def app(worker) -> PinpointApp:
    created = PinpointApp.create(pinpoint_client(worker.base_url), "dead-letter-bugs")
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


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_record_lands_once_on_the_dead_letter_topic_with_its_reason(name, traffic, topics):
    check_dead_letter(traffic, name, topics)


def test_invalid_utf8_is_kept_as_base64(traffic):
    [letter] = traffic.letters_of("invalid-utf8")
    assert letter["ValueEncoding"] == "base64"


async def test_no_oversized_event_is_decided(traffic, topics):
    oversized = [orjson.loads(b.value)["EventId"] for b in traffic.bad if b.reason in ("40", "50", "200")]
    assert await topics.decisions(oversized) == []


def test_the_worker_neither_died_nor_restarted_an_agent(traffic, worker):
    assert worker.alive
    assert crash_lines(worker, since=traffic.log_start) == []
