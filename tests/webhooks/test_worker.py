"""The inbox worker over a real SQLite store and a fake engine: grouping, echoes, busy, retry
with backoff, failure isolation, dead letters and lease re-claim after a crash."""

from __future__ import annotations

from datetime import timedelta

import orjson

from sync.clock import FixedClock
from sync.store import InboxEvent, Store
from tests.webhooks.conftest import FakeEngine, event, inbox_rows
from webhooks.events import parse_delivery
from webhooks.worker import InboxWorker, RedeliveryPolicy, failures

OUTPUTS = frozenset({"partner_attribution", "partner_registration_status"})


def queue(store: Store, *events: dict[str, object]) -> None:
    parsed = parse_delivery(orjson.dumps(list(events)))
    store.inbox_insert(
        InboxEvent(e.dedup_key, orjson.loads(e.payload), e.object_type, e.object_id)
        for e in parsed
    )


def make_worker(store: Store, engine: FakeEngine, clock: FixedClock, *,
                worker_id: str = "w1", lease_s: float = 60.0) -> InboxWorker:
    return InboxWorker(
        store, engine, clock=clock, output_properties=OUTPUTS, app_id="777",
        worker_id=worker_id, lease_s=lease_s,
        retry=RedeliveryPolicy(base_s=10.0, max_s=100.0, max_attempts=3, busy_delay_s=1.0),
    )


def statuses(store_url: str) -> list[str]:
    return [r["status"] for r in inbox_rows(store_url)]


def test_groups_events_per_object_into_one_targeted_sync(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(1, event_id=2, prop="amount", value="5"),
          event(1, event_id=3), event(9, kind="contact.creation", prop=None, event_id=4))
    result = make_worker(store, engine, clock).run_once()
    assert engine.calls == [("targeted", ([("contacts", "9"), ("deals", "1")], "webhook"))]
    assert (result.claimed, result.records, result.done) == (4, 2, 4)
    assert statuses(store_url) == ["done"] * 4


def test_association_change_names_both_ends(
    store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(0, kind="deal.associationChange", prop=None, associationType=
                       "DEAL_TO_COMPANY", fromObjectId=5, toObjectId=6))
    make_worker(store, engine, clock).run_once()
    assert engine.calls[0][1][0] == [("companies", "6"), ("deals", "5")]


def test_own_echoes_and_unsynced_types_do_no_work(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store,
          event(1, prop="partner_attribution", value="registered", event_id=1),
          event(2, prop="dealstage", event_id=2, sourceId="app:777"),
          event(3, kind="ticket.creation", prop=None, event_id=3))
    result = make_worker(store, engine, clock).run_once()
    assert engine.calls == []
    assert (result.echoes, result.ignored, result.claimed) == (2, 1, 3)
    assert statuses(store_url) == ["done"] * 3


def test_busy_engine_releases_without_counting_a_failure(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1))
    engine.busy = True
    worker = make_worker(store, engine, clock)
    for _ in range(5):  # a long full sync: many busy passes must not dead-letter anything
        assert worker.run_once().busy == 1
        clock.advance(timedelta(seconds=1))
    row = inbox_rows(store_url)[0]
    assert row["status"] == "pending"
    assert failures(row["last_error"]) == 0
    engine.busy = False
    assert worker.run_once().done == 1


def test_failure_backs_off_then_dead_letters(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1))
    engine.bad = {("deals", "1")}
    worker = make_worker(store, engine, clock)
    assert worker.run_once().retried == 1
    assert worker.run_once().claimed == 0  # not due before the backoff (10 s)
    clock.advance(timedelta(seconds=10))
    assert worker.run_once().retried == 1
    clock.advance(timedelta(seconds=19))
    assert worker.run_once().claimed == 0  # second backoff is 20 s
    clock.advance(timedelta(seconds=1))
    assert worker.run_once().dead == 1  # third failure = max_attempts
    row = inbox_rows(store_url)[0]
    assert row["status"] == "dead"
    assert failures(row["last_error"]) == 3
    clock.advance(timedelta(days=1))
    assert worker.run_once().claimed == 0


def test_one_bad_object_does_not_hold_back_the_others(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2))
    engine.bad = {("deals", "1")}
    result = make_worker(store, engine, clock).run_once()
    assert (result.done, result.retried) == (1, 1)
    by_object = {r["object_id"]: r["status"] for r in inbox_rows(store_url)}
    assert by_object == {"1": "pending", "2": "done"}


def test_partial_run_retries_only_the_refused_records_events(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2))
    engine.refused = {("deals", "2")}
    result = make_worker(store, engine, clock).run_once()
    assert len(engine.calls) == 1  # no isolation pass: the run itself said which write failed
    assert (result.done, result.retried) == (1, 1)
    assert {r["object_id"]: r["status"] for r in inbox_rows(store_url)} == {
        "1": "done", "2": "pending"}


def test_lease_expiry_hands_a_crashed_workers_events_to_another(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2))
    crashed = store.inbox_claim("crashed-worker", 100, 60.0)  # claimed, then the process died
    assert len(crashed) == 2
    survivor = make_worker(store, engine, clock, worker_id="w2")
    assert survivor.run_once().claimed == 0  # the lease is still live
    clock.advance(timedelta(seconds=61))
    result = survivor.run_once()
    assert (result.claimed, result.done) == (2, 2)
    assert statuses(store_url) == ["done", "done"]
