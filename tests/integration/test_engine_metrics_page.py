"""A worker's /metrics page (Prometheus text): what it processed, decided and dead-lettered,
and which input partitions its ingest reads, at what position."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.integration.engine_helpers import EngineTopics, PinpointApp, event
from tests.integration.workers import pinpoint_client

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        page = response.read().decode()
    samples = {}
    for line in page.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        assert match, line
        name, labels, value = match.groups()
        samples[(name, tuple(sorted(re.findall(r'(\w+)="([^"]*)"', labels or ""))))] = float(value)
    return samples


async def test_the_metrics_page_counts_what_the_worker_did(worker, deployment):
    before = _scrape(worker.base_url)
    app = PinpointApp.create(pinpoint_client(worker.base_url), "metrics-page")
    app.endpoints({"m-1": {"Demographic": {"Timezone": "UTC"}}})
    app.campaign("promo", ["purchase"], Limits={"Session": 0, "Daily": 0, "Total": 0})
    topics = EngineTopics(deployment.bootstrap, deployment.prefix)
    events = [event(app.app_id, "m-1", "purchase") for _ in range(3)] + [event(app.app_id, "m-1", "browse")]
    await topics.publish(events)
    await topics.publish([(b"m-1", b"{not json")])
    await topics.wait_processed([e["EventId"] for e in events])
    await topics.dead_letters(until=lambda letters: len(letters) >= 1)

    events_topic = f"{deployment.prefix}events"
    after = _scrape(worker.base_url)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("inapp_ingest_records_total", topic=events_topic) >= 5
    assert grew("inapp_decisions_total") == 3
    assert grew("inapp_dead_letters_total", topic=events_topic) == 1
    positions = {dict(labels)["partition"]: value for (name, labels), value in after.items()
                 if name == "inapp_ingest_position" and dict(labels)["topic"] == events_topic}
    assert sorted(map(int, positions)) == list(range(deployment.partitions))  # one worker reads them all
    assert sum(positions.values()) >= 5
