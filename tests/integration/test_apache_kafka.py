"""The session broker is a working Kafka; on Apache Kafka, its version and transactions.

Runs against whatever ``kafka_bootstrap`` is (tests/conftest.py): the embedded Tansu broker by
default, Apache Kafka under ``.ci/run`` (scripts/kafka/kafka.py), or any external broker.

Which broker it is comes from the broker itself: Apache Kafka in KRaft mode finalizes the
``metadata.version`` feature and reports it in ApiVersions (v3+, KIP-584); its level names the
Kafka release. The embedded broker reports no such feature.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

POM = Path(__file__).resolve().parents[2] / "scripts" / "kafka" / "pom.xml"

# metadata.version feature level -> Kafka release (org.apache.kafka.server.common.MetadataVersion).
# A freshly formatted cluster starts at its release's latest production level.
_LEVEL_FLOOR = [
    (7, "3.3"), (8, "3.4"), (9, "3.5"), (12, "3.6"), (15, "3.7"), (20, "3.8"), (21, "3.9"),
    (22, "4.0"), (26, "4.1"), (28, "4.2"), (30, "4.3"), (31, "4.4"),
]
_KNOWN_TOP_LEVEL = 33  # 4.4-IV2


def release_for_level(level: int) -> str:
    """The Kafka release line ("4.4") of a metadata.version feature level."""
    if level > _KNOWN_TOP_LEVEL:
        return f"newer than {_LEVEL_FLOOR[-1][1]} (metadata.version level {level})"
    release = "older than 3.3"
    for floor, name in _LEVEL_FLOOR:
        if level >= floor:
            release = name
    return release


# -- ApiVersions v3 over a plain socket (aiokafka 0.14 speaks only v0-v2, without features) ----


@dataclass
class BrokerInfo:
    api_versions: dict[int, tuple[int, int]]
    finalized_features: dict[str, int] = field(default_factory=dict)

    @property
    def is_apache_kafka(self) -> bool:
        return "metadata.version" in self.finalized_features

    @property
    def kafka_release(self) -> str | None:
        level = self.finalized_features.get("metadata.version")
        return None if level is None else release_for_level(level)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def uvarint(self) -> int:
        shift = result = 0
        while True:
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def compact_str(self) -> str:
        n = self.uvarint() - 1
        text = self.data[self.pos : self.pos + n].decode()
        self.pos += n
        return text

    def skip_tags(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()


def _compact_str(text: str) -> bytes:
    raw = text.encode()
    return bytes([len(raw) + 1]) + raw  # lengths < 127 fit one varint byte


def _recv(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return buf


def probe_broker(bootstrap: str, timeout: float = 10.0) -> BrokerInfo:
    """Send ApiVersions v3 to the first bootstrap server; parse API ranges and features."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    client_id = b"inapp-engine-tests"
    # request header v2: api_key, api_version, correlation_id, client_id, no tagged fields
    header = struct.pack(">hhih", 18, 3, 7, len(client_id)) + client_id + b"\x00"
    body = _compact_str("inapp-engine-tests") + _compact_str("1") + b"\x00"
    payload = header + body
    with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", _recv(sock, 4))
        reader = _Reader(_recv(sock, size))
    assert reader.take(">i") == 7, "correlation id mismatch"
    error = reader.take(">h")
    if error == 35:  # UNSUPPORTED_VERSION: the broker answers v0 with its ranges; no features
        versions = {}
        for _ in range(reader.take(">i")):
            key, lo, hi = reader.take(">h"), reader.take(">h"), reader.take(">h")
            versions[key] = (lo, hi)
        return BrokerInfo(api_versions=versions)
    assert error == 0, f"ApiVersions error code {error}"
    versions = {}
    for _ in range(reader.uvarint() - 1):
        key, lo, hi = reader.take(">h"), reader.take(">h"), reader.take(">h")
        reader.skip_tags()
        versions[key] = (lo, hi)
    reader.take(">i")  # throttle_time_ms
    finalized: dict[str, int] = {}
    for _ in range(reader.uvarint()):
        tag, size = reader.uvarint(), reader.uvarint()
        end = reader.pos + size
        if tag == 2:  # FinalizedFeatures: name, max_version_level, min_version_level
            for _ in range(reader.uvarint() - 1):
                name = reader.compact_str()
                finalized[name] = reader.take(">h")
                reader.take(">h")
                reader.skip_tags()
        reader.pos = end
    return BrokerInfo(api_versions=versions, finalized_features=finalized)


