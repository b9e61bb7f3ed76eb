"""Fixtures of the fault suite: own deployments, workers that are always cleaned up, and the
figures each test reports (printed as they happen and again in the terminal summary, so a
plain ``pytest -m faults`` run shows them without ``-s``)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.launcher import Deployment, WorkerProcess
from tests.faults.private_kafka import PrivateKafka
from tests.integration.workers import CREDENTIALS

_FIGURES: list[str] = []


class Figures:
    """One summary line per test: ``name: key value, key value, …``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def report(self, **figures: Any) -> str:
        line = f"{self.name}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in figures.items())
        _FIGURES.append(line)
        print(f"\n[faults] {line}", flush=True)
        return line


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    return Figures(request.node.name)


@pytest.fixture
def make_deployment(kafka_bootstrap: str, broker_kind: str, tmp_path: Path) -> Callable[..., Deployment]:
    """``make_deployment(partitions=8, bootstrap=None, **env)``: own topics and group per call."""

    def make(partitions: int = 8, bootstrap: str | None = None, **extra_env: str) -> Deployment:
        tag = uuid.uuid4().hex[:8]
        return Deployment(
            bootstrap=bootstrap or kafka_bootstrap,
            credentials=CREDENTIALS,
            prefix=f"flt{tag}.",
            app_id=f"inapp-faults-{tag}",
            partitions=partitions,
            data_dir=tmp_path / f"deployment-{tag}",
            extra_env=extra_env,
            embedded_broker=broker_kind == "tansu",
        )

    return make


class Workers:
    """Starts workers and stops every one of them at the end of the test, whatever happens."""

    def __init__(self) -> None:
        self.started: list[WorkerProcess] = []

    def start(self, deployment: Deployment, timeout: float = 180.0) -> WorkerProcess:
        worker = WorkerProcess(deployment)
        self.started.append(worker)
        return worker.start(timeout=timeout)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.stop(timeout=20)


@pytest.fixture
def workers() -> Iterator[Workers]:
    running = Workers()
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def java_kafka(broker_kind: str) -> str:
    """Skip unless a private Apache Kafka can be started here (``java`` on PATH, and the
    session broker is Apache Kafka, so its jars are in use)."""
    if broker_kind == "tansu":
        pytest.skip("the embedded Tansu broker is memory-only: a restart loses every topic, "
                    "so there is nothing to reconnect to (runs on Apache Kafka in CI)")
    if broker_kind != "apache-kafka":
        pytest.skip(f"the session broker is {broker_kind!r}, not Apache Kafka "
                    "(INAPP_BROKER_KIND=apache-kafka): no private broker to restart")
    java = shutil.which("java")
    if java is None:
        pytest.skip("no `java` on PATH: cannot start a private Apache Kafka broker")
    return java


@pytest.fixture
def private_kafka(java_kafka: str, tmp_path: Path) -> Iterator[PrivateKafka]:
    """An Apache Kafka broker of this test only (own run dir, ports, data, cluster id)."""
    broker = PrivateKafka(tmp_path / "kafka").start()
    try:
        yield broker
    finally:
        broker.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("fault suite figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
