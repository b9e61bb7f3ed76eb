"""One benchmark run: the phases (a)-(f) of issue 6 against one broker, in order.

(a) raw yardstick, then one `inapp worker` process (engine.launcher) is started, the workload
is loaded through its API and topics, and (b) throughput, (c) latency, (d) GetInAppMessages,
(e) memory and state size, (f) kill -9 recovery are measured on that same worker. Results
are plain dicts (the JSON of ``bench.run``).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from tqdm import tqdm

from bench.api_load import CREDENTIALS, create_resources, get_in_app_messages_load, percentiles, pinpoint_client
from bench.profile import Profiler
from bench.kafka_io import OutputWatcher, Tracked, create_topics, paced, passthrough, publish, topic_sizes
from bench.workload import EventStream, OutgoingEvent, Sizes, endpoint_id, endpoint_requests
from engine.api.endpoints import endpoint_record
from engine.ingest import ingest_group
from engine.launcher import Deployment, WorkerProcess
from rules.models import EndpointRequest
from topics.wire import encode_json

__all__ = ["Options", "run_benchmark"]

PLACEHOLDER_APP = "0" * 32  # the yardstick runs before the app exists; ids are 32 hex chars


@dataclass(frozen=True)
class Options:
    sizes: Sizes
    bootstrap: str
    broker_kind: str
    partitions: int = 4
    store: str = "memory"
    seed: int = 7
    profile: Path | None = None  # py-spy raw output of phase (b), when py-spy is installed
    broker_pid: int | None = None  # the embedded broker's process, for its CPU time
    campaigns_via_api: int = 20  # the rest are written to the control topic as the API would


def bar(total: int | float | None, desc: str, unit: str = "ev") -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5 if sys.stderr.isatty() else 5.0, leave=True)


def rss(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process so far, from /proc/<pid>/stat."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(pids: dict[str, int | None]) -> Callable[[], dict[str, float | None]]:
    """Starts counting now; the returned function gives CPU seconds used since, per name."""
    start = {name: cpu_seconds(pid) for name, pid in pids.items()}

    def since() -> dict[str, float | None]:
        used: dict[str, float | None] = {}
        for name, pid in pids.items():
            now, then = cpu_seconds(pid), start[name]
            used[name] = round(now - then, 2) if now is not None and then is not None else None
        return used

    return since


@contextmanager
def phase(results: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    section: dict[str, Any] = {}
    results[name] = section
    started = time.perf_counter()
    try:
        yield section
    finally:
        section["phase_seconds"] = round(time.perf_counter() - started, 2)


async def run_benchmark(options: Options, results: dict[str, Any]) -> dict[str, Any]:
    """Runs every phase, filling ``results`` as it goes (so a failure leaves what was measured)."""
    sizes = options.sizes
    tag = uuid.uuid4().hex[:6]
    prefix = f"bench{tag}."
    deployment = Deployment(
        bootstrap=options.bootstrap, credentials=CREDENTIALS, prefix=prefix, app_id=f"inapp-bench-{tag}",
        partitions=options.partitions, store=options.store, data_dir=Path(tempfile.mkdtemp(prefix="inapp-bench-")),
        embedded_broker=options.broker_kind == "tansu",
    )
    results.update({"topic_prefix": prefix, "worker_data_dir": str(deployment.data_dir)})
    run_started = time.perf_counter()

    stream = EventStream(PLACEHOLDER_APP, sizes.endpoints, sizes.event_types, options.seed, tag)
    with phase(results, "generate") as out:
        progress = bar(sizes.events, "generate events")
        backlog: list[OutgoingEvent] = []
        while len(backlog) < sizes.events:
            backlog += stream.take(min(50_000, sizes.events - len(backlog)))
            progress.update(len(backlog) - progress.n)
        progress.close()
        out["event_bytes_avg"] = round(sum(len(e.value) for e in backlog) / len(backlog), 1)

    with phase(results, "a_yardstick") as out:
        await _yardstick(options, prefix, backlog, out)

    watcher = OutputWatcher(options.bootstrap, prefix, deployment.app_id, options.partitions)
    worker = WorkerProcess(deployment)
    memory: dict[str, Any] = {}
    try:
        with phase(results, "load") as out:
            started = time.perf_counter()
            await start_worker(worker, timeout=300)
            out["worker_ready_seconds"] = round(time.perf_counter() - started, 2)
            assert worker.process is not None
            memory["ready"] = rss(worker.process.pid)
            await watcher.start()
            app_id = await _load(options, worker, watcher, out)
            memory["endpoints_loaded"] = rss(worker.process.pid)
        app_bytes = app_id.encode()
        backlog = [OutgoingEvent(e.event_id, e.key, e.value.replace(PLACEHOLDER_APP.encode(), app_bytes, 1))
                   for e in backlog]
        stream.app_id = app_id

        with phase(results, "b_throughput") as out:
            await _throughput(options, prefix, backlog, watcher, worker, out)
            memory["after_backlog"] = rss(worker.process.pid)
        del backlog

        with phase(results, "c_latency") as out:
            rate = max(50.0, 0.5 * results["b_throughput"]["events_per_s"])
            await _latency(options, prefix, stream, watcher, rate, out)

        with phase(results, "d_get_in_app_messages") as out:
            ids = [endpoint_id(i) for i in range(0, sizes.endpoints, max(1, sizes.endpoints // 2000))]
            progress = bar(None, "GetInAppMessages", unit="req")
            api_profile = Path(f"{options.profile}.api") if options.profile else None
            profiler = _start_profiler(api_profile, worker)
            cpu = cpu_used({"worker": worker.process.pid, "broker": options.broker_pid, "bench": os.getpid()})
            out.update(await get_in_app_messages_load(worker.base_url, app_id, ids, clients=8,
                                                      seconds=sizes.api_seconds,
                                                      on_progress=lambda n: progress.update(n - progress.n)))
            out["cpu_seconds"] = cpu()
            _stop_profiler(profiler, out)
            progress.close()
            memory["after_api"] = rss(worker.process.pid)

        with phase(results, "e_state") as out:
            out["worker_rss_bytes"] = memory
            await _state_size(options, deployment, sizes, out)

        with phase(results, "f_recovery") as out:
            out["changelog_records_before_kill"] = sum(t["records"] for t in results["e_state"]["changelogs"].values())
            worker = await _recovery(deployment, worker, watcher, stream,
                                     results["c_latency"].pop("events_log_end"), out)
            assert worker.process is not None
            out["worker_rss_after_restore_bytes"] = rss(worker.process.pid)

        results["totals"] = {"decisions": watcher.decisions, "distinct_decisions": len(watcher.decision_ids),
                             "dead_letters": watcher.dead_letters, "dead_letter_samples": watcher.dead_letter_samples}
    finally:
        await watcher.stop()
        worker.stop()
    results["run_seconds"] = round(time.perf_counter() - run_started, 1)
    return results


async def start_worker(worker: WorkerProcess, timeout: float, tick: Callable[[], Any] | None = None) -> None:
    """Start a worker without blocking the loop; fail fast (with its log) if it dies."""
    failure: list[BaseException] = []

    def start() -> None:
        try:
            worker.start(timeout)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)

    threading.Thread(target=start, name="worker-start", daemon=True).start()
    while not worker.wait_ready(0):
        if failure:
            raise failure[0]
        if worker.process is not None and worker.process.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.process.returncode}:\n{worker.log_tail(30)}")
        if tick is not None:
            await tick()
        await asyncio.sleep(0.05)


async def _yardstick(options: Options, prefix: str, backlog: list[OutgoingEvent], out: dict[str, Any]) -> None:
    """(a) publish the events to a source topic, then the plain passthrough."""
    source, sink, sink_single = f"{prefix}bench-source", f"{prefix}bench-passthrough", f"{prefix}bench-passthrough-1"
    await create_topics(options.bootstrap, [source, sink, sink_single], options.partitions)
    progress = bar(len(backlog), "(a) publish source")
    seconds = await publish(options.bootstrap, source, [(e.key, e.value) for e in backlog],
                            on_progress=lambda n: progress.update(n - progress.n))
    progress.close()
    out["publish_events_per_s"] = round(len(backlog) / seconds)
    progress = bar(len(backlog), "(a) passthrough")
    stats = await passthrough(options.bootstrap, source, sink, len(backlog), options.partitions,
                              on_progress=lambda n: progress.update(n - progress.n))
    progress.close()
    out["passthrough"] = {**stats, "producer": "aiokafka defaults, linger 5 ms"}
    if options.broker_kind == "tansu":
        # the engine runs with one record per produce batch on Tansu (engine/settings.py)
        count = min(len(backlog), 20_000)
        progress = bar(count, "(a) passthrough, 1 record/batch")
        stats = await passthrough(options.bootstrap, source, sink_single, count, options.partitions, max_batch_size=1,
                                  on_progress=lambda n: progress.update(n - progress.n))
        progress.close()
        out["passthrough_one_record_per_batch"] = {**stats, "producer": "linger 5 ms, max_batch_size=1"}


async def _load(options: Options, worker: WorkerProcess, watcher: OutputWatcher, out: dict[str, Any]) -> str:
    """App, segments, campaigns through the API; endpoints straight to ``<prefix>endpoints``
    as the API's own ``EndpointRecord``s; returns once the worker applied every endpoint."""
    sizes = options.sizes
    client = pinpoint_client(worker.base_url)
    progress = bar(sizes.campaigns, "load campaigns", unit="campaign")
    resources = await asyncio.to_thread(
        lambda: create_resources(client, sizes.campaigns, sizes.event_types, options.seed,
                                 via_api=options.campaigns_via_api, bootstrap=options.bootstrap,
                                 prefix=worker.deployment.prefix, on_progress=lambda n: progress.update(n - progress.n)))
    progress.close()
    out["campaigns_created_via_api"] = resources.via_api
    out["campaigns_via_api_per_s"] = round(resources.via_api / resources.api_seconds, 1) if resources.via_api else None
    out["campaigns_via_control_topic"] = len(resources.campaign_ids) - resources.via_api
    out["segments"] = len(resources.segment_ids)
    out["campaigns"] = len(resources.campaign_ids)
    app_id = resources.app_id
    records = []
    for eid, body in endpoint_requests(sizes.endpoints, options.seed):
        wire = EndpointRequest.model_validate(body).to_wire()
        records.append((eid.encode(), encode_json(endpoint_record(app_id, eid, wire))))
    out["endpoint_record_bytes_avg"] = round(sum(len(v) for _, v in records) / len(records), 1)
    progress = bar(sizes.endpoints, "load endpoints (topic)")
    started = time.perf_counter()
    await publish(options.bootstrap, f"{worker.deployment.prefix}endpoints", records)
    applied = await watcher.wait(lambda: watcher.endpoint_changes >= sizes.endpoints, timeout=3600,
                                 tick=lambda: progress.update(watcher.endpoint_changes - progress.n))
    progress.close()
    if not applied:
        raise RuntimeError(f"only {watcher.endpoint_changes} of {sizes.endpoints} endpoints applied")
    out["endpoints_applied_per_s"] = round(sizes.endpoints / (time.perf_counter() - started))
    return app_id


