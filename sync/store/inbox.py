"""The durable webhook inbox: insert-or-ignore on a dedup key, leased claims, retries, dead letters.

Row life: ``pending`` -> ``claimed`` (leased to one worker) -> ``done``, back to ``pending``
(retry at a given time) or ``dead``. A claim whose lease ran out (its worker died) is claimable
again; each such lost claim is counted (``lost_claims``), and ``inbox_bury_lost`` dead-letters
an event whose claims keep getting lost (a crash loop). Holders renew their claims'
leases while they work (``inbox_renew``), so leases can be short.
Claims are one UPDATE .. RETURNING: on PostgreSQL its subquery takes rows ``FOR UPDATE
SKIP LOCKED``, so concurrent workers never get the same row; SQLite runs one writer at a time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.engine import Dialect, Engine

from sync.store.base import (
    IN_CHUNK,
    FastStatement,
    OpsBase,
    chunked,
    fast_statement,
    insert_ignore,
)
from sync.store.records import InboxEvent, InboxItem
from sync.store.schema import inbox

__all__ = ["DEAD", "DONE", "MAX_DEDUP_KEY", "AsyncInboxAppender", "InboxAppender", "InboxBusy",
           "InboxOps"]

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
DEAD = "dead"
_OPEN = (PENDING, CLAIMED)
_INSERT_BATCH = 1_000
MAX_DEDUP_KEY = 512  # the column's width; hash longer keys before queueing


def _item(row: Row[Any]) -> InboxItem:
    return InboxItem(
        item_id=int(row.item_id),
        dedup_key=row.dedup_key,
        payload=row.payload,
        object_type=row.object_type,
        object_id=row.object_id,
        received_at=row.received_at,
        attempts=int(row.attempts),
        last_error=row.last_error,
        lost_claims=int(row.lost_claims),
        lease_until=row.lease_until,
    )


def _event_row(e: InboxEvent, now: datetime) -> dict[str, Any]:
    if not e.dedup_key or len(e.dedup_key) > MAX_DEDUP_KEY:
        # Checked here so both dialects agree (SQLite would store any length).
        raise ValueError(f"dedup key must have 1..{MAX_DEDUP_KEY} characters")
    return {
        "dedup_key": e.dedup_key,
        "payload": dict(e.payload),
        "object_type": e.object_type,
        "object_id": e.object_id,
        "received_at": e.received_at or now,
        "status": DEAD if e.dead_reason is not None else DONE if e.settled else PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": e.dead_reason,
        "finished_at": now if e.dead_reason is not None or e.settled else None,
        "lost_claims": 0,
    }


_ROW_NAMES = tuple(_event_row(InboxEvent("k", {}), datetime(2000, 1, 1, tzinfo=UTC)))


def _fast_insert(dialect: Dialect) -> FastStatement:
    """The dialect's insert-or-ignore of whole inbox rows, compiled once (``FastStatement``:
    rows read back exactly as the typed path would write them)."""
    return fast_statement(dialect, ("insert_ignore", "inbox"), inbox, _ROW_NAMES,
                          lambda: insert_ignore(dialect.name, inbox, ["dedup_key"]))


class InboxBusy(Exception):
    """Another connection holds SQLite's write lock (``InboxAppender(wait=False)`` only)."""


class InboxAppender:
    """Queue webhook events on one driver connection of its own: the receiver's hot path.

    Same rows as ``InboxOps.inbox_insert`` (the same precompiled insert-or-ignore and bind
    conversion) without a pool checkout, transaction events or statement machinery per commit.
    ``wait=False`` (SQLite only): never wait for the write lock; raise ``InboxBusy`` at once so
    an event loop calling ``append`` is never blocked behind another writer. The connection is
    dropped after any failure and a fresh one taken at the next call. One thread at a time.
    """

    def __init__(self, engine: Engine, now: Callable[[], datetime], *, wait: bool = True) -> None:
        self._engine = engine
        self._now = now
        self._wait = wait or engine.dialect.name != "sqlite"
        self._sqlite = engine.dialect.name == "sqlite"
        self._insert = _fast_insert(engine.dialect)
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            conn = self._engine.raw_connection()
            # Out of the pool for good: it is this appender's alone, and closing it must not
            # hand a connection without a busy timeout to anyone else.
            conn.detach()
            if self._sqlite and not self._wait:
                cursor = conn.cursor()
                cursor.execute("PRAGMA busy_timeout = 0")
                cursor.close()
            self._conn = conn
        return self._conn

    def append(self, events: Sequence[InboxEvent]) -> int:
        """Queue ``events`` in one transaction; return how many were new."""
        now = self._now()
        rows = self._insert.params(
            list({e.dedup_key: _event_row(e, now) for e in events}.values()))
        conn = self._connection()
        cursor = conn.cursor()
        try:
            if self._sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self._insert.sql, rows)
            inserted = max(int(cursor.rowcount), 0)
            if self._sqlite:
                cursor.execute("COMMIT")
            else:
                conn.commit()
            return inserted
        except Exception as exc:
            self._discard()
            if self._sqlite and not self._wait and _locked(exc):
                raise InboxBusy(str(exc)) from exc
            raise
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.invalidate()  # never back into the pool: its state is unknown

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


