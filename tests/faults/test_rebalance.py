"""A second worker joins mid-run, then one leaves mid-run (SIGTERM, and SIGKILL): partitions
and their state (endpoints, caps, campaign counters) move through the changelogs, and the
results stay exact: unique decisions, final caps and KPIs equal the pure core's replay.

The worker that leaves is the first one, so state moves both ways: from it to the newcomer
when the group grows, and all of it to the newcomer when the first one goes.
"""

from __future__ import annotations

import os
import re
import time
import urllib.request

import pytest

from engine.launcher import WorkerProcess

from tests.faults.workload import Workload
from tests.integration.engine_helpers import crash_lines

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

EVENTS = int(os.environ.get("INAPP_FAULTS_REBALANCE_EVENTS", "30000"))
EMBEDDED_EVENTS = int(os.environ.get("INAPP_FAULTS_EMBEDDED_EVENTS", "20000")) // 2
ENDPOINTS = 1000
# events a second: about 30 s of traffic, across a join and a leave of ~5-15 s each
RATE = float(os.environ.get("INAPP_FAULTS_REBALANCE_RATE", "1000"))
EMBEDDED_RATE = 250.0


def _owned(worker: WorkerProcess, topic: str) -> set[int]:
    """Partitions of ``topic`` the worker's ingest reads now (its /metrics page)."""
    page = urllib.request.urlopen(f"{worker.base_url}/metrics", timeout=5).read().decode()
    found = set()
    for line in page.splitlines():
        if line.startswith("inapp_ingest_position{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if labels.get("topic") == topic:
                found.add(int(labels["partition"]))
    return found


def _wait_assignment(workload: Workload, members: list[WorkerProcess],
                     timeout: float = 180.0) -> tuple[float, list[list[int]]]:
    """Until each of ``members`` reads some events partitions, together all of them, none
    twice; (seconds, partitions per member)."""
    deployment = workload.deployment
    topic = workload.topic("events")
    t0 = time.monotonic()
    while True:
        owned = [sorted(_owned(worker, topic)) for worker in members]
        every = [p for parts in owned for p in parts]
        if all(owned) and sorted(every) == list(range(deployment.partitions)):
            return time.monotonic() - t0, owned
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"no {len(members)}-member assignment in {timeout:.0f}s: {owned}")
        time.sleep(0.2)


@pytest.mark.parametrize("leaving", ["sigterm", "sigkill"])
def test_a_worker_joins_then_one_leaves_mid_run_and_results_stay_exact(
        leaving, make_deployment, workers, broker_kind, figures):
    started = time.monotonic()
    deployment = make_deployment(partitions=8)
    events = EMBEDDED_EVENTS if broker_kind == "tansu" else EVENTS
    first = workers.start(deployment)
    workload = Workload.create(deployment, first.base_url, endpoints=ENDPOINTS, events=events)
    workload.replay()
    total = len(workload.events)
    # paced, so that events keep arriving while the group grows and shrinks (one worker
    # drains a backlog faster than a rebalance takes)
    publisher = workload.publish_in_background(rate=(EMBEDDED_RATE if broker_kind == "tansu" else RATE))

    workload.wait_processed(total // 4, timeout=600)
    joined_at = workload.processed()
    second = workers.start(deployment)
    join_seconds, split = _wait_assignment(workload, [first, second])
    # both work for a while: the second must take over partitions and their state
    workload.wait_processed(min(total - 1, joined_at + total // 4), timeout=600)
    left_at = workload.processed()
    assert left_at < total, "the run ended before a worker left (make it longer)"
    if leaving == "sigterm":
        first.stop()
    else:
        first.kill()
    leave_seconds, _ = _wait_assignment(workload, [second])
    publisher.join(timeout=600)
    assert not publisher.is_alive(), "publishing did not end"
    workload.wait_caught_up(timeout=600, alive=lambda: second.alive)

    checked = workload.verify(second.base_url)
    assert second.alive
    if leaving == "sigterm":
        # nobody crashed: the leaving worker committed what it processed before it left, so
        # nothing was decided twice (repeats are for crashes only)
        assert checked.repeats == 0, f"{checked.repeats} decisions repeated without a crash"
    restarts = [line for line in crash_lines(second) if "Restarting dead" in line or "Crashed reason" in line]
    assert restarts == [], "an agent crashed in the worker that stayed:\n" + "\n".join(restarts[:20])
    figures.report(
        events=total, broker=broker_kind, leaving=leaving, joined_after=joined_at, left_after=left_at,
        partitions_split="/".join(str(len(p)) for p in split),
        join_rebalance_s=round(join_seconds, 1), leave_rebalance_s=round(leave_seconds, 1),
        processed_incl_repeats=workload.processed(), decisions_checked=checked.decisions,
        repeats=checked.repeats, caps_compared=checked.caps_compared,
        kpis=" ".join(f"{k}={v}" for k, v in checked.kpis.items()),
        seconds=round(time.monotonic() - started))
