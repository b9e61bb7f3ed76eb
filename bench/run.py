"""End-to-end benchmark of the engine on workload W1 (issue 6): a program that prints numbers.

    python -m bench.run [--preset quick|w1] [--events N] [--json out.json] [--profile out.txt]

One run, one broker (``KAFKA_BOOTSTRAP_SERVERS`` when set, else an embedded Tansu broker
started here), fresh topics under a per-run prefix:

  a. raw yardstick: plain aiokafka consume → orjson decode/encode → produce, events/s
  b. engine throughput: one `inapp worker` process draining the same events, events/s
  c. event→decision latency at half of (b)'s rate: p50/p99/max
  d. GetInAppMessages with 8 concurrent clients: requests/s, p50/p99
  e. worker RSS, and table state bytes per endpoint (from the changelog topics)
  f. kill -9 the worker, restart it: time to ready, to the next decision, restore rate

bench/README.md says what each number means and how it was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.phases import Options, run_benchmark
from bench.workload import PRESETS
from engine.brokers import Broker, EmbeddedBroker, ExternalBroker, wait_until_ready

__all__ = ["main", "format_table"]

MiB = 1024 * 1024


def _broker(kind_option: str | None) -> tuple[Broker, str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        wait_until_ready(configured, timeout=60)
        return ExternalBroker(configured), kind_option or os.environ.get("INAPP_BROKER_KIND", "external")
    return EmbeddedBroker().start(), kind_option or "tansu"


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _lat(p: dict[str, Any]) -> str:
    return f"p50 {_n(p['p50'], 1)} · p99 {_n(p['p99'], 1)} · max {_n(p['max'], 1)} ms (n={p['n']:,})"


def _cpu(used: dict[str, Any], name: str, events: int) -> str:
    seconds = used.get(name)
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s ({seconds / max(1, events) * 1e6:,.0f} µs/event)"


def _profile_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    for label, section in (("(b) events", r["b_throughput"]), ("(d) GetInAppMessages", r["d_get_in_app_messages"])):
        profile = section.get("profile") or {}
        if profile.get("samples"):
            top = ", ".join(f"{name} {share:.0f} %" for name, share in profile["percent_by_activity"][:7])
            lines.append(f"py-spy, worker during {label} ({profile['samples']:,} samples): {top}")
    return lines


def format_table(r: dict[str, Any]) -> str:
    a, b, c, d = r["a_yardstick"], r["b_throughput"], r["c_latency"], r["d_get_in_app_messages"]
    e, f, load = r["e_state"], r["f_recovery"], r["load"]
    mem = e["worker_rss_bytes"]
    rows = [
        ("a", "raw passthrough: aiokafka consume → orjson → produce",
         f"{_n(a['passthrough']['events_per_s'])} events/s"),
    ]
    if "passthrough_one_record_per_batch" in a:
        rows.append(("a", "same, one record per produce batch (the engine's Tansu setting)",
                     f"{_n(a['passthrough_one_record_per_batch']['events_per_s'])} events/s"))
    rows += [
        ("b", f"engine, 1 worker, {b['partitions']} partitions, {b['store']} store",
         f"{_n(b['events_per_s'])} events/s ({b['processed']:,} events, {b['decisions_per_event']:.3f} decisions/event)"),
        ("b", "rate over each tenth of the backlog", " ".join(_n(x) for x in b["events_per_s_by_tenth"]) + " events/s"),
        ("b", "CPU during (b): worker / broker / this program",
         f"{_cpu(b['cpu_seconds'], 'worker', b['processed'])} / {_cpu(b['cpu_seconds'], 'broker', b['processed'])} / "
         f"{_cpu(b['cpu_seconds'], 'bench', b['processed'])} (wall {b['cpu_seconds']['wall']:.0f} s)"),
        ("c", f"event → decision at {_n(c['target_events_per_s'])} events/s", _lat(c["decision_latency_ms"])),
        ("c", "events not yet processed when publishing ended / drained in",
         f"{c['unprocessed_when_publishing_ended']:,} of {c['events']:,} / {c['drain_seconds']:.1f} s"),
        ("c", "event → processed (every event)", _lat(c["processing_latency_ms_all_events"])),
        ("c", "event → decision received by a subscriber (fetch wait ≤ 100 ms)", _lat(c["decision_seen_by_subscriber_ms"])),
        ("d", f"GetInAppMessages, {d['clients']} clients, {d['seconds']:.0f} s",
         f"{_n(d['requests_per_s'])} req/s · p50 {_n(d['latency_ms']['p50'], 1)} · p99 {_n(d['latency_ms']['p99'], 1)} ms"
         f" · statuses {d['statuses']}"),
        ("e", "worker RSS: ready / endpoints loaded / after events / after API",
         " / ".join(f"{mem[k]['VmRSS'] / MiB:,.0f}" for k in ("ready", "endpoints_loaded", "after_backlog", "after_api"))
         + f" MiB (peak {mem['after_api']['VmHWM'] / MiB:,.0f})"),
        ("e", "table state per endpoint (endpoints + caps, last value per key)",
         f"{_n(e['table_bytes_per_endpoint'])} B (profile {_n(e['endpoint_profile_bytes_avg'])} B; "
         f"caps {_n(e['caps_bytes_avg'])} B on {e['endpoints_with_caps']:,} endpoints)"),
        ("e", "RSS growth per endpoint while loading", f"{_n(e['rss_growth_per_endpoint_on_load'])} B"),
        ("f", "kill -9 → restarted worker ready / deciding again",
         f"{_n(f['restart_to_ready_s'], 1)} s / {_n(f['restart_to_first_decision_s'], 1)} s "
         f"(group joined at {', '.join(f'{t:.1f}' for t in f['restart_to_joined_s'])} s; "
         f"session timeout {f['session_timeout_s']:.0f} s)"),
        ("f", "changelog restore", f"{_n(f['changelog_records_restored'])} records in {_n(f['restore_seconds'], 2)} s"
         f" = {_n(f['restore_records_per_s'])} records/s"),
        ("f", "events processed but not committed at the kill (replayed)",
         f"{f['events_uncommitted_at_kill']:,}" + (f"; NO decision within {f['gave_up_after_s']:.0f} s of the restart"
                                                   if "gave_up_after_s" in f else "")),
        ("load", f"CreateCampaign through the API ({load['campaigns_created_via_api']} campaigns) / "
                 "endpoints applied by the worker",
         f"{_n(load['campaigns_via_api_per_s'], 1)} campaigns/s / {_n(load['endpoints_applied_per_s'])} endpoints/s"),
    ]
    width = max(len(m) for _, m, _ in rows)
    lines = [f"| # | {'measure':<{width}} | value |", f"|---|{'-' * (width + 2)}|---|"]
    lines += [f"| {k} | {m:<{width}} | {v} |" for k, m, v in rows]
    return "\n".join(lines)


def engine_source() -> dict[str, Any]:
    """Where the engine code under test came from: its directory, and git HEAD + whether
    engine/, rules/ or topics/ differ from it, when that directory is a git checkout."""
    import subprocess

    import engine

    root = Path(engine.__file__).resolve().parents[1]
    found: dict[str, Any] = {"path": str(root)}
    try:
        found["commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                         text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "engine", "rules", "topics"],
                                 capture_output=True, text=True, check=True).stdout
        found["uncommitted_changes"] = bool(changed.strip())
    except (OSError, subprocess.CalledProcessError):
        marker = root / ".source-commit"
        if marker.exists():
            found["commit"] = marker.read_text().strip()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--events", type=int, help="backlog events of (a) and (b) (overrides the preset)")
    parser.add_argument("--endpoints", type=int)
    parser.add_argument("--campaigns", type=int)
    parser.add_argument("--latency-seconds", type=float)
    parser.add_argument("--api-seconds", type=float)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--store", choices=["memory", "rocksdb"], default="memory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--campaigns-via-api", type=int, default=20,
                        help="campaigns created with CreateCampaign (timed); the rest go straight to the "
                             "control topic as the API's records (default 20)")
    parser.add_argument("--broker-kind", choices=["tansu", "apache-kafka", "external"],
                        help="label of the broker in the output (default: tansu when embedded, else "
                             "INAPP_BROKER_KIND or external)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--profile", type=Path, help="py-spy the worker during (b); raw stacks to this file")
    args = parser.parse_args(argv)

    overrides = {k: v for k, v in {"events": args.events, "endpoints": args.endpoints, "campaigns": args.campaigns,
                                   "latency_seconds": args.latency_seconds, "api_seconds": args.api_seconds}.items()
                 if v is not None}
    sizes = dataclasses.replace(PRESETS[args.preset], **overrides)
    if sizes.campaigns % sizes.event_types:
        parser.error(f"--campaigns must be a multiple of the preset's {sizes.event_types} event types")

    load_before = os.getloadavg()
    broker, kind = _broker(args.broker_kind)
    print(f"inapp-engine benchmark — preset {args.preset}: {sizes.endpoints:,} endpoints, {sizes.campaigns:,} "
          f"campaigns over {sizes.event_types} event types, {sizes.events:,} events; broker {kind} "
          f"({broker.bootstrap_servers}); Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.2f}", flush=True)
    started = time.time()
    results: dict[str, Any] = {}
    try:
        options = Options(sizes=sizes, bootstrap=broker.bootstrap_servers, broker_kind=kind,
                          partitions=args.partitions, store=args.store, seed=args.seed, profile=args.profile,
                          broker_pid=getattr(broker, "pid", None), campaigns_via_api=args.campaigns_via_api)
        asyncio.run(run_benchmark(options, results))
    except BaseException:
        print("benchmark failed; figures measured so far:\n" + json.dumps(results, indent=2, default=str),
              file=sys.stderr)
        raise
    finally:
        broker.stop()
    load_after = os.getloadavg()
    report = {
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "preset": args.preset, "sizes": dataclasses.asdict(sizes), "broker_kind": kind,
        "bootstrap": broker.bootstrap_servers, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "engine_source": engine_source(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_before": load_before, "load_average_after": load_after},
        **results,
    }
    print()
    print(format_table(report))
    for line in _profile_lines(report):
        print(line)
    print(f"\nbroker {kind}; {report['run_seconds']:.0f} s in all; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after (2 CPUs shared: figures are ±20 %)")
    if report["totals"]["dead_letters"]:
        print(f"dead letters: {report['totals']['dead_letters']} e.g. {report['totals']['dead_letter_samples'][:2]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
        print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
