#!/usr/bin/env python3
"""Run a pinned Apache Kafka broker (KRaft, combined broker+controller) for tests and CI.

The broker comes as plain jars from Maven Central (see pom.xml beside this file), fetched once
with Maven into a cache outside the repository. No Docker, no apache.org download.

    scripts/kafka/kafka.py fetch     download the jars into the cache (start does it too)
    scripts/kafka/kafka.py start     fresh storage, start, wait until ready, print host:port
    scripts/kafka/kafka.py stop      SIGTERM, wait, SIGKILL fallback
    scripts/kafka/kafka.py restart   stop, then start again on the same ports with the same
                                     data and cluster id (no format), wait, print host:port
    scripts/kafka/kafka.py status    exit 0 and print host:port when running, else exit 3
    scripts/kafka/kafka.py version   print the pinned Kafka version

Only the bootstrap address (start, status) or the version goes to stdout, so
``BOOT=$(scripts/kafka/kafka.py start)`` works; everything else goes to stderr.

Environment (all optional):
    INAPP_KAFKA_VERSION        run this Kafka version instead of the one pinned in pom.xml
    INAPP_KAFKA_HOME           jar cache   (default ~/.cache/inapp-engine/kafka-<version>)
    INAPP_KAFKA_RUN_DIR        pid, log, config, data (default ~/.cache/inapp-engine/kafka-run)
    INAPP_KAFKA_PORT           client port on 127.0.0.1 (default: a free port)
    INAPP_KAFKA_HEAP_OPTS      JVM heap flags (default "-Xms256m -Xmx1g")
    INAPP_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 120)
    INAPP_KAFKA_LOG_LEVEL      slf4j-simple level of the broker log (default info)
    JAVA_HOME                  the JDK to use (else `java` on PATH); Kafka 4.x needs Java 17+

Standard library only: runs with any python3 >= 3.9, before the project's venv exists.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
HOST = "127.0.0.1"
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "inapp-engine"
MAIN_CLASS = "kafka.Kafka"
STAMP = ".complete"


def log(msg: str) -> None:
    print(f"kafka.py: {msg}", file=sys.stderr, flush=True)


def die(msg: str, code: int = 1) -> NoReturn:
    log(f"error: {msg}")
    sys.exit(code)


# -- configuration -----------------------------------------------------------------------------


def pom_property(name: str) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find(f"m:properties/m:{name}", ns)
    text = (node.text or "").strip() if node is not None else ""
    if not text:
        die(f"{POM} has no <{name}> property")
    return text


def pinned_version() -> str:
    return pom_property("kafka.version")


def kafka_version() -> str:
    version = os.environ.get("INAPP_KAFKA_VERSION", "").strip() or pinned_version()
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        die(f"not a Kafka release version: {version!r}")
    return version


def kafka_home(version: str) -> Path:
    home = os.environ.get("INAPP_KAFKA_HOME", "").strip()
    return Path(home).expanduser() if home else CACHE_ROOT / f"kafka-{version}"


def run_dir() -> Path:
    rd = os.environ.get("INAPP_KAFKA_RUN_DIR", "").strip()
    return Path(rd).expanduser() if rd else CACHE_ROOT / "kafka-run"


def java_bin() -> str:
    jh = os.environ.get("JAVA_HOME", "").strip()
    if jh and (Path(jh) / "bin" / "java").exists():
        return str(Path(jh) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        die("no java found: install a JDK 17+ (apt-get install openjdk-17-jre-headless) or set JAVA_HOME")
    return found


def java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        die(f"cannot tell the Java version from: {out.strip()}")
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


# -- fetch -------------------------------------------------------------------------------------


def stamp_text(version: str) -> str:
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    return f"kafka {version}\npom-sha256 {digest}\n"


def libs_dir(version: str) -> Path:
    return kafka_home(version) / "libs"


def fetch(version: str) -> Path:
    """Copy kafka_2.13 + runtime deps + slf4j binding into the cache; no-op when complete."""
    home = kafka_home(version)
    libs = home / "libs"
    stamp = home / STAMP
    if stamp.is_file() and stamp.read_text() == stamp_text(version) and libs.is_dir():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        die("Maven (mvn) not found: apt-get install maven")
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / "libs.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"fetching Apache Kafka {version} jars from Maven Central into {home}")
    t0 = time.monotonic()
    cmd = [
        mvn, "-B", "-q", "-C", "-f", str(POM),
        "dependency:copy-dependencies",
        f"-Dkafka.version={version}",
        f"-Dkafka.libs={tmp}",
    ]
    proc = subprocess.run(cmd, cwd=str(home), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:])
        die(f"mvn failed (exit {proc.returncode}): {' '.join(cmd)}")
    # Maven leaves a target/ dir next to the pom only if we let it; we pass absolute paths.
    check_libs(tmp, version)
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    stamp.write_text(stamp_text(version))
    log(f"fetched {len(list(libs.glob('*.jar')))} jars in {time.monotonic() - t0:.1f}s")
    return libs


def check_libs(libs: Path, version: str) -> None:
    names = sorted(p.name for p in libs.glob("*.jar"))
    if f"kafka_2.13-{version}.jar" not in names:
        die(f"kafka_2.13-{version}.jar missing after mvn; got {names}")
    api = [n for n in names if re.fullmatch(r"slf4j-api-.*\.jar", n)]
    binding = [n for n in names if re.fullmatch(r"slf4j-simple-.*\.jar", n)]
    if len(api) != 1 or len(binding) != 1:
        die(f"expected one slf4j-api and one slf4j-simple jar, got {api + binding}")
    api_v = api[0][len("slf4j-api-"):-4]
    bind_v = binding[0][len("slf4j-simple-"):-4]
    if api_v != bind_v:
        die(f"Kafka {version} resolves slf4j-api {api_v} but pom.xml binds slf4j-simple "
            f"{bind_v}: set <slf4j.version>{api_v}</slf4j.version> in {POM}")


# -- Kafka wire protocol (just enough for a readiness probe) -----------------------------------


def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client = b"inapp-kafka-probe"
    header = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", _read(sock, 4))[0]
    data = _read(sock, size)
    if struct.unpack(">i", data[:4])[0] != corr:
        raise OSError("correlation id mismatch")
    return data[4:]


def _read(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed by broker")
        buf += chunk
    return buf


def probe(host: str, port: int, timeout: float = 5.0) -> tuple[int, str | None]:
    """ApiVersions v0, then Metadata: returns (number of brokers listed, cluster id)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        resp = _request(sock, 18, 0, 1, b"")
        err, n = struct.unpack(">hi", resp[:6])
        if err != 0:
            raise OSError(f"ApiVersions error {err}")
        versions = {}
        for i in range(n):
            key, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i: 12 + 6 * i])
            versions[key] = (lo, hi)
        lo, hi = versions.get(3, (0, -1))
        # v2..v8 share the non-flexible layout parsed below, with a cluster id
        usable = [v for v in range(2, 9) if lo <= v <= hi]
        if not usable:
            raise OSError(f"no usable Metadata version in {lo}..{hi}")
        v = max(usable)
        body = struct.pack(">i", -1)  # null topic list: all topics
        if v >= 4:
            body += b"\x00"  # allow_auto_topic_creation=false
        if v >= 8:
            body += b"\x00\x00"  # no authorized-operations
        resp = _request(sock, 3, v, 2, body)
    pos = 4 if v >= 3 else 0  # throttle_time_ms

    def string() -> str | None:
        nonlocal pos
        (size,) = struct.unpack_from(">h", resp, pos)
        pos += 2
        if size < 0:
            return None
        pos += size
        return resp[pos - size: pos].decode()

    (brokers,) = struct.unpack_from(">i", resp, pos)
    pos += 4
    for _ in range(brokers):
        pos += 4  # node_id
        string()  # host
        pos += 4  # port
        string()  # rack
    return brokers, string()


