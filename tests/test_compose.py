"""docker-compose.yml, Dockerfile and .dockerignore cannot rot: they are checked against the code.

No Docker needed: the YAML is parsed and compared with the Kafka pin (scripts/kafka/pom.xml),
the settings the worker really reads (engine.settings.Settings) and the package layout.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from pydantic import AliasChoices

from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
POM = ROOT / "scripts" / "kafka" / "pom.xml"

_SUBST = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


@pytest.fixture(scope="module")
def workers(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {name: svc for name, svc in services.items() if "build" in svc}
    assert found, "no service is built from the Dockerfile"
    return found


def pinned_kafka_version() -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", ns)
    assert node is not None and node.text
    return node.text.strip()


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...]
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def resolve(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error}; unset required vars get a sample."""
    env = env or {}

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        if name in env:
            return env[name]
        if op in (":-", "-"):
            return arg or ""
        if op in (":?", "?"):
            return _SAMPLES.get(name, "sample")
        return ""

    return _SUBST.sub(sub, value)


_SAMPLES = {"INAPP_API_CREDENTIALS": "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def settings_env_names() -> set[str]:
    """Every environment variable name that Settings reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{info.alias or field_name}".upper())
    return names


def published(service: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) for each short-syntax port mapping."""
    out = []
    for item in service.get("ports") or []:
        parts = str(item).split(":")
        assert len(parts) in (2, 3), f"publish ports as [ip:]host:container, got {item!r}"
        ip = parts[0] if len(parts) == 3 else ""
        out.append((ip, int(parts[-2]), int(parts[-1].split("/")[0])))
    return out


# -- Kafka ----------------------------------------------------------------------------------


def test_kafka_is_the_pinned_apache_kafka_in_kraft_mode(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
    assert kafka["image"] == f"apache/kafka:{pinned_kafka_version()}"
    env = env_of(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert len(voters) == 1 and voters[0].startswith(f"{node_id}@")
    assert "ZOOKEEPER" not in " ".join(env), "KRaft only"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    # a single node: every internal topic needs replication factor 1 or it never gets created
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env[key] == "1", key


def _listeners(raw: str) -> dict[str, tuple[str, int]]:
    out = {}
    for item in raw.split(","):
        name, _, rest = item.partition("://")
        host, _, port = rest.rpartition(":")
        out[name] = (host, int(port))
    return out


def test_kafka_listeners_reach_workers_and_the_host(services: dict[str, Any],
                                                    workers: dict[str, Any]) -> None:
    kafka = services["kafka"]
    env = env_of(kafka)
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners and controller not in advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert set(listeners) <= set(protocols)
    for name, (_, port) in advertised.items():
        assert listeners[name][1] == port, f"{name} advertises a port it does not listen on"
    # the host reaches Kafka on a published port that a listener advertises as 127.0.0.1
    ports = published(kafka)
    assert ports, "Kafka publishes no port to the host"
    listening = {port for _, port in listeners.values()}
    for _, host_port, container_port in ports:
        assert container_port in listening, f"published port {container_port} has no listener"
    for_host = {(host, port) for host, port in advertised.values() if host in ("127.0.0.1", "localhost")}
    assert any((h, hp) in for_host for _, hp, _ in ports for h in ("127.0.0.1", "localhost")), (
        "no listener advertises a published host port")
    # the workers bootstrap through a listener advertised under the service's own name
    internal = {f"{host}:{port}" for host, port in advertised.values()}
    for name, worker in workers.items():
        bootstrap = env_of(worker)["KAFKA_BOOTSTRAP_SERVERS"]
        assert bootstrap in internal and bootstrap.startswith("kafka:"), (name, bootstrap)


def test_every_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        check = svc.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_workers_wait_for_a_healthy_kafka(workers: dict[str, Any]) -> None:
    for name, worker in workers.items():
        assert worker["depends_on"]["kafka"]["condition"] == "service_healthy", name


# -- workers --------------------------------------------------------------------------------


def test_worker_env_vars_are_real_settings(workers: dict[str, Any]) -> None:
    known = settings_env_names()
    for name, worker in workers.items():
        env = env_of(worker)
        inapp = {k for k in env if k.startswith("INAPP_")}
        assert inapp, name
        unknown = sorted(k for k in inapp if k.upper() not in known)
        assert not unknown, f"{name} sets variables no Settings field reads: {unknown}"
        assert "KAFKA_BOOTSTRAP_SERVERS" in env and "KAFKA_BOOTSTRAP_SERVERS" in known


def test_worker_env_values_validate(workers: dict[str, Any],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name, worker in workers.items():
        env = {k: resolve(v) for k, v in env_of(worker).items()}
        with monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith("INAPP_") or key == "KAFKA_BOOTSTRAP_SERVERS":
                    patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            settings = Settings()
        assert settings.kafka_bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"], name
        assert settings.credentials(), f"{name}: the API has no anonymous mode"
        # the API listens where the port mapping and the healthcheck look for it
        assert settings.web_bind == "0.0.0.0", name
        container_ports = {cp for _, _, cp in published(worker)}
        assert settings.web_port in container_ports, name
        assert f":{settings.web_port}/" in " ".join(worker["healthcheck"]["test"]), name
        assert settings.store == "rocksdb" and str(settings.data_dir).startswith("/"), name
        mounts = [str(v).split(":")[1] for v in worker.get("volumes") or []]
        assert str(settings.data_dir) in mounts, f"{name}: the state dir is not a volume"


def test_workers_are_distinct_members(workers: dict[str, Any]) -> None:
    hosts = [env_of(w).get("INAPP_WEB_HOST") for w in workers.values()]
    assert all(hosts) and len(set(hosts)) == len(hosts), "each worker needs its own INAPP_WEB_HOST"
    for name, worker in workers.items():
        assert env_of(worker)["INAPP_WEB_HOST"] == worker.get("hostname", name), name
    host_ports = [hp for w in workers.values() for _, hp, _ in published(w)]
    assert len(set(host_ports)) == len(host_ports), "two workers publish the same host port"
    volumes = [str(v).split(":")[0] for w in workers.values() for v in w.get("volumes") or []]
    assert len(set(volumes)) == len(volumes), "workers must not share a state volume"


def test_published_ports_stay_on_loopback(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for ip, _, _ in published(svc):
            assert ip == "127.0.0.1", f"{name} publishes on all interfaces"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for item in svc.get("volumes") or []:
            source = str(item).split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"


# -- Dockerfile -----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_builds_the_worker(workers: dict[str, Any]) -> None:
    steps = _instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(rest for op, rest in steps if op == "RUN")
    assert re.search(r"pip install [^&]*\.\[[^\]]*rocksdb", runs), "install the rocksdb extra"
    cmd = [rest for op, rest in steps if op == "CMD"]
    assert cmd and yaml.safe_load(cmd[-1]) == ["inapp", "worker"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get("inapp") == "engine.cli:main"
    for name, worker in workers.items():
        assert worker["build"]["dockerfile"] == "Dockerfile", name
        assert worker.get("command", ["inapp", "worker"]) == ["inapp", "worker"], name


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.rstrip("/")
        candidates = [path] + [str(p) for p in Path(path).parents if str(p) != "."]
        if any(fnmatch.fnmatch(c, pat) or fnmatch.fnmatch(c, pat.replace("**/", "")) for c in candidates):
            ignored = not negate
    return ignored


def test_build_context_has_what_the_dockerfile_copies() -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = []
    for op, rest in _instructions():
        if op == "COPY" and not rest.startswith("--from"):
            copied += [s for s in rest.split()[:-1] if not s.startswith("--")]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), f".dockerignore drops {source}"
    # every package pyproject ships is copied
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]["include"]
    for pattern in include:
        assert pattern.rstrip("*") in {s.rstrip("/") for s in copied}, pattern
    for junk in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", ".inapp-data/x"):
        assert _ignored(junk, patterns), f"{junk} would be sent to the Docker daemon"
