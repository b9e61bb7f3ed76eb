"""Optional py-spy sampling of the worker during phase (b), summarised by where time goes.

``py-spy`` is not a dependency: ``pip install py-spy`` into the venv to use ``--profile``.
The raw (collapsed-stack) output is kept next to the JSON; the summary attributes each
sample to the innermost frame (self time) and to every distinct frame on its stack
(inclusive time), and groups self time by package.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["Profiler", "summarise"]

# package of a frame: the first component of its file path, py-spy writes "func (pkg/mod.py:line)"
_PACKAGE_NAMES = {"rules": "rules (pure core)", "engine": "engine", "topics": "topics", "faust": "faust",
                  "mode": "mode (faust services)", "aiokafka": "aiokafka", "pydantic": "pydantic",
                  "pydantic_core": "pydantic", "asyncio": "asyncio", "selectors.py": "asyncio",
                  "aiohttp": "aiohttp", "logging": "logging", "botocore": "botocore", "orjson": "orjson"}
# what the worker is doing: the first marker (in this order) found anywhere on the stack
ACTIVITIES = (
    ("Sender._send_produce_req", "aiokafka: produce requests (socket writes)"),
    ("Fetcher._proc_offset_request", "aiokafka: ListOffsets requests (API read-your-writes)"),
    ("rules/", "rules core: decide, caps, listing"),
    ("engine/decisions.py", "engine glue: decode, tables, outputs"),
    ("engine/api/", "API: SigV4, routing, handlers"),
    ("engine/service.py", "API: backend (offset catch-up)"),
    ("faust/sensors/", "faust sensors (monitor)"),
    ("faust/tables/", "faust tables (changelog)"),
    ("aiokafka/producer/", "aiokafka producer: accumulate"),
    ("faust/topics.py", "faust topic send"),
    ("aiokafka/consumer/", "aiokafka consumer: fetch"),
    ("faust/transport/consumer.py", "faust consumer: commit, acks"),
    ("faust/transport/", "faust transport (conductor, driver)"),
    ("faust/streams.py", "faust stream iteration"),
    ("aiohttp/", "aiohttp server"),
    ("engine/agents.py", "engine agents (loop, dead letters)"),
    ("engine/control.py", "control plane reader"),
    ("selectors.py", "event loop: waiting in select"),
    ("asyncio/", "event loop: scheduling"),
)


def _file_of(frame: str) -> str:
    return frame.rsplit(" (", 1)[-1].rstrip(")") if " (" in frame else frame


def _package(frame: str) -> str:
    head = _file_of(frame).split("/", 1)[0].split(":", 1)[0]
    return _PACKAGE_NAMES.get(head, "other")


def _activity(frames: list[str]) -> str:
    stack = ";".join(frames)
    for marker, name in ACTIVITIES:
        if marker in stack:
            return name
    return "other"


class Profiler:
    """``py-spy record`` attached to a pid until :meth:`stop`."""

    def __init__(self, pid: int, output: Path, rate: int = 100) -> None:
        executable = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(executable).exists():
            raise FileNotFoundError("py-spy is not installed (pip install py-spy)")
        self.output = output
        self.process = subprocess.Popen(
            [executable, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
             "--output", str(output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def stop(self) -> dict[str, Any]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        if not self.output.exists():
            return {"error": (err or b"").decode(errors="replace")[-500:]}
        return {"raw_output": str(self.output), **summarise(self.output.read_text())}


def summarise(collapsed: str, top: int = 15) -> dict[str, Any]:
    """Shares of samples: by activity (the innermost frame that names one, see ACTIVITIES),
    by package of the innermost frame, and the busiest frames (self and inclusive)."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        packages[_package(frames[-1])] += count
        activities[_activity(frames)] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100.0 * n / total, 1)] for name, n in counter.most_common(top)]

    return {"samples": total, "percent_by_activity": share(activities), "self_percent_by_package": share(packages),
            "self_percent": share(self_time), "inclusive_percent": share(inclusive)} if total else {"samples": 0}