CONNECT_TIMEOUT_S = 5


class AsyncInboxAppender:
    """``InboxAppender`` for PostgreSQL on the event loop: psycopg's async connection, so a
    commit's round trip waits on the loop instead of a thread (no hand-off per batch).

    Not thread-safe and not concurrent: one ``append`` at a time (``AsyncCommitWriter`` keeps
    it so). The connection is dropped after any failure and made again at the next call; making
    it gives up after ``CONNECT_TIMEOUT_S`` (the deliveries waiting are answered 5xx and HubSpot
    retries them).
    """

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("AsyncInboxAppender is for PostgreSQL stores")
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._now = now
        self._insert = _fast_insert(engine.dialect)
        self._conn: Any = None

    async def append(self, events: Sequence[InboxEvent]) -> int:
        """Queue ``events`` in one transaction; return how many were new."""
        import psycopg  # the postgres extra; only PostgreSQL stores get here

        now = self._now()
        rows = self._insert.params(
            list({e.dedup_key: _event_row(e, now) for e in events}.values()))
        try:
            if self._conn is None:
                self._conn = await psycopg.AsyncConnection.connect(
                    self._conninfo, connect_timeout=CONNECT_TIMEOUT_S)
            async with self._conn.cursor() as cursor:
                await cursor.executemany(self._insert.sql, rows)
                inserted = max(int(cursor.rowcount), 0)
            await self._conn.commit()
            return inserted
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


