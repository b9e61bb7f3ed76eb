"""kill -9 a worker three times during a 100,000-event run, restarting it each time.

The model is tests/integration/test_engine_crash.py, at scale and with the whole oracle of
``tests.faults.workload``: every triggering event ends with its decision (repeats carry the
identical DecisionId and body, and are counted), no cap is exceeded, and the final cap state,
GetInAppMessages and the campaign KPIs equal a replay of the same events through the pure core.

On the embedded broker (one record per produce batch, see README) the run is scaled down to
``INAPP_FAULTS_EMBEDDED_EVENTS`` (default 20,000) and the test says so in its figures; on
Apache Kafka it is the full ``INAPP_FAULTS_EVENTS`` (default 100,000).
"""

from __future__ import annotations

import os
import time

import pytest

from tests.faults.workload import Workload

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

EVENTS = int(os.environ.get("INAPP_FAULTS_EVENTS", "100000"))
EMBEDDED_EVENTS = int(os.environ.get("INAPP_FAULTS_EMBEDDED_EVENTS", "20000"))
ENDPOINTS = int(os.environ.get("INAPP_FAULTS_ENDPOINTS", "2000"))
KILLS = int(os.environ.get("INAPP_FAULTS_KILLS", "3"))


def test_three_sigkills_during_a_100k_event_run_lose_nothing_and_count_nothing_twice(
        make_deployment, workers, broker_kind, figures):
    started = time.monotonic()
    deployment = make_deployment(partitions=8)
    events = EMBEDDED_EVENTS if broker_kind == "tansu" else EVENTS
    scaled = f" (scaled down from {EVENTS} on the embedded broker)" if events != EVENTS else ""
    worker = workers.start(deployment)
    workload = Workload.create(deployment, worker.base_url, endpoints=ENDPOINTS, events=events)
    workload.replay()
    workload.publish()

    kill_points = []
    for kill in range(1, KILLS + 1):
        target = len(workload.events) * kill // (KILLS + 1)
        workload.wait_processed(target, timeout=600)
        assert worker.alive, f"the worker died on its own before kill {kill}:\n{worker.log_tail()}"
        kill_points.append(workload.processed())
        worker.kill()  # SIGKILL: no flush, no commit, no leaving the group
        worker = workers.start(deployment)
    workload.wait_caught_up(timeout=900, alive=lambda: worker.alive)

    checked = workload.verify(worker.base_url)
    figures.report(
        events=f"{len(workload.events)}{scaled}", endpoints=ENDPOINTS, broker=broker_kind,
        kills=f"{len(kill_points)} kill -9 (after {', '.join(map(str, kill_points))} processed)",
        processed_incl_repeats=workload.processed(), decisions_checked=checked.decisions,
        repeats=checked.repeats, caps_compared=checked.caps_compared,
        listings_compared=checked.listings_compared, slowest_listing_s=checked.slowest_listing,
        kpis=" ".join(f"{k}={v}" for k, v in checked.kpis.items()),
        seconds=round(time.monotonic() - started))