# -- process management ------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False


def is_our_broker(pid: int, rd: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in cmdline]
    return MAIN_CLASS in args and str(rd / "server.properties") in args


def running_pid(rd: Path) -> int | None:
    pidfile = rd / "kafka.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid) and is_our_broker(pid, rd):
        return pid
    return None


def free_port(avoid: tuple[int, ...] = ()) -> int:
    """A bindable port below the kernel's ephemeral range, so that no outgoing connection of
    another process grabs it between this check and the broker's bind."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low > 12000:
        rng = random.SystemRandom()
        for _ in range(200):
            port = rng.randrange(10000, low)
            if port not in avoid and port_free(port):
                return port
    with socket.socket() as s:  # fallback: any port the kernel hands out
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def server_properties(data: Path, port: int, controller_port: int, version: str) -> str:
    major = int(version.split(".")[0])
    lines = [
        "# written by scripts/kafka/kafka.py: single-node KRaft broker+controller for tests",
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{HOST}:{controller_port}",
        f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        "# topics: created on demand, 8 partitions like the engine's default",
        "auto.create.topics.enable=true",
        "delete.topic.enable=true",
        "num.partitions=8",
        "default.replication.factor=1",
        "min.insync.replicas=1",
        "# internal topics: one replica, few partitions (fast start, fast first commit)",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=1",
        "# no 3 s wait before the first rebalance of a group",
        "group.initial.rebalance.delay.ms=0",
        "# small box: few threads, small cleaner buffer",
        "num.network.threads=2",
        "num.io.threads=2",
        "background.threads=2",
        "num.recovery.threads.per.data.dir=1",
        "log.cleaner.threads=1",
        "log.cleaner.dedupe.buffer.size=2097152",
        "# compaction acts within seconds, so tests can observe it",
        "log.cleaner.backoff.ms=1000",
    ]
    if major >= 4:
        lines += [
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
        ]
    return "\n".join(lines) + "\n"


def log_tail(path: Path, n: int = 30) -> str:
    """The first error with its stack trace (if any), then the last n lines of the log."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    first_error = next((i for i, line in enumerate(lines) if " ERROR " in line), None)
    out = [f"--- {path} ({len(lines)} lines)"]
    if first_error is not None and first_error < len(lines) - n:
        out += lines[first_error: first_error + 25] + ["..."]
    out += lines[-n:]
    return "\n".join(out + ["---"])


