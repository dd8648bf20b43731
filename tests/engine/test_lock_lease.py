"""The SQLite sync lock: a short lease that a crashed holder loses within a minute, renewed by a
heartbeat while a run holds it. The store's clock is injected; nothing sleeps for real beyond a
few hundredths of a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings, StoreSettings
from sync.clock import FixedClock
from sync.engine import SyncBusy, SyncEngine
from sync.engine.lease import LEASE_S, LockLease
from sync.gateway import Gateway
from sync.store import Store

NAME = "sync:portal"


class MovableClock:
    """The store's clock: a UTC datetime the test moves forward (thread-safe)."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, 12, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def store(tmp_path: Path, clock: MovableClock) -> Iterator[Store]:
    opened = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    opened.migrate()
    yield opened
    opened.close()


def _wait_for(check: Callable[[], bool], timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def _renewed_since(lease: LockLease, count: int) -> bool:
    return lease.renewals >= count


def test_a_crashed_holder_frees_the_lock_within_the_lease(
    store: Store, clock: MovableClock
) -> None:
    assert store.try_lock(NAME, "crashed-run", LEASE_S)  # and never unlocks nor renews

    with LockLease(store, NAME) as held:
        assert not held
    clock.advance(LEASE_S - 1)
    with LockLease(store, NAME) as held:
        assert not held
    clock.advance(2)
    with LockLease(store, NAME) as held:
        assert held


def test_the_heartbeat_keeps_a_long_run_holding_the_lock(
    store: Store, clock: MovableClock
) -> None:
    lease = LockLease(store, NAME, interval_s=0.01)
    with lease as held:
        assert held
        for _ in range(5):  # three leases' worth of run time
            before = lease.renewals
            clock.advance(LEASE_S * 0.6)
            # two more renewals: at least one of them started after the clock moved
            _wait_for(partial(_renewed_since, lease, before + 2))
            assert not store.try_lock(NAME, "another-run", LEASE_S)
        assert not lease.lost
    assert store.try_lock(NAME, "another-run", LEASE_S)  # released at the end of the block


def test_without_heartbeat_the_lease_would_have_expired(
    store: Store, clock: MovableClock
) -> None:
    # The counterpart of the test above: the same clock moves with no beat in between.
    with LockLease(store, NAME, interval_s=3600) as held:
        assert held
        clock.advance(LEASE_S + 1)
        assert store.try_lock(NAME, "another-run", LEASE_S)


def test_engine_run_is_refused_then_allowed_after_a_crashed_holder_lease(
    tmp_path: Path, store: Store, clock: MovableClock
) -> None:
    settings = Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("t"), base_url="http://127.0.0.1:9"),
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'store.db'}"),
    )
    gateway = Gateway(settings.hubspot)
    engine = SyncEngine(settings, gateway=gateway, store=store,
                        clock=FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC)))
    assert store.try_lock(engine.lock_name, "crashed-run", engine.lock_lease_s)
    try:
        with pytest.raises(SyncBusy):
            engine.reevaluate()  # an empty mirror: no HubSpot call is needed
        clock.advance(61)
        report = engine.reevaluate()
        assert report.status == "ok"
        assert store.try_lock(engine.lock_name, "next-run", engine.lock_lease_s)
    finally:
        gateway.close()


class _TakenOverStore(Store):
    """Grants the first ``try_lock`` and refuses every later one (another owner took over)."""

    calls = 0

    def try_lock(self, name: str, owner: str, lease_s: float) -> bool:
        self.calls += 1
        return self.calls == 1


def test_a_lease_taken_over_is_reported_lost_and_no_longer_renewed(tmp_path: Path) -> None:
    store = _TakenOverStore.from_url(f"sqlite:///{tmp_path / 'other.db'}")
    assert isinstance(store, _TakenOverStore)
    store.migrate()
    try:
        lease = LockLease(store, NAME, interval_s=0.01)
        with lease as held:
            assert held
            _wait_for(lambda: lease.lost)
            time.sleep(0.05)  # several beats' time: the heartbeat must have stopped
            assert store.calls == 2
            assert lease.renewals == 0
    finally:
        store.close()
