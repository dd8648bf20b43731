"""Named exclusive locks ("one sync per portal at a time").

PostgreSQL: a session advisory lock on a connection this process keeps checked out while it holds
the lock; if the process dies the connection drops and the lock frees itself (the lease is not
needed). SQLite: a row with an owner and a lease; an expired lease can be taken over, and the
owner renews by calling ``try_lock`` again.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.dialects import sqlite

from sync.store.database import advisory_key, begin_write
from sync.store.records import Clock
from sync.store.schema import locks

__all__ = ["LockManager"]


class LockManager:
    """``try_lock``/``unlock`` for one store. Thread-safe."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._guard = threading.Lock()
        self._held: dict[str, tuple[str, Connection]] = {}  # PostgreSQL only

    def try_lock(self, name: str, owner: str, lease_s: float) -> bool:
        """Take the lock (or renew it when ``owner`` holds it). False when someone else does."""
        if self._engine.dialect.name == "postgresql":
            return self._pg_try(name, owner)
        return self._row_try(name, owner, self._clock() + timedelta(seconds=lease_s))

    def unlock(self, name: str, owner: str) -> bool:
        """Release the lock if ``owner`` holds it. Returns whether it did."""
        if self._engine.dialect.name == "postgresql":
            return self._pg_unlock(name, owner)
        with begin_write(self._engine) as conn:
            result = conn.execute(
                delete(locks).where(locks.c.name == name, locks.c.owner == owner)
            )
        return result.rowcount == 1

    def close(self) -> None:
        """Release every lock this process holds (PostgreSQL connections go back)."""
        with self._guard:
            held = list(self._held.items())
        for name, (owner, _conn) in held:
            self._pg_unlock(name, owner)

    def _row_try(self, name: str, owner: str, lease_until: datetime) -> bool:
        now = self._clock()
        insert = sqlite.insert(locks).values(name=name, owner=owner, lease_until=lease_until)
        stmt = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"owner": insert.excluded.owner, "lease_until": insert.excluded.lease_until},
            where=(locks.c.lease_until < now) | (locks.c.owner == insert.excluded.owner),
        ).returning(locks.c.name)
        with begin_write(self._engine) as conn:
            # No row back: the conflict's WHERE was false, someone else holds a live lease.
            return conn.execute(stmt).first() is not None

    def _pg_try(self, name: str, owner: str) -> bool:
        with self._guard:
            if name in self._held:
                return self._held[name][0] == owner
            conn = self._engine.connect()
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(name)})
                .scalar_one()
            )
            conn.commit()  # the session lock outlives the transaction; do not idle in one
            if not got:
                conn.close()
                return False
            self._held[name] = (owner, conn)
            return True

    def _pg_unlock(self, name: str, owner: str) -> bool:
        with self._guard:
            held = self._held.get(name)
            if held is None or held[0] != owner:
                return False
            del self._held[name]
        conn = held[1]
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key(name)})
            conn.commit()
        finally:
            conn.close()
        return True