async def _throughput(options: Options, prefix: str, backlog: list[OutgoingEvent], watcher: OutputWatcher,
                      worker: WorkerProcess, out: dict[str, Any]) -> None:
    """(b) publish the backlog as fast as possible; the worker's rate from the timestamps
    of its first and last ``pinpoint-events`` record (one per processed event)."""
    before_processed, before_dead, before_decisions = watcher.processed, watcher.dead_letters, watcher.decisions
    watcher.first_processed_ts = watcher.last_processed_ts = None
    total = len(backlog)
    progress = bar(total, "(b) engine processing")
    profiler = _start_profiler(options.profile, worker)
    assert worker.process is not None
    cpu = cpu_used({"worker": worker.process.pid, "broker": options.broker_pid, "bench": os.getpid()})
    watcher.stamps = array("d")
    started = time.perf_counter()
    publish_seconds = await publish(options.bootstrap, f"{prefix}events", [(e.key, e.value) for e in backlog])

    def done() -> int:
        return watcher.processed - before_processed + watcher.dead_letters - before_dead

    finished = await watcher.wait(lambda: done() >= total, timeout=max(600.0, total / 100),
                                  tick=lambda: progress.update(done() - progress.n))
    wall = time.perf_counter() - started
    out["cpu_seconds"] = {**cpu(), "wall": round(wall, 2)}
    progress.close()
    _stop_profiler(profiler, out)
    out["events_per_s_by_tenth"] = rate_by_tenth(sorted(watcher.stamps))
    watcher.stamps = None
    processed = watcher.processed - before_processed
    span = (watcher.last_processed_ts or 0) - (watcher.first_processed_ts or 0)
    out.update({
        "events": total, "finished": finished, "processed": processed,
        "dead_letters": watcher.dead_letters - before_dead,
        "decisions": watcher.decisions - before_decisions,
        "decisions_per_event": round((watcher.decisions - before_decisions) / max(1, processed), 3),
        "publish_seconds": round(publish_seconds, 2),
        "first_to_last_output_seconds": round(span, 2),
        "events_per_s": round((processed - 1) / span, 1) if span > 0 else 0.0,
        "wall_seconds_publish_to_all_seen": round(wall, 2),
        "partitions": options.partitions, "store": options.store,
    })


