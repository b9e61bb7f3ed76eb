"""Integration fixtures: real worker processes on the session broker."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from engine.launcher import Deployment, WorkerProcess
from tests.integration.workers import CREDENTIALS


@pytest.fixture(scope="module")
def deployment(kafka_bootstrap: str, broker_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A fresh engine deployment (own topics and consumer group) for one test module."""
    tag = uuid.uuid4().hex[:8]
    return Deployment(
        bootstrap=kafka_bootstrap,
        credentials=CREDENTIALS,
        prefix=f"it{tag}.",
        app_id=f"inapp-it-{tag}",
        partitions=4,
        data_dir=tmp_path_factory.mktemp("deployment"),
        embedded_broker=broker_kind == "tansu",
    )


@pytest.fixture(scope="module")
def worker(deployment: Deployment) -> Iterator[WorkerProcess]:
    process = WorkerProcess(deployment).start()
    try:
        yield process
    finally:
        process.stop()
