"""Shared fixtures: one broker per test session, unique names per test.

The broker is the one in ``KAFKA_BOOTSTRAP_SERVERS`` when set (CI sets it to Apache Kafka),
otherwise an embedded Tansu broker started for the session. Tests marked ``transactions``
run only where the broker supports aiokafka's transactional producer; the session summary
says how many were not run and why.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from engine.brokers import Broker, EmbeddedBroker, ExternalBroker, wait_until_ready

_SKIPPED_FOR_TRANSACTIONS: list[str] = []
_BROKER_DESCRIPTION: dict[str, str] = {}


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        wait_until_ready(configured, timeout=60)
        yield ExternalBroker(configured)
        return
    embedded = EmbeddedBroker().start()
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(broker: Broker) -> str:
    return broker.bootstrap_servers


async def _transactions_work(bootstrap: str) -> bool:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=f"inapp-probe-{uuid.uuid4().hex}",
        request_timeout_ms=10000,
    )
    try:
        await asyncio.wait_for(producer.start(), timeout=20)
    except (KafkaError, asyncio.TimeoutError, OSError):
        return False
    finally:
        await producer.stop()
    return True


@pytest.fixture(scope="session")
def broker_kind(broker: Broker) -> str:
    """"apache-kafka", "tansu", or "external" (an unidentified broker)."""
    if broker.kind == "tansu":
        return "tansu"
    return os.environ.get("INAPP_BROKER_KIND", "external")


@pytest.fixture(scope="session")
def broker_has_transactions(kafka_bootstrap: str) -> bool:
    if _running_loop():
        return _probe_in_thread(kafka_bootstrap)
    return asyncio.run(_transactions_work(kafka_bootstrap))


def _running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _probe_in_thread(bootstrap: str) -> bool:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(_transactions_work(bootstrap))).result()


@pytest.fixture(autouse=True)
def _transactions_gate(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("transactions") is None:
        return
    if not request.getfixturevalue("broker_has_transactions"):
        kind = request.getfixturevalue("broker_kind")
        _SKIPPED_FOR_TRANSACTIONS.append(request.node.nodeid)
        _BROKER_DESCRIPTION["kind"] = kind
        pytest.skip(f"the {kind} broker does not support Kafka transactions for aiokafka")


_counter = itertools.count()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """unique_name("events") -> "t-events-<test>-<n>-<random>": topics and groups per test."""
    test = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40].strip("-")

    def make(prefix: str) -> str:
        return f"t-{prefix}-{test}-{next(_counter)}-{uuid.uuid4().hex[:8]}"

    return make


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED_FOR_TRANSACTIONS:
        kind = _BROKER_DESCRIPTION.get("kind", "configured")
        terminalreporter.write_line(
            f"{len(_SKIPPED_FOR_TRANSACTIONS)} test(s) needing Kafka transactions were not run: "
            f"the {kind} broker lacks transactions for aiokafka (CI runs them on Apache Kafka).",
            yellow=True,
        )