def _locked(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


class InboxOps(OpsBase):
    def inbox_appender(self, *, wait: bool = True) -> InboxAppender:
        """A dedicated connection for queueing events (the webhook receiver's)."""
        return InboxAppender(self._appender_engine(), self._now, wait=wait)

    def inbox_async_appender(self) -> AsyncInboxAppender:
        """PostgreSQL: a dedicated async connection for queueing events on an event loop."""
        return AsyncInboxAppender(self._appender_engine(), self._now)

    def _appender_engine(self) -> Engine:
        raise NotImplementedError

    def inbox_insert(self, events: Iterable[InboxEvent]) -> int:
        """Queue events; ones whose dedup key is already there are ignored. Returns new rows.

        One ``executemany`` of a precompiled insert-or-ignore per batch: the columns every row
        shares (times, status) are converted once, not once per row, and the new rows are
        counted from the driver's row count instead of returned one by one.
        """
        now = self._now()
        inserted = 0
        with self._write() as conn:
            insert = _fast_insert(conn.dialect)
            for batch in chunked(events, _INSERT_BATCH):
                rows = {e.dedup_key: _event_row(e, now) for e in batch}
                result = conn.exec_driver_sql(insert.sql, insert.params(list(rows.values())))
                inserted += max(int(result.rowcount), 0)
        return inserted

    def inbox_claim(self, worker_id: str, limit: int, lease_s: float) -> list[InboxItem]:
        """Lease up to ``limit`` due rows (oldest first) to ``worker_id`` for ``lease_s``."""
        now = self._now()
        due = or_(
            and_(inbox.c.status == PENDING, inbox.c.next_attempt_at <= now),
            and_(inbox.c.status == CLAIMED, inbox.c.lease_until < now),
        )
        pick = select(inbox.c.item_id).where(due).order_by(inbox.c.item_id).limit(limit)
        if self._dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(inbox)
            .where(inbox.c.item_id.in_(pick.scalar_subquery()))
            .values(
                status=CLAIMED,
                claimed_by=worker_id,
                lease_until=now + timedelta(seconds=lease_s),
                attempts=inbox.c.attempts + 1,
                lost_claims=inbox.c.lost_claims + case((inbox.c.status == CLAIMED, 1), else_=0),
            )
            .returning(*inbox.c)
        )
        with self._write() as conn:
            items = [_item(row) for row in conn.execute(stmt)]
        return sorted(items, key=lambda i: i.item_id)

    def inbox_renew(self, worker_id: str, item_ids: Iterable[int], lease_s: float) -> int:
        """Extend the lease of ``worker_id``'s claims among ``item_ids``. Returns how many it
        still held (a claim already re-claimed by another worker is not taken back)."""
        until = self._now() + timedelta(seconds=lease_s)
        renewed = 0
        with self._write() as conn:
            for batch in chunked(item_ids, IN_CHUNK):
                result = conn.execute(
                    update(inbox)
                    .where(inbox.c.item_id.in_(batch), inbox.c.status == CLAIMED,
                           inbox.c.claimed_by == worker_id)
                    .values(lease_until=until)
                )
                renewed += result.rowcount
        return renewed

    def inbox_bury_lost(self, max_lost_claims: int) -> int:
        """Dead-letter every expired claim that would be its event's ``max_lost_claims``-th
        lost claim: claimed that often, never finished (its worker dies on it). Returns the
        count."""
        now = self._now()
        stmt = (
            update(inbox)
            .where(inbox.c.status == CLAIMED, inbox.c.lease_until < now,
                   inbox.c.lost_claims + 1 >= max_lost_claims)
            .values(
                status=DEAD, finished_at=now, claimed_by=None, lease_until=None,
                lost_claims=inbox.c.lost_claims + 1,
                last_error=literal(
                    f"claimed {max_lost_claims} times and never finished: the worker stopped "
                    "each time (a crash loop); previous error: ", String,
                ) + func.coalesce(inbox.c.last_error, "none"),
            )
        )
        with self._write() as conn:
            return int(conn.execute(stmt).rowcount)

    def inbox_done(self, item_ids: Iterable[int]) -> int:
        """Mark rows processed. Returns how many changed."""
        return self._finish(item_ids, DONE, None)

    def inbox_dead(self, item_id: int, error: str) -> None:
        """Give up on a row: kept as a dead letter with the error, never claimed again."""
        self._finish([item_id], DEAD, error)

    def inbox_retry(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        """Release a claimed row to be claimed again from ``next_attempt_at``."""
        stmt = (
            update(inbox)
            .where(inbox.c.item_id == item_id)
            .values(status=PENDING, last_error=self._redact(error),
                    next_attempt_at=next_attempt_at,
                    claimed_by=None, lease_until=None)
        )
        with self._write() as conn:
            conn.execute(stmt)

    def inbox_depth(self) -> int:
        """Rows still to process (pending or claimed)."""
        query = select(func.count()).select_from(inbox).where(inbox.c.status.in_(_OPEN))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def inbox_oldest_age(self) -> float | None:
        """Seconds since the oldest unprocessed row arrived; None when there is none."""
        query = select(func.min(inbox.c.received_at)).where(inbox.c.status.in_(_OPEN))
        with self._read() as conn:
            oldest = conn.execute(query).scalar_one_or_none()
        if oldest is None:
            return None
        age_s: float = (self._now() - oldest).total_seconds()
        return max(0.0, age_s)

    def inbox_purge(self, finished_before: datetime) -> int:
        """Delete done rows finished before a time (dead letters stay). Returns the count."""
        stmt = delete(inbox).where(
            inbox.c.status == DONE, inbox.c.finished_at < finished_before
        )
        with self._write() as conn:
            return int(conn.execute(stmt).rowcount)

    def _finish(self, item_ids: Iterable[int], status: str, error: str | None) -> int:
        changed = 0
        now = self._now()
        with self._write() as conn:
            for batch in chunked(item_ids, IN_CHUNK):
                values: dict[str, Any] = {"status": status, "finished_at": now,
                                          "claimed_by": None, "lease_until": None}
                if error is not None:
                    values["last_error"] = self._redact(error)
                result = conn.execute(
                    update(inbox).where(inbox.c.item_id.in_(batch)).values(**values)
                )
                changed += result.rowcount
        return changed
