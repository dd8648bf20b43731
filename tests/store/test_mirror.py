"""The mirror: upsert, update, archive, delete, lookup and streaming."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from sync.store import MirrorRecord, Store
from tests.store.conftest import FakeClock

T0 = datetime(2024, 2, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _deal(i: int, stage: str = "appointmentscheduled", **kw: object) -> MirrorRecord:
    return MirrorRecord(
        "deals",
        str(i),
        properties={"dealstage": stage, "closedate": None},
        history={"hs_mrr": [{"value": "10.50", "timestamp": "2024-01-01T00:00:00Z"}]},
        associations={"companies": [str(1000 + i)], "subscriptions": []},
        updated_at=T0 + timedelta(minutes=i),
        **kw,  # type: ignore[arg-type]
    )


def test_upsert_then_get_round_trips_every_field(store: Store, clock: FakeClock) -> None:
    assert store.upsert_records([_deal(1), _deal(2)]) == 2
    got = store.get_records("deals", ["1", "2", "404"])
    assert set(got) == {"1", "2"}
    one = got["1"]
    assert one == _deal(1, fetched_at=clock.now)
    assert one.updated_at is not None
    assert one.updated_at.tzinfo is not None
    assert one.history["hs_mrr"][0]["value"] == "10.50"


def test_upsert_updates_in_place(store: Store, clock: FakeClock) -> None:
    store.upsert_records([_deal(1)])
    clock.advance(60)
    store.upsert_records([_deal(1, stage="closedwon")])
    rec = store.get_records("deals", ["1"])["1"]
    assert rec.properties["dealstage"] == "closedwon"
    assert rec.fetched_at == clock.now
    assert store.count_records("deals") == 1


def test_same_record_twice_in_one_batch_keeps_the_last(store: Store) -> None:
    store.upsert_records([_deal(1), _deal(1, stage="closedwon")])
    assert store.get_records("deals", ["1"])["1"].properties["dealstage"] == "closedwon"


def test_times_in_other_zones_come_back_as_utc(store: Store) -> None:
    plus2 = timezone(timedelta(hours=2))
    when = datetime(2024, 5, 1, 14, 0, tzinfo=plus2)
    store.upsert_records([MirrorRecord("companies", "7", updated_at=when, fetched_at=when)])
    rec = store.get_records("companies", ["7"])["7"]
    assert rec.updated_at == when
    assert rec.updated_at is not None
    assert rec.updated_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive"):
        store.upsert_records([MirrorRecord("companies", "7", updated_at=datetime(2024, 1, 1))])


def test_archive_hides_from_stream_and_upsert_revives(store: Store) -> None:
    store.upsert_records([_deal(i) for i in range(5)])
    assert store.mark_archived("deals", ["1", "3", "404"]) == 2
    assert store.mark_archived("deals", ["1"]) == 0  # already archived
    assert [r.object_id for r in store.iter_records("deals")] == ["0", "2", "4"]
    every = list(store.iter_records("deals", include_archived=True))
    assert [r.archived for r in every] == [False, True, False, True, False]
    assert store.count_records("deals") == 3
    store.upsert_records([_deal(1)])
    assert store.get_records("deals", ["1"])["1"].archived is False


def test_types_are_separate(store: Store) -> None:
    store.upsert_records([_deal(1), MirrorRecord("companies", "1", {"domain": "a.com"})])
    assert store.get_records("companies", ["1"])["1"].properties == {"domain": "a.com"}
    assert store.record_keys("deals") == {"1"}
    store.delete_records("companies", ["1"])
    assert store.get_records("deals", ["1"]) != {}


def test_delete_records(store: Store) -> None:
    store.upsert_records([_deal(i) for i in range(3)])
    assert store.delete_records("deals", ["0", "2", "9"]) == 2
    assert store.record_keys("deals") == {"1"}


def test_stream_pages_through_everything_in_order(store: Store) -> None:
    store.upsert_records(MirrorRecord("contacts", f"{i:05d}") for i in range(1234))
    ids = [r.object_id for r in store.iter_records("contacts", page_size=100)]
    assert ids == [f"{i:05d}" for i in range(1234)]


def test_bulk_lookup_beyond_one_in_list(store: Store) -> None:
    store.upsert_records(MirrorRecord("contacts", str(i)) for i in range(1500))
    got = store.get_records("contacts", (str(i) for i in range(0, 3000, 2)))
    assert len(got) == 750


@pytest.mark.slow
def test_100k_upsert_is_bulk_fast(store: Store) -> None:
    """100k rows in one call: one executemany per 5,000, not a round trip per row."""
    rows = [
        MirrorRecord("contacts", str(i), {"email": f"p{i}@example.com"},
                     associations={"companies": [str(i % 97)]}, updated_at=T0)
        for i in range(100_000)
    ]
    started = time.perf_counter()
    assert store.upsert_records(rows) == 100_000
    elapsed_s = time.perf_counter() - started
    assert store.count_records("contacts") == 100_000
    assert elapsed_s < 30, f"100k upserts took {elapsed_s:.1f}s"  # generous: shared CI cores
