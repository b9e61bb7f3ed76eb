"""A second worker joins mid-run, then one leaves mid-run (SIGTERM, and SIGKILL): partitions
and their state (endpoints, caps, campaign counters) move through the changelogs, and the
results stay exact: unique decisions, final caps and KPIs equal the pure core's replay.

The worker that leaves is the first one, so state moves both ways: from it to the newcomer
when the group grows, and all of it to the newcomer when the first one goes.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from tests.faults.workload import Workload
from tests.integration.engine_helpers import crash_lines

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

EVENTS = int(os.environ.get("INAPP_FAULTS_REBALANCE_EVENTS", "30000"))
EMBEDDED_EVENTS = int(os.environ.get("INAPP_FAULTS_EMBEDDED_EVENTS", "20000")) // 2
ENDPOINTS = 1000
# events a second: about 30 s of traffic, across a join and a leave of ~5-15 s each
RATE = float(os.environ.get("INAPP_FAULTS_REBALANCE_RATE", "1000"))
EMBEDDED_RATE = 250.0


async def _assignment(bootstrap: str, group: str, topic: str) -> list[list[int]]:
    """Per group member, the partitions of ``topic`` the group's last sync gave it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    owned = []
    for response in described:
        for group_description in response.groups:
            for member in group_description[5]:
                raw = member[-1]  # member_assignment, the last field in every version
                decoded = ConsumerProtocolMemberAssignment.decode(raw) if raw else None
                owned.append(sorted(p for t, parts in (decoded.assignment if decoded else []) if t == topic
                                    for p in parts))
    return owned


def _wait_assignment(workload: Workload, members: int, timeout: float = 180.0) -> tuple[float, list[list[int]]]:
    """Until the group has ``members`` members, each owning partitions, all of them assigned;
    (seconds, partitions per member). Workers own the partitions of the tables (the inputs
    are co-partitioned with them and read by each worker's ingest)."""
    deployment = workload.deployment
    t0 = time.monotonic()
    while True:
        owned = asyncio.run(_assignment(deployment.bootstrap, deployment.app_id,
                                        f"{deployment.app_id}-endpoints-changelog"))
        if len(owned) == members and all(owned) and sum(map(len, owned)) == deployment.partitions:
            return time.monotonic() - t0, owned
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"no {members}-member assignment in {timeout:.0f}s: {owned}")
        time.sleep(0.5)


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
    join_seconds, split = _wait_assignment(workload, 2)
    # both work for a while: the second must take over partitions and their state
    workload.wait_processed(min(total - 1, joined_at + total // 4), timeout=600)
    left_at = workload.processed()
    assert left_at < total, "the run ended before a worker left (make it longer)"
    if leaving == "sigterm":
        first.stop()
    else:
        first.kill()
    leave_seconds, _ = _wait_assignment(workload, 1)
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
