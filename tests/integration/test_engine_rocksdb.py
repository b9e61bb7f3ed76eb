"""Production state store (rocksdict): caps survive kill -9 with the local store kept, and
come back from the changelog on a worker with an empty data dir."""

from __future__ import annotations

import dataclasses

import pytest

from engine.launcher import WorkerProcess
from engine.scenario import BlogScenario, app_event
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


async def _launch_remaining(blog: BlogScenario, expected_decisions: int) -> dict:
    await blog.publish([app_event(blog.app_id, "111", "app_launch")])
    decisions = await blog.collect_decisions(expected=expected_decisions, quiet=1.0)
    assert len(decisions) == expected_decisions
    return decisions[-1]["Remaining"]


async def test_caps_survive_restarts_on_rocksdb(deployment):
    rocks = dataclasses.replace(deployment, store="rocksdb")
    worker = WorkerProcess(rocks).start()
    try:
        blog = BlogScenario(pinpoint_client(worker.base_url), rocks.bootstrap, prefix=rocks.prefix)
        blog.create_resources()
        assert (await _launch_remaining(blog, 1))["Total"] == 9
        assert any((rocks.data_dir / f"worker-{worker.port}").rglob("*.sst")) or \
            any((rocks.data_dir / f"worker-{worker.port}").rglob("CURRENT")), "no RocksDB files written"

        worker.kill()  # same port, same data dir: the local store is reused
        worker = WorkerProcess(rocks, port=worker.port).start()
        assert (await _launch_remaining(blog, 2))["Total"] == 8

        worker.stop()  # a new port means an empty data dir: everything from the changelog
        worker = WorkerProcess(rocks).start()
        assert (await _launch_remaining(blog, 3))["Total"] == 7
    finally:
        worker.stop()
