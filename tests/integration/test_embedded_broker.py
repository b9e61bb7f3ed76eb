"""The embedded broker: starts, answers, round-trips a message, and dies with its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.brokers import EmbeddedBroker

pytestmark = pytest.mark.kafka


async def test_message_round_trips_through_the_session_broker(kafka_bootstrap, unique_name):
    topic = unique_name("roundtrip")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"hello":"kafka"}', key=b"111")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=unique_name("group"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"111", b'{"hello":"kafka"}')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); read its state
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_embedded_broker_stops_cleanly():
    broker = EmbeddedBroker().start()
    pid = broker.pid
    assert pid is not None and _alive(pid)
    broker.stop()
    assert not _alive(pid)


def test_embedded_broker_dies_when_its_parent_is_killed():
    script = textwrap.dedent(
        """
        import sys, time
        from engine.brokers import EmbeddedBroker
        broker = EmbeddedBroker().start()
        print(broker.pid, flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        broker_pid = int(parent.stdout.readline())
        assert _alive(broker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(broker_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(broker_pid), "the broker outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