def pinned_kafka_version() -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(POM).getroot().find("m:properties/m:kafka.version", ns)
    assert node is not None and node.text
    return node.text.strip()


# -- tests -----------------------------------------------------------------------------------


async def _consume(bootstrap: str, topic: str, want: int, timeout: float = 30.0,
                   **kwargs: Any) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap,
                                auto_offset_reset="earliest", **kwargs)
    await consumer.start()
    got: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got


@pytest.mark.kafka
async def test_message_round_trips(kafka_bootstrap: str,
                                   unique_name: Callable[[str], str]) -> None:
    topic = unique_name("roundtrip")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, key=b"endpoint-111",
                                            value=b'{"EventType":"app_launch"}',
                                            headers=[("origin", b"test")])
    finally:
        await producer.stop()
    [record] = await _consume(kafka_bootstrap, topic, want=1)
    assert (record.partition, record.offset) == (sent.partition, sent.offset)
    assert record.key == b"endpoint-111"
    assert record.value == b'{"EventType":"app_launch"}'
    assert ("origin", b"test") in list(record.headers)


@pytest.mark.kafka
def test_broker_identity(kafka_bootstrap: str, broker_kind: str) -> None:
    info = probe_broker(kafka_bootstrap)
    assert 3 in info.api_versions and 18 in info.api_versions  # Metadata, ApiVersions
    if broker_kind == "tansu":
        assert not info.is_apache_kafka, info.finalized_features
        return
    if broker_kind == "apache-kafka":
        assert info.is_apache_kafka, (
            f"told the broker is Apache Kafka, but it finalizes no metadata.version: {info}")
    if not info.is_apache_kafka:
        pytest.skip(f"external broker is not Apache Kafka in KRaft mode ({broker_kind})")
    release = info.kafka_release
    assert release and re.fullmatch(r"\d+\.\d+", release), release
    expected = os.environ.get("INAPP_KAFKA_VERSION", "").strip()
    if broker_kind == "apache-kafka" and expected:
        # .ci/run exports the version of the broker it started (scripts/kafka/kafka.py version)
        assert expected.startswith(release + "."), (release, expected)


def test_release_table_knows_the_pinned_version() -> None:
    """Bumping kafka.version in pom.xml past this table must extend the table too."""
    pinned = pinned_kafka_version()
    assert any(pinned.startswith(name + ".") for _, name in _LEVEL_FLOOR), pinned
    assert release_for_level(_KNOWN_TOP_LEVEL) == ".".join(pinned.split(".")[:2])


@pytest.mark.kafka
@pytest.mark.transactions
async def test_transaction_commit_and_abort(kafka_bootstrap: str,
                                            unique_name: Callable[[str], str]) -> None:
    topic = unique_name("txn")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap,
                                transactional_id=unique_name("txn-producer"))
    await producer.start()
    try:
        async with producer.transaction():
            for i in range(3):
                await producer.send(topic, key=b"k", value=f"committed-{i}".encode())
        await producer.begin_transaction()
        for i in range(3):
            await producer.send(topic, key=b"k", value=f"aborted-{i}".encode())
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, key=b"k", value=b"committed-3")
    finally:
        await producer.stop()

    committed = await _consume(kafka_bootstrap, topic, want=4, isolation_level="read_committed")
    assert [r.value for r in committed] == [f"committed-{i}".encode() for i in range(4)]
    # read_uncommitted sees the aborted records too: the abort really happened in the log
    everything = await _consume(kafka_bootstrap, topic, want=7,
                                isolation_level="read_uncommitted")
    assert sorted(r.value for r in everything) == sorted(
        [f"committed-{i}".encode() for i in range(4)] + [f"aborted-{i}".encode() for i in range(3)])

