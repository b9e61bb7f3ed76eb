"""A private Apache Kafka broker for one test, driven through scripts/kafka/kafka.py.

The session broker other tests share is never touched: this one has its own run dir
(``INAPP_KAFKA_RUN_DIR``), ports, data and cluster id, and the test may stop and restart it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["PrivateKafka"]

KAFKA_PY = Path(__file__).resolve().parents[2] / "scripts" / "kafka" / "kafka.py"


class PrivateKafka:
    """``start()``, ``restart()`` (same ports, data and cluster id), ``stop()``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.bootstrap = ""

    def _run(self, *args: str, timeout: float = 300.0) -> str:
        env = {**os.environ, "INAPP_KAFKA_RUN_DIR": str(self.run_dir)}
        env.pop("INAPP_KAFKA_PORT", None)
        done = subprocess.run([sys.executable, str(KAFKA_PY), *args], env=env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"kafka.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done.stdout.strip()

    def start(self) -> PrivateKafka:
        self.bootstrap = self._run("start")
        return self

    def restart(self) -> float:
        """Stop and start again; the seconds the broker was unreachable (about)."""
        t0 = time.monotonic()
        address = self._run("restart")
        if address != self.bootstrap:
            raise AssertionError(f"the broker came back on {address}, not {self.bootstrap}")
        return time.monotonic() - t0

    def stop(self) -> None:
        self._run("stop")

    def log_tail(self, lines: int = 40) -> str:
        path = self.run_dir / "kafka.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