def cmd_start(args: argparse.Namespace) -> int:
    version = kafka_version()
    rd = run_dir()
    pid = running_pid(rd)
    if pid is not None:
        boot = (rd / "bootstrap").read_text().strip()
        log(f"already running (pid {pid}) at {boot}; `stop` first for a fresh broker")
        print(boot, flush=True)
        return 0
    java = java_bin()
    major = java_major(java)
    if int(version.split(".")[0]) >= 4 and major < 17:
        die(f"Kafka {version} needs Java 17+, {java} is Java {major}")
    libs = fetch(version)
    classpath = str(libs / "*")

    rd.mkdir(parents=True, exist_ok=True)
    requested = args.port or int(os.environ.get("INAPP_KAFKA_PORT", "0") or 0)
    if requested and not port_free(requested):
        die(f"port {HOST}:{requested} is already in use")
    timeout = float(args.timeout or os.environ.get("INAPP_KAFKA_START_TIMEOUT") or 120)
    t0 = time.monotonic()
    address: str | None = None
    for attempt in range(1, 4):
        port = requested or free_port()
        address = launch(java, version, classpath, rd, port, free_port(avoid=(port,)), timeout)
        if address is not None:
            break
        log(f"a port was taken while the broker started (attempt {attempt}); trying new ports")
    if address is None:
        die("could not bind the broker's ports in 3 attempts")
    (rd / "bootstrap").write_text(address + "\n")
    log(f"ready in {time.monotonic() - t0:.1f}s")
    print(address, flush=True)
    return 0


