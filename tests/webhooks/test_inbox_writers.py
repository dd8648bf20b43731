"""The inbox writers on the event loop: SQLite commits on the loop and hands a batch to the
writer thread while another process holds the lock; PostgreSQL commits through the async
driver. Every 2xx still means "committed"; a failed commit acknowledges nobody."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from starlette.applications import Starlette

from config.settings import Settings
from sync.clock import FixedClock
from sync.store import InboxEvent, Store
from tests.webhooks.conftest import (
    ADMIN_TOKEN,
    PUBLIC_URL,
    SECRET,
    FakeEngine,
    event,
    inbox_rows,
    serve_app,
    signed,
)
from webhooks.app import ServeParts, create_app
from webhooks.inbox_writer import (
    AsyncCommitWriter,
    Busy,
    GroupCommitWriter,
    LoopCommitWriter,
    WriterClosed,
)

URL = "/webhooks/hubspot"


def _settings(store_url: str) -> Settings:
    return Settings(store={"url": store_url},
                    webhooks={"client_secret": SECRET, "public_url": PUBLIC_URL},
                    admin={"token": ADMIN_TOKEN})


def _events(n: int, prefix: str = "e") -> list[InboxEvent]:
    return [InboxEvent(f"{prefix}{i}", {"objectId": i}, "deals", str(i)) for i in range(n)]


# --- LoopCommitWriter ------------------------------------------------------------------------

async def test_requests_of_one_loop_iteration_share_one_commit() -> None:
    batches: list[int] = []

    def insert(events: Sequence[InboxEvent]) -> int:
        batches.append(len(events))
        return len(events)

    writer = LoopCommitWriter(insert, GroupCommitWriter(insert))
    writer.start()
    await asyncio.gather(*(writer.write(_events(1, f"r{i}-")) for i in range(5)))
    writer.stop()
    assert batches == [5]
    with pytest.raises(WriterClosed):
        await writer.write(_events(1))


async def test_a_busy_store_hands_the_batch_to_the_thread_and_acknowledges_after_it() -> None:
    on_loop: list[int] = []
    on_thread: list[int] = []
    release = threading.Event()

    def at_once(events: Sequence[InboxEvent]) -> int:
        on_loop.append(len(events))
        raise Busy("locked")

    def waiting(events: Sequence[InboxEvent]) -> int:
        release.wait(5)
        on_thread.append(len(events))
        return len(events)

    writer = LoopCommitWriter(at_once, GroupCommitWriter(waiting))
    writer.start()
    pending = asyncio.ensure_future(asyncio.gather(writer.write(_events(2)),
                                                   writer.write(_events(1, "x"))))
    await asyncio.sleep(0.05)
    assert not pending.done()  # not acknowledged while the lock is held: nothing committed
    assert on_thread == []
    release.set()
    await asyncio.wait_for(pending, 5)
    assert (on_loop, on_thread, writer.handed_off) == ([3], [3], 1)
    writer.stop()


async def test_a_failed_commit_on_the_loop_fails_every_request_of_its_batch() -> None:
    def broken(events: Sequence[InboxEvent]) -> int:
        raise RuntimeError("disk full")

    writer = LoopCommitWriter(broken, GroupCommitWriter(broken))
    writer.start()
    results = await asyncio.gather(writer.write(_events(1)), writer.write(_events(1, "y")),
                                   return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    writer.stop()


# --- AsyncCommitWriter -----------------------------------------------------------------------

async def test_async_writer_commits_what_arrived_during_the_commit_in_flight_as_one_batch(
) -> None:
    batches: list[int] = []
    gate = asyncio.Event()

    async def insert(events: Sequence[InboxEvent]) -> int:
        batches.append(len(events))
        if len(batches) == 1:
            await gate.wait()
        return len(events)

    writer = AsyncCommitWriter(insert)
    writer.start()
    first = asyncio.ensure_future(writer.write(_events(1)))
    await asyncio.sleep(0)
    later = [asyncio.ensure_future(writer.write(_events(1, f"l{i}-"))) for i in range(3)]
    await asyncio.sleep(0.01)
    assert batches == [1]
    assert not first.done()
    assert not any(f.done() for f in later)
    gate.set()
    await asyncio.gather(first, *later)
    assert batches == [1, 3]
    await writer.drain()
    with pytest.raises(WriterClosed):
        await writer.write(_events(1))


async def test_async_writer_failure_fails_its_batch_only() -> None:
    calls = 0

    async def insert(events: Sequence[InboxEvent]) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("server closed the connection")
        return len(events)

    writer = AsyncCommitWriter(insert)
    writer.start()
    with pytest.raises(ConnectionError):
        await writer.write(_events(1))
    await writer.write(_events(1, "next"))  # the next batch commits
    await writer.drain()


# --- the receiver, end to end ----------------------------------------------------------------

def _receiver(url: str, clock: FixedClock, engine: FakeEngine) -> tuple[Store, Starlette]:
    """A migrated store at ``url`` and the serve app over it."""
    store = Store.from_url(url, clock.now)
    store.migrate()
    return store, create_app(ServeParts(_settings(url), store, engine, clock=clock))


async def test_sqlite_receiver_waits_for_a_lock_held_elsewhere_without_blocking_the_loop(
    tmp_path: Path, clock: FixedClock, engine: FakeEngine
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    store, app = _receiver(url, clock, engine)
    other = sqlite3.connect(tmp_path / "serve.db", isolation_level=None)
    try:
        async with serve_app(app) as client:
            other.execute("BEGIN IMMEDIATE")  # another process writing (the worker, a sync)
            body, headers = signed([event(1, event_id=1)], clock)
            post = asyncio.ensure_future(client.post(URL, content=body, headers=headers))
            await asyncio.sleep(0.2)
            assert not post.done()  # not acknowledged: not committed yet
            health = await asyncio.wait_for(client.get("/healthz"), 2)  # the loop answers
            assert health.status_code == 200
            other.execute("COMMIT")
            assert (await asyncio.wait_for(post, 10)).status_code == 204
            assert app.state.writer.handed_off == 1
    finally:
        other.close()
        store.close()
    assert [r["object_id"] for r in inbox_rows(url)] == ["1"]


@pytest.mark.postgres
async def test_postgres_receiver_commits_concurrent_deliveries_and_refuses_when_it_cannot(
    pg_url: str, clock: FixedClock, engine: FakeEngine
) -> None:
    store, app = _receiver(pg_url, clock, engine)
    assert isinstance(app.state.writer, AsyncCommitWriter)
    try:
        async with serve_app(app) as client:
            deliveries = [signed([event(i, event_id=i)], clock) for i in range(1, 21)]
            answers = await asyncio.gather(*(client.post(URL, content=b, headers=h)
                                             for b, h in deliveries))
            assert [a.status_code for a in answers] == [204] * 20
            again = await client.post(URL, content=deliveries[0][0], headers=deliveries[0][1])
            assert again.status_code == 204  # a redelivery: acknowledged, not queued twice
            assert len(inbox_rows(pg_url)) == 20

            with store.transaction() as tx:  # the inbox breaks under the running receiver
                tx._conn.exec_driver_sql("ALTER TABLE inbox RENAME TO inbox_gone")
            body, headers = signed([event(99, event_id=99)], clock)
            assert (await client.post(URL, content=body, headers=headers)).status_code == 503
            with store.transaction() as tx:
                tx._conn.exec_driver_sql("ALTER TABLE inbox_gone RENAME TO inbox")
            # A fresh connection is made after the failure; the retry is queued.
            assert (await client.post(URL, content=body, headers=headers)).status_code == 204
    finally:
        store.close()
    rows = inbox_rows(pg_url)
    assert sorted(int(r["object_id"]) for r in rows) == [*range(1, 21), 99]
    assert all(r["status"] == "pending" for r in rows)


async def test_post_with_a_client_gone_mid_body_acknowledges_nothing(
    tmp_path: Path, clock: FixedClock, engine: FakeEngine
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    store, app = _receiver(url, clock, engine)
    sent: list[dict[str, object]] = []
    messages = [{"type": "http.request", "body": b"[", "more_body": True},
                {"type": "http.disconnect"}]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": URL, "raw_path": URL.encode(),
             "query_string": b"", "headers": [], "scheme": "https",
             "server": ("internal", 8000), "root_path": "", "http_version": "1.1"}
    try:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)  # type: ignore[arg-type]
    finally:
        store.close()
    assert sent == []
    assert inbox_rows(url) == []
