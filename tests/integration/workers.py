"""Real worker processes for integration tests (no mocks: a real broker, real `inapp`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from engine.brokers import free_port

ACCESS_KEY = "AKIAINAPPTESTKEY0001"
SECRET_KEY = "test-secret-that-must-never-be-logged"


@dataclass
class WorkerConfig:
    """One engine deployment: every worker of it shares prefix, app id and partitions."""

    bootstrap: str
    prefix: str
    app_id: str
    partitions: int = 4
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="inapp-test-")))
    store: str = "memory"
    extra_env: dict[str, str] = field(default_factory=dict)

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
                "INAPP_DATA_DIR": str(self.data_dir / f"worker-{port}"),
                "INAPP_WEB_PORT": str(port),
                "INAPP_WEB_HOST": "127.0.0.1",
                "INAPP_API_CREDENTIALS": f"{ACCESS_KEY}:{SECRET_KEY}",
                "INAPP_LOG_LEVEL": "info",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env


class WorkerProcess:
    """`inapp worker` as a child process; its output goes to a log file read by tests."""

    def __init__(self, config: WorkerConfig, port: int | None = None) -> None:
        self.config = config
        self.port = port or free_port()
        self.log_path = config.data_dir / f"worker-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url: str | None = None
        self._ready = threading.Event()

    def start(self, timeout: float = 120.0) -> "WorkerProcess":
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self._ready.clear()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "worker"],
            env=self.config.env(self.port),
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._pump, args=(self.process, log), daemon=True).start()
        if not self._ready.wait(timeout):
            tail = self.log_tail()
            self.kill()
            raise TimeoutError(f"worker on port {self.port} not ready in {timeout}s:\n{tail}")
        return self

    def _pump(self, process: subprocess.Popen[bytes], log: object) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            log.write(raw)  # type: ignore[attr-defined]
            log.flush()  # type: ignore[attr-defined]
            line = raw.decode(errors="replace").strip()
            if line.startswith("ready "):
                self.base_url = line.split(" ", 1)[1]
                self._ready.set()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no commit."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pinpoint(self):  # noqa: ANN201 - a boto3 client
        return pinpoint_client(self.base_url or f"http://127.0.0.1:{self.port}")


def pinpoint_client(base_url: str, *, secret: str = SECRET_KEY, access_key: str = ACCESS_KEY):  # noqa: ANN201
    return boto3.client(
        "pinpoint",
        endpoint_url=base_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}, read_timeout=30),
    )


@contextmanager
def running_workers(config: WorkerConfig, count: int = 1) -> Iterator[list[WorkerProcess]]:
    workers = [WorkerProcess(config) for _ in range(count)]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2, message: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
