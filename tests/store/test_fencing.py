"""Fencing tokens and abandoned runs, on SQLite and PostgreSQL: a lock holder proves inside its
commit transaction that it still holds the lock; one that lost it commits nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, text

from sync.store import Fence, LockLost, Store
from tests.store.conftest import FakeClock

NAME = "sync:62515"


def _commit_checkpoint(store: Store, fence: Fence, value: str) -> None:
    with store.transaction() as tx:
        tx.check_fence(fence)
        tx.set_checkpoint("fenced", value)


def test_the_holder_commits_and_a_renewal_keeps_its_token(store: Store) -> None:
    fence = store.acquire_lock(NAME, "a", 60)
    assert fence is not None
    assert store.acquire_lock(NAME, "a", 60) == fence
    assert store.acquire_lock(NAME, "b", 60) is None
    _commit_checkpoint(store, fence, "a")
    assert store.get_checkpoint("fenced") == "a"


def test_a_new_holder_gets_a_larger_token(store: Store) -> None:
    first = store.acquire_lock(NAME, "a", 60)
    assert first is not None
    assert store.unlock(NAME, "a")
    second = store.acquire_lock(NAME, "b", 60)
    assert second is not None
    assert second.token > first.token


@pytest.mark.parametrize("lease_s", [30.0])
def test_sqlite_holder_whose_lease_was_taken_over_commits_nothing(
    store: Store, other_store: Store, clock: FakeClock, lease_s: float
) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the lease decides on SQLite; PostgreSQL has its own test below")
    old = store.acquire_lock(NAME, "old", lease_s)
    assert old is not None
    clock.advance(lease_s + 1)  # the old holder's heartbeat stalled
    new = other_store.acquire_lock(NAME, "new", lease_s)
    assert new is not None
    assert new.token > old.token
    _commit_checkpoint(other_store, new, "new")
    with pytest.raises(LockLost):
        _commit_checkpoint(store, old, "old")
    assert store.get_checkpoint("fenced") == "new"
    assert store.acquire_lock(NAME, "old", lease_s) is None  # no snatching it back


def test_sqlite_expired_lease_fails_the_fence_even_before_a_takeover(
    store: Store, clock: FakeClock
) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite leases")
    fence = store.acquire_lock(NAME, "slow", 30)
    assert fence is not None
    clock.advance(31)
    with pytest.raises(LockLost, match="lease"):
        _commit_checkpoint(store, fence, "slow")
    assert store.get_checkpoint("fenced") is None


@pytest.mark.postgres
def test_postgres_holder_whose_session_dropped_commits_nothing(
    store: Store, other_store: Store, store_url: str
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    old = store.acquire_lock(NAME, "old", 60)
    assert old is not None
    assert other_store.acquire_lock(NAME, "new", 60) is None
    # The old holder's session dies (network cut, backend killed): its advisory lock goes
    # with it, while the process itself goes on and later tries to commit.
    admin = create_engine(store_url)
    with admin.begin() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            " AND (classid::bigint << 32 | objid::bigint) = (:k & x'ffffffffffffffff'::bigint)"
        ), {"k": _advisory_key(NAME)})
    admin.dispose()
    new = other_store.acquire_lock(NAME, "new", 60)
    assert new is not None
    assert new.token > old.token
    with pytest.raises(LockLost):
        _commit_checkpoint(store, old, "old")
    _commit_checkpoint(other_store, new, "new")
    assert store.get_checkpoint("fenced") == "new"
    assert store.acquire_lock(NAME, "old", 60) is None  # its renewal finds the session gone


def _advisory_key(name: str) -> int:
    from sync.store.database import advisory_key

    return advisory_key(name)


def test_runs_of_a_holder_that_is_gone_are_abandoned(
    store: Store, other_store: Store, clock: FakeClock
) -> None:
    old = store.acquire_lock(NAME, "old", 30)
    assert old is not None
    stuck = store.start_run("incremental", date(2026, 1, 1), "schedule", lock=old)
    unrelated = store.start_run("full", date(2026, 1, 1), "cli")
    store.close()  # the process dies: no unlock, no finish_run
    clock.advance(31)
    new = other_store.acquire_lock(NAME, "new", 30)
    assert new is not None
    mine = other_store.start_run("incremental", date(2026, 1, 1), "schedule", lock=new)
    assert other_store.abandon_runs(new) == [stuck]
    abandoned = other_store.get_run(stuck)
    assert abandoned is not None
    assert abandoned.status == "abandoned"
    assert abandoned.finished_at is not None
    assert "abandoned" in (abandoned.error or "")
    for run_id in (mine, unrelated):
        run = other_store.get_run(run_id)
        assert run is not None
        assert run.status == "running"
