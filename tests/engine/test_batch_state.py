"""The batch ingest's state handling, without a broker: coalesced changelog records,
counters that count each source event once across a replay with different batch
boundaries, and dead letters that fit the producer's 1 MB limit whatever arrived."""

from __future__ import annotations

import asyncio

import orjson

from engine.deadletter import DEAD_LETTER_VALUE_LIMIT, dead_letter_for
from engine.kpis import apply_metric_delta
from engine.tables import StagedTable
from rules.errors import EventError
from topics.wire import MetricDelta, MetricRow, encode_json


class _FakeTopic:
    def get_topic_name(self) -> str:
        return "app-caps-changelog"


class _Metadata:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class _FakeStore(dict):  # type: ignore[type-arg]
    persisted: dict[int, int]

    def set_persisted_offset(self, tp: object, offset: int) -> None:
        self.persisted[tp.partition] = offset  # type: ignore[attr-defined]


class _FakeTable:
    """What StagedTable uses of a Faust table: its store and its changelog topic."""

    def __init__(self) -> None:
        self.data = _FakeStore()
        self.data.persisted = {}
        self.changelog_topic = _FakeTopic()


class _Changelog:
    """A producer stand-in: records what is sent, acknowledges it at once."""

    def __init__(self) -> None:
        self.records: list[tuple[str, int, bytes, bytes | None]] = []

    async def send(self, topic: str, partition: int, key: bytes, value: bytes | None) -> asyncio.Future[object]:
        self.records.append((topic, partition, key, value))
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        future.set_result(_Metadata(len(self.records) - 1))
        return future


async def test_a_key_changed_many_times_in_a_batch_sends_one_changelog_record_with_the_last_value():
    table = _FakeTable()
    staged = StagedTable(table)
    changelog = _Changelog()
    for n in range(5):
        staged.set(b"app\x1fep-1", f"v{n}".encode(), partition=3)
    staged.set(b"app\x1fep-2", b"other", partition=1)
    assert staged.get(b"app\x1fep-1") == b"v4"  # reads see the write at once
    assert changelog.records == []  # nothing sent before the flush
    await staged.flush(changelog.send)
    assert sorted(changelog.records) == [("app-caps-changelog", 1, b"app\x1fep-2", b"other"),
                                         ("app-caps-changelog", 3, b"app\x1fep-1", b"v4")]
    await asyncio.sleep(0)  # the acknowledgements' callbacks
    assert set(table.data.persisted) == {1, 3}  # the store learns which changelog offsets it holds


async def test_a_deleted_key_sends_a_tombstone_and_deleting_a_missing_key_sends_nothing():
    table = _FakeTable()
    staged = StagedTable(table)
    changelog = _Changelog()
    staged.set(b"k", b"v", partition=0)
    await staged.flush(changelog.send)
    staged.delete(b"k", partition=0)
    staged.delete(b"never-there", partition=0)
    await staged.flush(changelog.send)
    assert [(p, k, v) for _, p, k, v in changelog.records] == [(0, b"k", b"v"), (0, b"k", None)]
    assert staged.get(b"k") is None


async def test_a_replayed_record_resends_the_stored_value_but_never_a_missing_one():
    table = _FakeTable()
    staged = StagedTable(table)
    changelog = _Changelog()
    staged.set(b"k", b"v", partition=2)
    await staged.flush(changelog.send)
    staged.touch(b"k", partition=2)
    staged.touch(b"absent", partition=2)
    await staged.flush(changelog.send)
    assert [(p, k, v) for _, p, k, v in changelog.records] == [(2, b"k", b"v"), (2, b"k", b"v")]


def _delta(offsets: list[int], partition: int = 2) -> bytes:
    rows = [MetricRow(TreatmentId="0", Day="2026-11-28", Counts={"decisions": 1}, SourceOffset=o) for o in offsets]
    return encode_json(MetricDelta(ApplicationId="app", CampaignId="c1", Rows=rows,
                                   SourcePartition=partition, SourceOffset=max(offsets)))


def _decisions(table: _FakeTable) -> int:
    counters = orjson.loads(table.data[b"c1"])
    return counters["Days"]["2026-11-28"]["0"]["decisions"]


def test_a_replayed_batch_with_other_boundaries_counts_each_source_event_once():
    table = _FakeTable()
    metrics = StagedTable(table)
    apply_metric_delta(metrics, 0, _delta([10, 11, 12]))
    # after a crash the events from offset 10 are read again in one larger batch
    apply_metric_delta(metrics, 0, _delta([10, 11, 12, 13, 14]))
    assert _decisions(table) == 5
    apply_metric_delta(metrics, 0, _delta([11, 12]))  # an older duplicate changes nothing
    assert _decisions(table) == 5


def test_source_partitions_are_counted_independently():
    table = _FakeTable()
    metrics = StagedTable(table)
    apply_metric_delta(metrics, 0, _delta([100], partition=0))
    apply_metric_delta(metrics, 0, _delta([5], partition=1))
    assert _decisions(table) == 2


def test_a_2mb_record_gets_a_dead_letter_under_the_producers_1mb_limit_with_its_size():
    for value in (b"x" * (2 * 1024 * 1024), b"\xff" * (2 * 1024 * 1024)):
        key, letter = dead_letter_for(EventError("", "too large"), topic="events", partition=0, offset=7,
                                      key=b"k" * (2 * 1024 * 1024), value=value)
        assert len(letter) + len(key or b"") < 1024 * 1024
        decoded = orjson.loads(letter)
        assert decoded["ValueTruncated"] is True
        assert decoded["ValueSize"] == len(value)
        assert decoded["Reason"] == "too large"
        assert len(decoded["Value"]) >= DEAD_LETTER_VALUE_LIMIT


def test_a_small_record_is_kept_whole_in_its_dead_letter():
    _, letter = dead_letter_for(ValueError("bad"), topic="events", partition=0, offset=1, key=b"k", value=b"{oops")
    decoded = orjson.loads(letter)
    assert decoded["Value"] == "{oops"
    assert decoded["ValueTruncated"] is False
    assert decoded["ValueSize"] == 5
