"""Stop and restart the broker under a running worker: it reconnects by itself, and nothing
is lost or decided twice (the unique decisions, final caps and KPIs equal the replay).

Apache Kafka only, on a broker of this test's own (``scripts/kafka/kafka.py restart``: same
ports, same data dir, same cluster id), so the session broker other tests use is untouched.
The embedded Tansu broker keeps everything in memory: a restart loses every topic, so there
is nothing to reconnect to and the test is skipped there.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.faults.workload import Workload
from tests.integration.engine_helpers import crash_lines

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.faults]

EVENTS = int(os.environ.get("INAPP_FAULTS_RESTART_EVENTS", "30000"))
ENDPOINTS = 1000


def test_a_broker_restart_mid_run_loses_nothing_and_the_worker_reconnects_by_itself(
        private_kafka, make_deployment, workers, figures):
    started = time.monotonic()
    deployment = make_deployment(partitions=8, bootstrap=private_kafka.bootstrap)
    worker = workers.start(deployment)
    pid = worker.process.pid
    workload = Workload.create(deployment, worker.base_url, endpoints=ENDPOINTS, events=EVENTS)
    workload.replay()

    # the first half is in Kafka and being processed when the broker goes away; the second
    # half is published after it is back: the worker must pick it up without help
    half = len(workload.events) // 2
    workload.publish(workload.events[:half])
    workload.wait_processed(half // 2, timeout=600)
    before = workload.processed()
    log_mark = len(worker.log_text())
    down = private_kafka.restart()
    assert worker.alive, f"the worker died with the broker:\n{worker.log_tail()}"
    workload.publish(workload.events[half:])
    workload.wait_caught_up(timeout=600, alive=lambda: worker.alive)

    assert worker.alive and worker.process.pid == pid, "the same worker process must carry on"
    checked = workload.verify(worker.base_url)
    restarts = [line for line in crash_lines(worker, since=log_mark)
                if "Restarting dead" in line or "Crashed reason" in line]
    assert restarts == [], "an agent crashed during the broker restart:\n" + "\n".join(restarts[:20])
    figures.report(
        events=len(workload.events), broker="private apache-kafka", broker_restarts=1,
        restart_seconds=round(down, 1), processed_before_restart=before,
        processed_incl_repeats=workload.processed(), decisions_checked=checked.decisions,
        repeats=checked.repeats, lost=0, caps_compared=checked.caps_compared,
        kpis=" ".join(f"{k}={v}" for k, v in checked.kpis.items()),
        # aiokafka retries connections in a tight loop while the broker is down (aio-libs/aiokafka#496)
        worker_error_lines_while_down=len(crash_lines(worker, since=log_mark)),
        seconds=round(time.monotonic() - started))
