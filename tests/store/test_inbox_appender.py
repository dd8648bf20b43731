"""The receiver's dedicated inbox connections queue exactly the rows ``inbox_insert`` does."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.store import InboxEvent, Store
from sync.store.inbox import InboxBusy
from tests.store.conftest import FakeClock
from tests.webhooks.conftest import inbox_rows


def _batch(prefix: str) -> list[InboxEvent]:
    return [
        InboxEvent(f"{prefix}:pending", {"objectId": 1, "n": [1, "two"]}, "deals", "1"),
        InboxEvent(f"{prefix}:settled", {"objectId": 2}, "companies", "2", settled=True),
        InboxEvent(f"{prefix}:dead", {"raw": "?"}, dead_reason="unknown subscriptionType"),
        InboxEvent(f"{prefix}:pending", {"objectId": 1}, "deals", "1"),  # same key, once
    ]


def _comparable(rows: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [{k: (v.removeprefix(prefix) if k == "dedup_key" else v)
             for k, v in row.items() if k != "item_id"}
            for row in rows if row["dedup_key"].startswith(prefix)]


def test_appender_rows_equal_inbox_insertinbox_rows(store: Store, store_url: str) -> None:
    assert store.inbox_insert(_batch("a")) == 3
    appender = store.inbox_appender()
    try:
        assert appender.append(_batch("b")) == 3
        assert appender.append(_batch("b")) == 0  # redelivered: ignored
    finally:
        appender.close()
    rows = inbox_rows(store_url)
    assert _comparable(rows, "a") == _comparable(rows, "b")


@pytest.fixture
def pg_store(pg_url: str, clock: FakeClock) -> Iterator[tuple[Store, str]]:
    store = Store.from_url(pg_url, clock)
    store.migrate()
    try:
        yield store, pg_url
    finally:
        store.close()


@pytest.mark.postgres
def test_async_appender_rows_equal_inbox_insertinbox_rows(pg_store: tuple[Store, str]) -> None:
    store, store_url = pg_store
    assert store.inbox_insert(_batch("a")) == 3
    appender = store.inbox_async_appender()

    async def go() -> tuple[int, int]:
        try:
            return await appender.append(_batch("c")), await appender.append(_batch("c"))
        finally:
            await appender.close()

    assert asyncio.run(go()) == (3, 0)
    rows = inbox_rows(store_url)
    assert _comparable(rows, "a") == _comparable(rows, "c")


def test_sqlite_appender_that_must_not_wait_says_busy_at_once(tmp_path: Path,
                                                              clock: FakeClock) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'busy.db'}", clock)
    store.migrate()
    other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    at_once = store.inbox_appender(wait=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(InboxBusy):
            at_once.append(_batch("x"))
        other.execute("COMMIT")
        assert at_once.append(_batch("x")) == 3  # a fresh connection after the failure
    finally:
        at_once.close()
        other.close()
        store.close()


def test_closing_the_appender_that_must_not_wait_leaves_the_pool_its_busy_timeout(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'pool.db'}", clock)
    store.migrate()
    at_once = store.inbox_appender(wait=False)
    try:
        assert at_once.append(_batch("p")) == 3
    finally:
        at_once.close()
    other = sqlite3.connect(tmp_path / "pool.db", isolation_level=None,
                            check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer, for a moment
        threading.Timer(0.3, other.execute, args=("COMMIT",)).start()
        # The store's next writer (the admin API, the worker) waits for the lock as usual
        # instead of failing at once on a connection the appender left without a timeout.
        assert store.inbox_insert(_batch("q")) == 3
    finally:
        other.close()
        store.close()
