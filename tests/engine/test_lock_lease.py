"""The SQLite sync lock: a short lease that a crashed holder loses within a minute, renewed by a
heartbeat while a run holds it. The store's clock is injected; nothing sleeps for real beyond a
few hundredths of a second."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from config.settings import HubSpotSettings, Settings, StoreSettings, SyncSettings
from sync.clock import FixedClock
from sync.engine import RunReport, SyncBusy, SyncEngine, SyncError
from sync.engine.engine import PORTAL_ID_KEY
from sync.engine.lease import LEASE_S, LockLease
from sync.engine.outcome import ReadOutcome
from sync.gateway import Gateway
from sync.store import Fence, LockLost, MirrorRecord, Store
from sync.store.database import advisory_key

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
    _known_portal(store, gateway)
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


def _known_portal(store: Store, gateway: Gateway, portal: int = 62515) -> None:
    """The portal id as an earlier run kept it (no account-info call needed)."""
    with store.transaction() as tx:
        tx.set_checkpoint(PORTAL_ID_KEY + gateway.token_fingerprint, str(portal))


class _TakenOverStore(Store):
    """Grants the first ``acquire_lock`` and refuses every later one (another owner took over)."""

    calls = 0

    def acquire_lock(self, name: str, owner: str, lease_s: float) -> Fence | None:
        self.calls += 1
        return Fence(name, owner, 1) if self.calls == 1 else None


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
            with pytest.raises(LockLost):
                lease.ensure_held()
    finally:
        store.close()


# -- fenced runs: a run that lost its lease pushes no further and commits nothing ---------------


class _HubSpot:
    """A tiny HubSpot over ``httpx.MockTransport``: account details and batch updates."""

    def __init__(self) -> None:
        self.updates: list[object] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/account-info/v3/details":
            return httpx.Response(200, json={"portalId": 62515, "timeZone": "UTC"})
        if request.url.path.endswith("/batch/update"):
            inputs = json.loads(request.content)["inputs"]
            self.updates.append(inputs)
            return httpx.Response(200, json={"status": "COMPLETE", "results": [
                {"id": i["id"], "properties": i["properties"]} for i in inputs]})
        return httpx.Response(404, json={"status": "error", "message": "not here"})


def _racing_engines(
    tmp_path: Path, store: Store, hubspot: _HubSpot, lease_s: float = LEASE_S
) -> tuple[SyncEngine, SyncEngine, Gateway]:
    settings = Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("t"), base_url="http://hubspot.test",
                                max_attempts=1),
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'store.db'}"),
        sync=SyncSettings(lock_lease_s=lease_s),
    )
    gateway = Gateway(settings.hubspot, transport=httpx.MockTransport(hubspot))
    clock = FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
    # A record that shows an output nothing gives it any more: every run patches it (a clear).
    store.upsert_records([MirrorRecord(
        "companies", "1", {"name": "Acme", "partner_registration_status": "registered"})])
    engines = (SyncEngine(settings, gateway=gateway, store=store, clock=clock),
               SyncEngine(settings, gateway=gateway, store=store, clock=clock))
    return engines[0], engines[1], gateway


def test_two_runs_racing_a_lost_lease_only_the_current_holder_commits(
    tmp_path: Path, store: Store, clock: MovableClock
) -> None:
    hubspot = _HubSpot()
    a, b, gateway = _racing_engines(tmp_path, store, hubspot)
    reports: list[RunReport] = []

    def read_a(started_at: datetime, dry: bool) -> ReadOutcome:
        clock.advance(LEASE_S + 1)  # A stalls past its lease (its heartbeat did not run)...
        reports.append(b.execute("reevaluate", trigger="test", read=read_b))  # ...B takes over
        return ReadOutcome({}, {"race:a": "a"})

    def read_b(started_at: datetime, dry: bool) -> ReadOutcome:
        return ReadOutcome({}, {"race:b": "b"})

    try:
        with pytest.raises(SyncError) as stopped:
            a.execute("reevaluate", trigger="test", read=read_a)
    finally:
        gateway.close()
    assert stopped.value.kind == "lock_lost"
    assert reports[0].status == "ok"
    assert store.get_checkpoint("race:b") == "b"
    assert store.get_checkpoint("race:a") is None  # A's commit was refused as a whole
    a_run = store.get_run(stopped.value.report.run_id if stopped.value.report else -1)
    assert a_run is not None
    assert a_run.status == "failed"
    assert "nothing was committed" in (a_run.error or "")
    assert a.lock_name == b.lock_name == "sync:62515"


def test_a_run_that_saw_its_lease_lost_pushes_nothing_more(
    tmp_path: Path, store: Store, clock: MovableClock, caplog: pytest.LogCaptureFixture
) -> None:
    hubspot = _HubSpot()
    a, b, gateway = _racing_engines(tmp_path, store, hubspot, lease_s=1.5)  # beats every 0.5 s

    def read_a(started_at: datetime, dry: bool) -> ReadOutcome:
        clock.advance(2)
        assert b.execute("reevaluate", trigger="test").status == "ok"  # B writes the patch
        _wait_for(lambda: "was taken over" in caplog.text)  # A's heartbeat notices
        return ReadOutcome({})

    try:
        with pytest.raises(SyncError) as stopped:
            a.execute("reevaluate", trigger="test", read=read_a)
    finally:
        gateway.close()
    assert stopped.value.kind == "lock_lost"
    assert len(hubspot.updates) == 1  # B's write only: A stopped before pushing


def test_the_portal_id_is_read_once_and_kept_for_the_lock_name(
    tmp_path: Path, store: Store
) -> None:
    hubspot = _HubSpot()
    seen: list[str] = []

    def counting(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return hubspot(request)

    settings = Settings(hubspot=HubSpotSettings(access_token=SecretStr("t"),
                                                base_url="http://hubspot.test"))
    with Gateway(settings.hubspot, transport=httpx.MockTransport(counting)) as gateway:
        first = SyncEngine(settings, gateway=gateway, store=store)
        assert first.lock_name == "sync:62515"
        assert first.lock_name == "sync:62515"
        second = SyncEngine(settings, gateway=gateway, store=store)  # a restart: from the store
        assert second.lock_name == "sync:62515"
    assert seen == ["/account-info/v3/details"]


def _drop_advisory_session(url: str, name: str) -> None:
    """End the database session holding ``name``'s advisory lock (a network cut, a killed
    backend): the lock frees itself while the process that held it goes on."""
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            " AND (classid::bigint << 32 | objid::bigint) = (:k & x'ffffffffffffffff'::bigint)"
        ), {"k": advisory_key(name)})
    admin.dispose()


@pytest.mark.postgres
def test_postgres_two_replicas_racing_a_dropped_lock_session_only_the_holder_commits(
    tmp_path: Path, pg_url: str
) -> None:
    replica_a, replica_b = Store.from_url(pg_url), Store.from_url(pg_url)
    replica_a.migrate()
    hubspot = _HubSpot()
    a, _, gateway = _racing_engines(tmp_path, replica_a, hubspot)
    b = SyncEngine(a.settings, gateway=gateway, store=replica_b, clock=a.clock)
    reports: list[RunReport] = []

    def read_a(started_at: datetime, dry: bool) -> ReadOutcome:
        _drop_advisory_session(pg_url, a.lock_name)
        reports.append(b.execute("reevaluate", trigger="test",
                                 read=lambda _s, _d: ReadOutcome({}, {"race:b": "b"})))
        return ReadOutcome({}, {"race:a": "a"})

    try:
        with pytest.raises(SyncError) as stopped:
            a.execute("reevaluate", trigger="test", read=read_a)
        assert stopped.value.kind == "lock_lost"
        assert reports[0].status == "ok"
        assert replica_a.get_checkpoint("race:b") == "b"
        assert replica_a.get_checkpoint("race:a") is None
    finally:
        gateway.close()
        replica_a.close()
        replica_b.close()


def test_replicas_holding_different_tokens_of_one_portal_share_the_lock(
    tmp_path: Path, store: Store
) -> None:
    hubspot = _HubSpot()
    engines, gateways = [], []
    for token in ("old-token-before-rotation", "new-token-after-rotation"):
        settings = Settings(hubspot=HubSpotSettings(access_token=SecretStr(token),
                                                    base_url="http://hubspot.test"))
        gateway = Gateway(settings.hubspot, transport=httpx.MockTransport(hubspot))
        gateways.append(gateway)
        engines.append(SyncEngine(settings, gateway=gateway, store=store,
                                  clock=FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC))))
    old, new = engines
    try:
        assert old.lock_name == new.lock_name == "sync:62515"

        def read_old(started_at: datetime, dry: bool) -> ReadOutcome:
            with pytest.raises(SyncBusy):  # the other token's replica waits its turn
                new.reevaluate()
            return ReadOutcome({})

        assert old.execute("reevaluate", trigger="test", read=read_old).status == "ok"
    finally:
        for gateway in gateways:
            gateway.close()
