"""Start `inapp worker` processes and wait for their ``ready`` line.

Used by ``inapp demo``, the benchmarks and the integration tests: each worker is a real
process, so killing one with SIGKILL is a real crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.brokers import free_port

__all__ = ["Deployment", "WorkerProcess", "running_workers"]


@dataclass
class Deployment:
    """One engine deployment: its workers share broker, topic prefix, app id, partitions."""

    bootstrap: str
    credentials: str
    prefix: str = "inapp."
    app_id: str = "inapp-engine"
    partitions: int = 4
    store: str = "memory"
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="inapp-")))
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # set for the embedded Tansu broker (see Settings.producer_max_batch_bytes)
    embedded_broker: bool = False

    def env(self, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INAPP_")}
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "INAPP_TOPIC_PREFIX": self.prefix,
                "INAPP_APP_ID": self.app_id,
                "INAPP_PARTITIONS": str(self.partitions),
                "INAPP_STORE": self.store,
                "INAPP_STANDBY_REPLICAS": "0",
                "INAPP_SESSION_TIMEOUT_SECONDS": "10",
                "INAPP_DATA_DIR": str(self.data_dir / f"worker-{port}"),
                "INAPP_WEB_PORT": str(port),
                "INAPP_WEB_HOST": "127.0.0.1",
                "INAPP_API_CREDENTIALS": self.credentials,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.embedded_broker:
            env["INAPP_PRODUCER_MAX_BATCH_BYTES"] = "1"
            env["INAPP_BROKER_END_OFFSETS_EXACT"] = "false"
        env.update(self.extra_env)
        return env


class WorkerProcess:
    """`inapp worker` as a child process; stdout and stderr go to a log file."""

    def __init__(self, deployment: Deployment, port: int | None = None) -> None:
        self.deployment = deployment
        self.port = port or free_port()
        self.log_path = deployment.data_dir / f"worker-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()

    def start(self, timeout: float = 180.0) -> "WorkerProcess":
        self.deployment.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self._ready.clear()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "worker"],
            env=self.deployment.env(self.port),
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._pump, args=(self.process, log), daemon=True).start()
        if not self._ready.wait(timeout):
            tail = self.log_tail()
            self.kill()
            raise TimeoutError(f"worker on port {self.port} not ready in {timeout:.0f}s:\n{tail}")
        return self

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _pump(self, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            log.write(raw)
            log.flush()
            line = raw.decode(errors="replace").strip()
            if line.startswith("ready "):
                self.base_url = line.split(" ", 1)[1]
                self._ready.set()
        log.close()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no commit — a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_workers(deployment: Deployment, count: int = 1) -> Iterator[list[WorkerProcess]]:
    workers = [WorkerProcess(deployment) for _ in range(count)]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()