def rate_by_tenth(stamps: list[float]) -> list[float]:
    """Events/s over each successive tenth of the processed events (output CreateTimes)."""
    if len(stamps) < 20:
        return []
    rates = []
    cuts = [round(i * (len(stamps) - 1) / 10) for i in range(11)]
    for low, high in zip(cuts, cuts[1:]):
        span = stamps[high] - stamps[low]
        rates.append(round((high - low) / span, 1) if span > 0 else 0.0)
    return rates


def latency_by_second(tracked: list[Tracked]) -> list[list[float]]:
    """[second of the phase, events published in it, p50 ms, max ms] of event → processed:
    shows whether slow events come in bursts (pauses) or grow steadily (saturation)."""
    done = [t for t in tracked if t.processed_ts is not None]
    if not done:
        return []
    start = min(t.published for t in done)
    by_second: dict[int, list[float]] = {}
    for t in done:
        assert t.processed_ts is not None
        by_second.setdefault(int(t.published - start), []).append((t.processed_ts - t.published) * 1000)
    rows = []
    for second, values in sorted(by_second.items()):
        values.sort()
        rows.append([second, len(values), round(values[len(values) // 2], 1), round(values[-1], 1)])
    return rows


async def _latency(options: Options, prefix: str, stream: EventStream, watcher: OutputWatcher, rate: float,
                   out: dict[str, Any]) -> None:
    """(c) events at ``rate``/s for ``latency_seconds``; per event, publish wall time vs the
    CreateTime of its decision (and of its pinpoint-events record)."""
    from aiokafka import AIOKafkaProducer

    seconds = options.sizes.latency_seconds
    events = stream.take(int(rate * seconds))
    producer = AIOKafkaProducer(bootstrap_servers=options.bootstrap, linger_ms=0, acks=1)
    await producer.start()
    progress = bar(len(events), f"(c) paced at {rate:,.0f}/s")
    loop = asyncio.get_running_loop()
    sends: list[asyncio.Future[Any]] = []
    try:
        begin = loop.time() + 0.1
        sent = 0
        for due, slot in paced(events, rate):
            delay = begin + due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for event in slot:
                watcher.track(event.event_id, time.time())
                sends.append(await producer.send(f"{prefix}events", event.value, key=event.key))
            sent += len(slot)
            if sent % 500 < len(slot):
                progress.update(sent - progress.n)
        await producer.flush()
        send_seconds = loop.time() - begin
        for metadata in await asyncio.gather(*sends):  # the events topic's end, for (f)
            ends = out.setdefault("events_log_end", {})
            ends[metadata.partition] = max(ends.get(metadata.partition, 0), metadata.offset + 1)
    finally:
        await producer.stop()
    progress.update(len(events) - progress.n)
    progress.close()
    tracked = [watcher.tracked[e.event_id] for e in events]
    # events published but not yet processed when publishing ended: ~rate × latency when the
    # worker keeps up, growing with the run when it does not (then the latencies are queueing)
    behind = sum(1 for t in tracked if t.processed_ts is None)
    drain_started = time.perf_counter()
    await watcher.wait(lambda: all(t.processed_ts is not None for t in tracked), timeout=600)
    drain_seconds = time.perf_counter() - drain_started
    await asyncio.sleep(0.5)  # decisions of the last events
    decided = [t for t in tracked if t.decision_ts is not None]
    out.update({
        "target_events_per_s": round(rate, 1),
        "achieved_publish_events_per_s": round(len(events) / send_seconds, 1),
        "events": len(events),
        "processed": sum(1 for t in tracked if t.processed_ts is not None),
        "unprocessed_when_publishing_ended": behind,
        "drain_seconds": round(drain_seconds, 2),
        "decisions": len(decided),
        "decision_latency_ms": percentiles(
            [t.decision_ts - t.published for t in decided if t.decision_ts is not None], 1000.0),
        "decision_seen_by_subscriber_ms": percentiles(
            [t.decision_seen - t.published for t in decided if t.decision_seen is not None], 1000.0),
        "processing_latency_ms_all_events": percentiles(
            [t.processed_ts - t.published for t in tracked if t.processed_ts is not None], 1000.0),
        "processing_latency_ms_by_second": latency_by_second(tracked),
        "clock": "publish = time.time() before producer.send; decision = its record's CreateTime (ms), "
                 "set by the worker's producer; same host clock",
    })
    watcher.tracked.clear()


async def _state_size(options: Options, deployment: Deployment, sizes: Sizes, out: dict[str, Any]) -> None:
    """(e) the tables' changelog topics: every record, and the last value per key."""
    tables = ("endpoints", "caps", "campaign-metrics")
    sizes_by_topic = await topic_sizes(options.bootstrap, [f"{deployment.app_id}-{t}-changelog" for t in tables],
                                       options.partitions)
    changelogs = {t: sizes_by_topic[f"{deployment.app_id}-{t}-changelog"].__dict__ for t in tables}
    out["changelogs"] = changelogs
    per_endpoint = (changelogs["endpoints"]["live_bytes"] + changelogs["caps"]["live_bytes"]) / sizes.endpoints
    out["table_bytes_per_endpoint"] = round(per_endpoint, 1)
    out["endpoint_profile_bytes_avg"] = round(changelogs["endpoints"]["live_bytes"] / max(1, changelogs["endpoints"]["live_keys"]), 1)
    out["caps_bytes_avg"] = round(changelogs["caps"]["live_bytes"] / max(1, changelogs["caps"]["live_keys"]), 1)
    out["endpoints_with_caps"] = changelogs["caps"]["live_keys"]
    loaded = out["worker_rss_bytes"]
    grown = loaded["endpoints_loaded"]["VmRSS"] - loaded["ready"]["VmRSS"]
    out["rss_growth_per_endpoint_on_load"] = round(grown / sizes.endpoints, 1)


def _start_profiler(path: Path | None, worker: WorkerProcess) -> Profiler | None:
    if path is None or worker.process is None:
        return None
    try:
        return Profiler(worker.process.pid, path)
    except FileNotFoundError as exc:
        print(f"--profile ignored: {exc}", file=sys.stderr)
        return None


def _stop_profiler(profiler: Profiler | None, out: dict[str, Any]) -> None:
    if profiler is not None:
        out["profile"] = profiler.stop()


_LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] \[\d+\] \[\w+\] (.*)$")
_MILESTONES = {
    "join_started": "(Re-)joining group",
    "restore_started": "Restoring state from changelog topics",
    "restore_done": "Done reading from changelog topics",
    "worker_ready": "Worker ready",
}


def parse_recovery_log(text: str) -> dict[str, Any]:
    """Milestone wall times (epoch s) and the changelog highwaters a restarted worker logged."""
    found: dict[str, Any] = {}
    highwater_total = 0
    in_table = False
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            message = match.group(2)
            in_table = "Highwater for active changelog partitions" in message
            if in_table:
                highwater_total = 0
            for name, marker in _MILESTONES.items():
                if marker in message and name not in found:
                    found[name] = stamp
            if "Joined group" in message:  # a member that died uncleanly makes the group join twice
                found.setdefault("joins", []).append(stamp)
        elif in_table and line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 3 and cells[2].lstrip("-").isdigit():
                highwater_total += int(cells[2]) + 1
    found["changelog_records_to_restore"] = highwater_total
    return found


async def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int | None]:
    """The group's committed offsets (read without joining the group)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


async def _recovery(deployment: Deployment, worker: WorkerProcess, watcher: OutputWatcher, stream: EventStream,
                    log_end: dict[int, int], out: dict[str, Any]) -> WorkerProcess:
    """(f) kill -9, restart at once, probe events every 0.2 s until one is decided."""
    from aiokafka import AIOKafkaProducer

    # every event was processed before the kill; what was not committed is replayed on restart
    committed = await committed_offsets(deployment.bootstrap, ingest_group(deployment.app_id), f"{deployment.prefix}events",
                                        deployment.partitions)
    out["events_committed_at_kill"] = committed
    out["events_log_end_at_kill"] = log_end
    out["events_uncommitted_at_kill"] = sum(max(0, end - (committed.get(p) or 0)) for p, end in log_end.items())
    budget = 120.0 + out.get("changelog_records_before_kill", 0) / 1000  # restore runs at ~10k records/s
    worker.kill()
    killed = time.time()
    restarted = WorkerProcess(deployment)
    probes_before = len(watcher.probe_decisions)
    producer = AIOKafkaProducer(bootstrap_servers=deployment.bootstrap, linger_ms=0)
    await producer.start()
    progress = bar(None, "(f) kill -9, restart, wait for a decision", unit="probe")
    n = 0
    next_probe = 0.0

    async def send_probe() -> None:
        nonlocal n, next_probe
        if time.monotonic() >= next_probe:
            probe = stream.probe(n)
            await producer.send(f"{deployment.prefix}events", probe.value, key=probe.key)
            n += 1
            next_probe = time.monotonic() + 0.2
            progress.update(1)

    ok = False
    try:
        started = time.time()
        await start_worker(restarted, timeout=budget, tick=send_probe)
        ready_at = time.time()
        while len(watcher.probe_decisions) == probes_before:
            if time.time() - started > budget:  # recorded, not raised: the other figures stand
                out["gave_up_after_s"] = budget
                out["worker_log_tail"] = restarted.log_tail(12).splitlines()
                break
            if restarted.process is not None and restarted.process.poll() is not None:
                raise RuntimeError(f"restarted worker exited:\n{restarted.log_tail(30)}")
            await send_probe()
            await asyncio.sleep(0.05)
        ok = True
    finally:
        await producer.stop()
        progress.close()
        if not ok:
            restarted.kill()
    decided_at = min(watcher.probe_decisions[probes_before:], default=None)
    log = parse_recovery_log(restarted.log_text())
    restore_seconds = (log["restore_done"] - log["restore_started"]) if {"restore_done", "restore_started"} <= set(log) else None

    def since(t: float | None) -> float | None:
        return round(t - started, 2) if t is not None else None

    out.update({
        "kill_to_restart_s": round(started - killed, 2),
        "restart_to_ready_s": since(ready_at),
        "restart_to_first_decision_s": since(decided_at),
        "restart_to_joined_s": [since(t) for t in log.get("joins", [])],
        "restart_to_restore_start_s": since(log.get("restore_started")),
        "restore_seconds": round(restore_seconds, 2) if restore_seconds is not None else None,
        "changelog_records_restored": log["changelog_records_to_restore"],
        "restore_records_per_s": round(log["changelog_records_to_restore"] / restore_seconds)
        if restore_seconds else None,
        "session_timeout_s": float(deployment.env(0)["INAPP_SESSION_TIMEOUT_SECONDS"]),
        "store": deployment.store,
        "probes_sent": n,
    })
    return restarted
