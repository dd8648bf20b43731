"""Webhook inbox (dedup, exclusive leased claims, retry, dead letters) and named locks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from sync.store import InboxEvent, Store
from tests.store.conftest import FakeClock


def _events(n: int, prefix: str = "e") -> list[InboxEvent]:
    return [InboxEvent(f"{prefix}{i}", {"objectId": i}, "deals", str(i)) for i in range(n)]


def test_insert_ignores_known_dedup_keys(store: Store) -> None:
    assert store.inbox_insert(_events(3)) == 3
    assert store.inbox_insert(_events(5)) == 2
    assert store.inbox_insert([InboxEvent("e0", {"other": "payload"})]) == 0
    assert store.inbox_depth() == 5


@pytest.mark.parametrize("key", ["", "k" * 513])
def test_dedup_key_length_checked_on_both_dialects(store: Store, key: str) -> None:
    with pytest.raises(ValueError, match="dedup key"):
        store.inbox_insert([InboxEvent(key, {})])
    assert store.inbox_depth() == 0


def test_claim_lease_and_done(store: Store, clock: FakeClock) -> None:
    store.inbox_insert(_events(3))
    clock.advance(10)
    first = store.inbox_claim("w1", limit=2, lease_s=30)
    assert [i.dedup_key for i in first] == ["e0", "e1"]
    assert first[0].payload == {"objectId": 0}
    assert first[0].attempts == 1
    assert first[0].lease_until == clock.now + timedelta(seconds=30)
    assert store.inbox_oldest_age() == 10
    assert [i.dedup_key for i in store.inbox_claim("w2", limit=5, lease_s=30)] == ["e2"]
    assert store.inbox_claim("w3", limit=5, lease_s=30) == []
    assert store.inbox_done([i.item_id for i in first]) == 2
    assert store.inbox_depth() == 1


def test_expired_lease_is_claimed_again(store: Store, clock: FakeClock) -> None:
    store.inbox_insert(_events(1))
    (item,) = store.inbox_claim("dies", 10, lease_s=30)
    clock.advance(29)
    assert store.inbox_claim("w2", 10, lease_s=30) == []
    clock.advance(2)
    (again,) = store.inbox_claim("w2", 10, lease_s=30)
    assert again.item_id == item.item_id
    assert again.attempts == 2


def test_retry_waits_then_dead_is_never_claimed(store: Store, clock: FakeClock) -> None:
    store.inbox_insert(_events(2))
    a, b = store.inbox_claim("w", 10, 30)
    store.inbox_retry(a.item_id, "HubSpot 503", clock.now + timedelta(seconds=60))
    store.inbox_dead(b.item_id, "no such object type")
    assert store.inbox_depth() == 1
    assert store.inbox_claim("w", 10, 30) == []
    clock.advance(60)
    (retried,) = store.inbox_claim("w", 10, 30)
    assert (retried.item_id, retried.attempts) == (a.item_id, 2)
    assert retried.last_error == "HubSpot 503"
    clock.advance(10)
    assert store.inbox_claim("w", 10, 30) == []  # the retried one is leased again
    clock.advance(3600)
    assert [i.item_id for i in store.inbox_claim("w", 10, 30)] == [a.item_id]  # b is dead


def test_dead_letter_on_insert_and_purge_of_done(store: Store, clock: FakeClock) -> None:
    store.inbox_insert([InboxEvent("bad", {"raw": "?"}, dead_reason="unknown subscriptionType")])
    store.inbox_insert(_events(1))
    assert store.inbox_depth() == 1
    (item,) = store.inbox_claim("w", 10, 30)
    store.inbox_done([item.item_id])
    assert store.inbox_oldest_age() is None
    clock.advance(10)
    assert store.inbox_purge(clock.now) == 1
    assert store.inbox_insert(_events(1)) == 1  # purged keys are forgotten
    assert store.inbox_insert([InboxEvent("bad", {})]) == 0  # dead letters are kept


def test_concurrent_workers_never_claim_the_same_row(
    store: Store, other_store: Store
) -> None:
    store.inbox_insert(_events(300))
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def work(s: Store, name: str) -> None:
        try:
            while batch := s.inbox_claim(name, limit=7, lease_s=300):
                claimed[name].extend(i.item_id for i in batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(store, "a")),
               threading.Thread(target=work, args=(other_store, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 300


def test_lock_is_exclusive_until_unlocked(store: Store, other_store: Store) -> None:
    assert store.try_lock("portal:1", "replica-a", lease_s=60) is True
    assert store.try_lock("portal:1", "replica-a", lease_s=60) is True  # renew
    assert other_store.try_lock("portal:1", "replica-b", lease_s=60) is False
    assert other_store.try_lock("portal:2", "replica-b", lease_s=60) is True
    assert other_store.unlock("portal:1", "replica-b") is False
    assert store.unlock("portal:1", "replica-a") is True
    assert other_store.try_lock("portal:1", "replica-b", lease_s=60) is True
    assert store.try_lock("portal:1", "replica-a", lease_s=60) is False


def test_lock_freed_when_holder_goes_away(
    store: Store, other_store: Store, clock: FakeClock
) -> None:
    """SQLite: the lease runs out. PostgreSQL: the holder's connection closes."""
    assert store.try_lock("portal:1", "a", lease_s=60) is True
    if store.dialect == "sqlite":
        clock.advance(59)
        assert other_store.try_lock("portal:1", "b", lease_s=60) is False
        clock.advance(2)
    else:
        store.close()
    assert other_store.try_lock("portal:1", "b", lease_s=60) is True


@pytest.mark.parametrize("lease_s", [0.0, 5.0])
def test_lock_names_are_independent(store: Store, lease_s: float) -> None:
    assert store.try_lock("x", "o", lease_s)
    assert store.try_lock("y", "p", lease_s)
