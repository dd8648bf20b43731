"""Named exclusive locks ("one sync per portal at a time") with fencing tokens.

PostgreSQL: a session advisory lock on a connection this process keeps checked out while it holds
the lock; if the process dies the connection drops and the lock frees itself (the lease is not
needed). SQLite: a row with an owner and a lease; an expired lease can be taken over, and the
owner renews by calling ``acquire`` again.

On both, the ``locks`` row names the current holder and carries a fencing token that grows each
time a new owner takes the lock (on PostgreSQL the row is written right after the advisory lock
is won). A holder proves it still holds the lock inside the transaction that commits its work
(``check_fence``): a holder that lost the lock (lease taken over, session dropped) is refused
there, so two holders can never both commit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import ReturningInsert

from sync.store.database import advisory_key, begin_write
from sync.store.records import Clock
from sync.store.schema import locks

__all__ = ["Fence", "LockLost", "LockManager", "check_fence"]

_RELEASED = datetime(2000, 1, 1, tzinfo=UTC)
"""The lease of a released SQLite lock: long past."""


@dataclass(frozen=True, slots=True)
class Fence:
    """What a lock holder shows at commit time: the lock, its owner id and fencing token."""

    name: str
    owner: str
    token: int


class LockLost(RuntimeError):
    """The holder no longer holds the lock (another owner took it): nothing was committed."""


def check_fence(conn: Connection, dialect: str, fence: Fence, now: datetime) -> None:
    """Raise ``LockLost`` unless ``fence`` still holds its lock. Call inside the transaction
    that commits the holder's work: on SQLite that transaction holds the write lock, on
    PostgreSQL the row is locked until commit, so no takeover can slip in between."""
    query = select(locks.c.owner, locks.c.token, locks.c.lease_until).where(
        locks.c.name == fence.name
    )
    if dialect == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None or row.owner != fence.owner or int(row.token) != fence.token:
        raise LockLost(f"the lock {fence.name} was taken over by another holder")
    if dialect != "postgresql" and row.lease_until < now:
        raise LockLost(f"the lease of the lock {fence.name} ran out")


def _row_try_statement() -> ReturningInsert[Any]:
    """SQLite: take the lock row, or renew it for its owner (see ``LockManager._row_try``)."""
    insert = sqlite.insert(locks).values(
        name=bindparam("lock_name"), owner=bindparam("lock_owner"),
        lease_until=bindparam("lease_until", type_=locks.c.lease_until.type), token=1
    )
    now = bindparam("now", type_=locks.c.lease_until.type)
    return insert.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "owner": insert.excluded.owner,
            "lease_until": insert.excluded.lease_until,
            "token": case((locks.c.owner == insert.excluded.owner, locks.c.token),
                          else_=locks.c.token + 1),
        },
        where=(locks.c.lease_until < now) | (locks.c.owner == insert.excluded.owner),
    ).returning(locks.c.token)


# Built once: a statement object reused is neither rebuilt nor re-keyed for the compiled cache,
# which is most of the CPU of taking and releasing a lock row.
_ROW_TRY = _row_try_statement()
# The row stays, expired, so the next holder's token is larger than this one's.
_ROW_RELEASE = update(locks).where(
    locks.c.name == bindparam("lock_name"), locks.c.owner == bindparam("lock_owner"),
    locks.c.lease_until >= _RELEASED,
).values(lease_until=_RELEASED)


class LockManager:
    """``acquire``/``try_lock``/``unlock`` for one store. Thread-safe."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._guard = threading.Lock()
        self._held: dict[str, tuple[str, Connection, int]] = {}  # PostgreSQL only

    def acquire(self, name: str, owner: str, lease_s: float) -> int | None:
        """Take the lock (or renew it when ``owner`` holds it); its fencing token, or None
        when someone else holds it (or ``owner`` lost it)."""
        if self._engine.dialect.name == "postgresql":
            return self._pg_try(name, owner, lease_s)
        return self._row_try(name, owner, self._clock() + timedelta(seconds=lease_s))

    def try_lock(self, name: str, owner: str, lease_s: float) -> bool:
        """``acquire`` as a yes/no."""
        return self.acquire(name, owner, lease_s) is not None

    def unlock(self, name: str, owner: str) -> bool:
        """Release the lock if ``owner`` holds it. Returns whether it did."""
        if self._engine.dialect.name == "postgresql":
            return self._pg_unlock(name, owner)
        with begin_write(self._engine) as conn:
            result = conn.execute(_ROW_RELEASE, {"lock_name": name, "lock_owner": owner})
        return result.rowcount == 1

    def close(self) -> None:
        """Release every lock this process holds (PostgreSQL connections go back)."""
        with self._guard:
            held = list(self._held.items())
        for name, (owner, _conn, _token) in held:
            self._pg_unlock(name, owner)

    def _row_try(self, name: str, owner: str, lease_until: datetime) -> int | None:
        params = {"lock_name": name, "lock_owner": owner, "lease_until": lease_until,
                  "now": self._clock()}
        with begin_write(self._engine) as conn:
            # No row back: the conflict's WHERE was false, someone else holds a live lease.
            token = conn.execute(_ROW_TRY, params).scalar_one_or_none()
        return None if token is None else int(token)

    def _pg_try(self, name: str, owner: str, lease_s: float) -> int | None:
        with self._guard:
            if name in self._held:
                return self._pg_renew(name, owner)
            conn = self._engine.connect()
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": advisory_key(name)})
                .scalar_one()
            )
            conn.commit()  # the session lock outlives the transaction; do not idle in one
            if not got:
                conn.close()
                return None
            try:
                token = self._pg_register(name, owner, lease_s)
            except BaseException:
                conn.close()  # the session ends, and the advisory lock with it
                raise
            self._held[name] = (owner, conn, token)
            return token

    def _pg_renew(self, name: str, owner: str) -> int | None:
        """Still held when the session holding the advisory lock answers; lost otherwise."""
        held_owner, conn, token = self._held[name]
        if held_owner != owner:
            return None
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
        except SQLAlchemyError:  # the session is gone, and the advisory lock with it
            del self._held[name]
            conn.close()
            return None
        return token

    def _pg_register(self, name: str, owner: str, lease_s: float) -> int:
        """Name the new holder in the row and bump the token (waits for a commit that is
        checking the old holder's fence)."""
        lease_until = self._clock() + timedelta(seconds=lease_s)
        insert = postgresql.insert(locks).values(
            name=name, owner=owner, lease_until=lease_until, token=1
        )
        stmt = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"owner": insert.excluded.owner, "lease_until": insert.excluded.lease_until,
                  "token": locks.c.token + 1},
        ).returning(locks.c.token)
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one())

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
        except SQLAlchemyError:  # the session is gone, and the advisory lock went with it
            return False
        finally:
            conn.close()
        return True
