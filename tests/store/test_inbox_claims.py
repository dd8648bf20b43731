"""Short claims renewed by their holder, and crash loops dead-lettered, on both dialects."""

from __future__ import annotations

from sqlalchemy import create_engine, select

from sync.store import InboxEvent, Store
from sync.store.schema import inbox
from tests.store.conftest import FakeClock


def test_a_holder_renews_its_claims_and_only_its_own(
    store: Store, other_store: Store, clock: FakeClock
) -> None:
    store.inbox_insert([InboxEvent("a", {}), InboxEvent("b", {})])
    a, b = store.inbox_claim("w1", 10, 30)
    clock.advance(20)
    assert store.inbox_renew("w1", [a.item_id], 30) == 1
    assert other_store.inbox_renew("w2", [b.item_id], 30) == 0  # not w2's claim
    clock.advance(20)  # b's lease ran out, a's was renewed
    (taken,) = other_store.inbox_claim("w2", 10, 30)
    assert taken.item_id == b.item_id
    assert taken.lost_claims == 1
    assert store.inbox_renew("w1", [a.item_id, b.item_id], 30) == 1  # b is w2's now
    assert store.inbox_done([a.item_id]) == 1
    assert store.inbox_renew("w1", [a.item_id], 30) == 0  # finished: nothing to renew


def test_an_event_whose_claims_keep_getting_lost_is_dead_lettered(
    store: Store, store_url: str, clock: FakeClock
) -> None:
    store.inbox_insert([InboxEvent("loop", {})])
    (first,) = store.inbox_claim("w", 10, 30)
    store.inbox_retry(first.item_id, "[failure 1] boom", clock())  # an ordinary failure
    for lost in range(3):  # claimed, then the worker dies, three times
        (claimed,) = store.inbox_claim("w", 10, 30)
        assert claimed.lost_claims == lost
        clock.advance(31)
        assert store.inbox_bury_lost(3) == (1 if lost == 2 else 0)
    store.inbox_insert([InboxEvent("fine", {})])
    assert [i.dedup_key for i in store.inbox_claim("w", 10, 30)] == ["fine"]
    assert store.inbox_depth() == 1
    raw = create_engine(store_url)
    with raw.connect() as conn:
        status, reason = conn.execute(
            select(inbox.c.status, inbox.c.last_error).where(inbox.c.dedup_key == "loop")
        ).one()
    raw.dispose()
    assert status == "dead"
    assert reason == ("claimed 3 times and never finished: the worker stopped each time "
                      "(a crash loop); previous error: [failure 1] boom")