def launch(java: str, version: str, classpath: str, rd: Path, port: int, controller_port: int,
           timeout: float) -> str | None:
    """Format fresh storage, start the broker, wait until it answers Metadata.

    Returns the bootstrap address; None when a port turned out to be taken (caller retries);
    exits with the log tail on any other failure.
    """
    data = rd / "data"
    shutil.rmtree(data, ignore_errors=True)
    for stale in ("kafka.pid", "bootstrap"):
        (rd / stale).unlink(missing_ok=True)
    props = rd / "server.properties"
    props.write_text(server_properties(data, port, controller_port, version))

    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    fmt = subprocess.run(
        [java, "-Xmx256m", "-cp", classpath, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
         "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if fmt.returncode != 0:
        sys.stderr.write(fmt.stdout + fmt.stderr)
        die(f"formatting the storage failed (exit {fmt.returncode})")
    return run_broker(java, version, classpath, rd, port, cluster_id, timeout)


def run_broker(java: str, version: str, classpath: str, rd: Path, port: int, cluster_id: str,
               timeout: float, append_log: bool = False) -> str | None:
    """Start the broker on formatted storage (rd/server.properties), wait until it answers
    Metadata with ``cluster_id``.

    Returns the bootstrap address; None when a port turned out to be taken; exits with the
    log tail on any other failure. ``append_log`` keeps the previous log (restart)."""
    props = rd / "server.properties"
    logfile = rd / "kafka.log"
    # a restart appends: only this run's part of the log tells whether a bind failed
    log_start = logfile.stat().st_size if append_log and logfile.exists() else 0
    heap = os.environ.get("INAPP_KAFKA_HEAP_OPTS", "").split() or ["-Xms256m", "-Xmx1g"]
    level = os.environ.get("INAPP_KAFKA_LOG_LEVEL", "").strip() or "info"
    jvm = [
        java, *heap,
        "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dorg.slf4j.simpleLogger.defaultLogLevel={level}",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS",
        # chatty: full config dumps, per-segment messages
        "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.config.AbstractConfig=warn",
        "-Dorg.slf4j.simpleLogger.log.kafka.log=warn",
        "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.storage=warn",
        "-cp", classpath, MAIN_CLASS, str(props),
    ]
    with open(logfile, "ab" if append_log else "wb") as out:
        proc = subprocess.Popen(jvm, cwd=str(rd), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    (rd / "kafka.pid").write_text(f"{proc.pid}\n")
    boot = f"{HOST}:{port}"
    log(f"starting Apache Kafka {version} (pid {proc.pid}) on {boot}; log {logfile}")

    deadline = time.monotonic() + timeout
    last_err = "not tried"
    while True:
        if proc.poll() is not None:
            (rd / "kafka.pid").unlink(missing_ok=True)
            if b"java.net.BindException" in logfile.read_bytes()[log_start:]:
                return None
            sys.stderr.write(log_tail(logfile) + "\n")
            die(f"the broker exited with code {proc.returncode} during startup (log above)")
        try:
            brokers, answered_id = probe(HOST, port, timeout=3.0)
            if answered_id != cluster_id:
                # something else answers on this port (our broker lost the bind race)
                last_err = f"{boot} answers with cluster id {answered_id}, not ours"
            elif brokers >= 1:
                return boot
            else:
                last_err = "metadata lists no broker yet"
        except OSError as exc:
            last_err = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            sys.stderr.write(log_tail(logfile) + "\n")
            stop(rd, quiet=True)
            die(f"not ready within {timeout:.0f}s ({last_err}); stopped it (log tail above)")
        time.sleep(0.25)


def stop(rd: Path, quiet: bool = False, grace: float = 30.0) -> bool:
    pid = running_pid(rd)
    if pid is None:
        if not quiet:
            log("not running")
        (rd / "kafka.pid").unlink(missing_ok=True)
        return False
    t0 = time.monotonic()
    try:
        os.killpg(pid, signal.SIGTERM)  # started with start_new_session: pgid == pid
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signal.SIGTERM)
    while pid_alive(pid) and time.monotonic() - t0 < grace:
        time.sleep(0.2)
    if pid_alive(pid):
        log(f"pid {pid} ignored SIGTERM for {grace:.0f}s; SIGKILL")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    if pid_alive(pid):
        die(f"pid {pid} survived SIGKILL")
    (rd / "kafka.pid").unlink(missing_ok=True)
    (rd / "bootstrap").unlink(missing_ok=True)
    if not quiet:
        log(f"stopped pid {pid} in {time.monotonic() - t0:.1f}s")
    return True


def listener_port(props: str) -> int:
    """The client port of the PLAINTEXT listener in server.properties text."""
    m = re.search(rf"^listeners=.*PLAINTEXT://{re.escape(HOST)}:(\d+)", props, re.MULTILINE)
    if not m:
        die("server.properties has no PLAINTEXT listener on " + HOST)
    return int(m.group(1))


def stored_cluster_id(data: Path) -> str:
    """The cluster id the storage was formatted with (data/meta.properties)."""
    try:
        text = (data / "meta.properties").read_text()
    except OSError:
        die(f"{data} holds no formatted storage (meta.properties): `start` first")
    m = re.search(r"^cluster\.id=(\S+)", text, re.MULTILINE)
    if not m:
        die(f"{data / 'meta.properties'} has no cluster.id")
    return m.group(1)


def cmd_restart(args: argparse.Namespace) -> int:
    """Stop the broker, then start it again on the same ports with the same data dir and
    cluster id: no format, so topics, offsets and committed group offsets survive (a broker
    restart as operators do it, for the fault tests)."""
    version = kafka_version()
    rd = run_dir()
    props = rd / "server.properties"
    if not props.is_file():
        die(f"nothing to restart in {rd}: `start` first")
    port = listener_port(props.read_text())
    cluster_id = stored_cluster_id(rd / "data")
    java = java_bin()
    classpath = str(fetch(version) / "*")
    t0 = time.monotonic()
    stop(rd, quiet=True, grace=args.grace)
    stopped = time.monotonic()
    timeout = float(args.timeout or os.environ.get("INAPP_KAFKA_START_TIMEOUT") or 120)
    deadline = stopped + timeout
    while True:
        # the same port, however long the kernel keeps it: clients hold on to this address
        address = run_broker(java, version, classpath, rd, port, cluster_id,
                             max(1.0, deadline - time.monotonic()), append_log=True)
        if address is not None:
            break
        if time.monotonic() > deadline:
            die(f"port {HOST}:{port} (or the controller port) stayed taken for {timeout:.0f}s")
        log("a port of the stopped broker is not free yet; retrying")
        time.sleep(1.0)
    (rd / "bootstrap").write_text(address + "\n")
    log(f"restarted in {time.monotonic() - t0:.1f}s (down {time.monotonic() - stopped:.1f}s)")
    print(address, flush=True)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    stop(run_dir(), grace=args.grace)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    rd = run_dir()
    pid = running_pid(rd)
    if pid is None:
        log(f"not running (run dir {rd})")
        return 3
    boot = (rd / "bootstrap").read_text().strip() if (rd / "bootstrap").exists() else "?"
    try:
        host, _, port = boot.rpartition(":")
        brokers, cluster = probe(host, int(port))
        health = f"answers metadata (cluster {cluster}, {brokers} broker)"
    except (OSError, ValueError, IndexError) as exc:
        health = f"NOT answering: {exc}"
    log(f"running pid {pid}, {health}; log {rd / 'kafka.log'}")
    print(boot, flush=True)
    return 0


def cmd_version(args: argparse.Namespace) -> int:
    print(kafka_version(), flush=True)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    version = kafka_version()
    libs = fetch(version)
    log(f"Apache Kafka {version}: {libs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kafka.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="fresh storage, start, wait until ready, print host:port")
    p.add_argument("--port", type=int, default=0, help="client port (default: a free one)")
    p.add_argument("--timeout", type=float, default=0, help="readiness timeout, seconds")
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("stop", help="stop the broker (SIGTERM, then SIGKILL)")
    p.add_argument("--grace", type=float, default=30.0, help="seconds before SIGKILL")
    p.set_defaults(func=cmd_stop)
    p = sub.add_parser("restart", help="stop, then start on the same ports and data (no format)")
    p.add_argument("--grace", type=float, default=30.0, help="seconds before SIGKILL")
    p.add_argument("--timeout", type=float, default=0, help="readiness timeout, seconds")
    p.set_defaults(func=cmd_restart)
    sub.add_parser("status", help="print host:port if running (exit 3 if not)").set_defaults(
        func=cmd_status)
    sub.add_parser("version", help="print the Kafka version in use").set_defaults(
        func=cmd_version)
    sub.add_parser("fetch", help="download the jars into the cache").set_defaults(func=cmd_fetch)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
