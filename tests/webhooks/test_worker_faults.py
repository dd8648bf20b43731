"""The inbox worker under faults: an outage releases the whole claim unsplit and untouched, a
poison or crash-looping event is dead-lettered with its reason, claims are renewed while
worked, and every constant comes from settings."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine, update
from sqlalchemy.exc import OperationalError

from config.settings import InboxSettings
from sync.clock import FixedClock
from sync.engine import SyncError
from sync.gateway import HubSpotError
from sync.store import InboxEvent, Store
from sync.store.schema import inbox
from tests.webhooks.conftest import FakeEngine, event, inbox_rows
from tests.webhooks.test_worker import OUTPUTS, queue
from webhooks.failures import failure_kind
from webhooks.worker import InboxWorker, RedeliveryPolicy, failures

SETTINGS = InboxSettings(claim_lease_s=30, claim_renew_s=10, retry_base_s=10, retry_max_s=100,
                         max_failures=3, max_lost_claims=3, busy_delay_s=1, outage_base_s=20,
                         outage_max_s=60)


def make_worker(store: Store, engine: FakeEngine, clock: FixedClock,
                settings: InboxSettings = SETTINGS) -> InboxWorker:
    return InboxWorker(store, engine, clock=clock, output_properties=OUTPUTS, app_id="777",
                       worker_id="w1", settings=settings)


def _hubspot_failure(status: int | None) -> SyncError:
    kind = "unreachable" if status is None else "hubspot"
    error = SyncError(f"HubSpot answered {status}", kind)  # type: ignore[arg-type]
    error.__cause__ = HubSpotError(f"status {status}", status=status)
    return error


OUTAGES = {
    "connect error": _hubspot_failure(None),
    "503 after retries": _hubspot_failure(503),
    "429 storm": _hubspot_failure(429),
    "store unavailable": OperationalError("INSERT INTO runs", {}, Exception("disk I/O error")),
    "token refused": SyncError("401", "auth"),
    "transport": httpx.ConnectError("refused"),
}


@pytest.mark.parametrize("name", sorted(OUTAGES))
def test_an_outage_releases_the_whole_claim_unsplit_and_untouched(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock, name: str
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2), event(3, event_id=3))
    engine.raises = OUTAGES[name]
    worker = make_worker(store, engine, clock)
    result = worker.run_once()
    assert engine.attempts == 1  # no per-record split: it would fail the same way, 3 more times
    assert (result.outage, result.retried, result.dead, result.done) == (3, 0, 0, 0)
    for row in inbox_rows(store_url):
        assert row["status"] == "pending"
        assert failures(row["last_error"]) == 0  # an outage counts no failure of the event
        assert row["last_error"].startswith("outage: ")
        assert row["next_attempt_at"] == clock.now() + timedelta(seconds=20)
    clock.advance(timedelta(seconds=20))
    worker.run_once()  # the outage goes on: the backoff doubles
    assert inbox_rows(store_url)[0]["next_attempt_at"] == clock.now() + timedelta(seconds=40)
    engine.raises = None
    clock.advance(timedelta(seconds=40))
    assert worker.run_once().done == 3


def test_an_outage_met_while_splitting_stops_the_split(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2), event(3, event_id=3))
    engine.raises = SyncError("ValueError: bad value", "internal")  # a record problem: split

    def outage_after_first_split() -> None:
        if engine.attempts == 2:
            engine.raises = _hubspot_failure(502)

    engine.during = outage_after_first_split
    result = make_worker(store, engine, clock).run_once()
    assert engine.attempts == 2  # the batch, then the first record alone meets the outage
    assert result.outage == 3
    assert result.retried == 0


def test_record_failures_are_still_split(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1), event(2, event_id=2))
    engine.bad = {("deals", "1")}
    result = make_worker(store, engine, clock).run_once()
    assert engine.attempts == 3
    assert (result.done, result.retried) == (1, 1)


def test_failure_classes() -> None:
    assert failure_kind(SyncError("x", "lock_lost")) == "busy"
    assert failure_kind(_hubspot_failure(400)) == "record"
    assert failure_kind(_hubspot_failure(404)) == "record"
    assert failure_kind(_hubspot_failure(500)) == "outage"
    assert failure_kind(KeyError("hs_object_id")) == "record"


def test_a_list_property_name_stored_earlier_no_longer_stops_the_worker(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    # Acknowledged before the receiver checked field types: a list where a property name belongs
    # (``is_own_echo`` raised "unhashable type" on it, failing every pass that claimed it).
    store.inbox_insert([InboxEvent("listy", event(1, prop=None, propertyName=["a"]),
                                   "deals", "1")])
    queue(store, event(2, event_id=2))
    result = make_worker(store, engine, clock).run_once()
    assert result.done == 2
    assert engine.calls == [("targeted", ([("deals", "1"), ("deals", "2")], "webhook"))]


def test_an_unreadable_payload_is_dead_lettered_and_the_rest_goes_on(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    store.inbox_insert([InboxEvent("poison", {"objectId": 1}, "deals", "1")])
    raw = create_engine(store_url)
    with raw.begin() as conn:  # a stored payload that is not even an object
        conn.execute(update(inbox).where(inbox.c.dedup_key == "poison").values(payload=[1, 2]))
    raw.dispose()
    queue(store, event(2, event_id=2))
    result = make_worker(store, engine, clock).run_once()
    assert (result.dead, result.done) == (1, 1)
    rows = {r["dedup_key"]: r for r in inbox_rows(store_url)}
    assert rows["poison"]["status"] == "dead"
    assert rows["poison"]["last_error"].startswith("unusable event: AttributeError")


def test_a_crash_looping_event_is_dead_lettered_with_its_reason(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1))
    for _ in range(SETTINGS.max_lost_claims - 1):  # a worker takes it and dies, again and again
        assert len(store.inbox_claim("doomed", 10, SETTINGS.claim_lease_s)) == 1
        clock.advance(timedelta(seconds=SETTINGS.claim_lease_s + 1))
    assert len(store.inbox_claim("doomed", 10, SETTINGS.claim_lease_s)) == 1
    clock.advance(timedelta(seconds=SETTINGS.claim_lease_s + 1))
    result = make_worker(store, engine, clock).run_once()
    assert result.dead == 1
    assert result.claimed == 0
    assert engine.attempts == 0
    (row,) = inbox_rows(store_url)
    assert row["status"] == "dead"
    assert row["last_error"].startswith("claimed 3 times and never finished")


def test_a_claim_lost_once_is_still_worked(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1))
    store.inbox_claim("died-once", 10, SETTINGS.claim_lease_s)
    clock.advance(timedelta(seconds=SETTINGS.claim_lease_s + 1))
    assert make_worker(store, engine, clock).run_once().done == 1
    assert inbox_rows(store_url)[0]["lost_claims"] == 1


def test_claims_are_renewed_while_a_slow_sync_works_them(
    store: Store, store_url: str, engine: FakeEngine, clock: FixedClock
) -> None:
    queue(store, event(1, event_id=1))
    fast = InboxSettings(claim_lease_s=1.5, claim_renew_s=0.05)
    renewed = threading.Event()
    start_lease = []

    def slow_sync() -> None:  # the store clock moves past the first lease while we work
        start_lease.append(inbox_rows(store_url)[0]["lease_until"])
        clock.advance(timedelta(seconds=5))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not renewed.is_set():
            if inbox_rows(store_url)[0]["lease_until"] > clock.now():
                renewed.set()
            time.sleep(0.02)
        assert store.inbox_claim("other", 10, 1.5) == []  # still ours: nobody can take it

    engine.during = slow_sync
    assert make_worker(store, engine, clock, fast).run_once().done == 1
    assert renewed.is_set()


def test_redelivery_policy_comes_from_settings() -> None:
    policy = RedeliveryPolicy.from_settings(SETTINGS)
    assert (policy.max_attempts, policy.max_lost_claims) == (3, 3)
    assert policy.delay_s(2) == 20
    assert policy.outage_delay_s(5) == 60
    with pytest.raises(ValueError, match="claim_renew_s"):
        InboxSettings(claim_lease_s=10, claim_renew_s=10)
