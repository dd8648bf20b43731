"""``Store``: the state store's entry point, and ``Transaction``: its unit of work.

Every data method exists on both. On ``Store`` each call is its own short transaction; on the
``Transaction`` yielded by ``store.transaction()`` the calls share one connection and commit
together at the end of the ``with`` block, or not at all if it raises. Checkpoints can only be
set on a ``Transaction``. Inside a transaction, call the transaction's methods, not the store's
(on SQLite a second writer would wait for the first).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from sync.store.database import begin_write, make_engine, run_migrations
from sync.store.inbox import InboxOps
from sync.store.ledger import LedgerOps
from sync.store.locks import Fence, LockManager, check_fence
from sync.store.mirror import MirrorOps
from sync.store.portals import PortalOps
from sync.store.records import Clock, utc_now
from sync.store.runs import RunOps
from sync.store.state import CheckpointWrites, StateOps
from sync.store.views import ViewOps

__all__ = ["Store", "Transaction"]


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class _DataOps(MirrorOps, LedgerOps, StateOps, RunOps, InboxOps, ViewOps, PortalOps):
    """Every data operation; the connection scopes come from the subclass."""


class Transaction(_DataOps, CheckpointWrites):
    """One open database transaction. Only valid inside ``with store.transaction()``."""

    def __init__(
        self, conn: Connection, clock: Clock, dialect: str, secrets: tuple[str, ...] = ()
    ) -> None:
        self._conn = conn
        self._clock = clock
        self._dialect = dialect
        self._sa_dialect = conn.dialect
        self._secrets = secrets

    def _write(self) -> AbstractContextManager[Connection]:
        return nullcontext(self._conn)

    def _read(self) -> AbstractContextManager[Connection]:
        return nullcontext(self._conn)

    def check_fence(self, fence: Fence) -> None:
        """Raise ``LockLost`` (and so roll the transaction back) unless ``fence`` still holds
        its lock. Call it first: the check holds until this transaction commits."""
        check_fence(self._conn, self._dialect, fence, self._now())


class Store(_DataOps):
    """The state store over one SQLAlchemy engine (SQLite file or PostgreSQL)."""

    def __init__(
        self, engine: Engine, clock: Clock = utc_now, *, secrets: Iterable[str] = ()
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._dialect = engine.dialect.name
        self._sa_dialect = engine.dialect
        self._secrets = tuple(secrets)
        self._locks = LockManager(engine, clock)

    @classmethod
    def from_url(
        cls, url: str | _Secret, clock: Clock = utc_now, *, secrets: Iterable[str] = (),
        wal_autocheckpoint: bool = True,
    ) -> Store:
        """A store for ``sqlite:///path.db`` or ``postgresql+psycopg://user@host/db`` (a plain
        string or a secret holding it, such as ``settings.store.url``).

        Error texts the store keeps (run log, inbox) are redacted like log lines: token-like
        values, URL passwords and the given ``secrets`` become ``***``. Call ``migrate()``
        before first use. ``wal_autocheckpoint``: see ``make_engine``.
        """
        plain = url if isinstance(url, str) else url.get_secret_value()
        return cls(make_engine(plain, wal_autocheckpoint=wal_autocheckpoint), clock,
                   secrets=secrets)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._dialect

    def migrate(self) -> None:
        """Bring the schema to the newest revision. Idempotent, safe for replicas starting
        together on PostgreSQL (they serialize on an advisory lock)."""
        run_migrations(self._engine)

    def _appender_engine(self) -> Engine:
        return self._engine

    def ping(self) -> bool:
        """Readiness: True when the database answers a trivial query."""
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database as far as readers allow
        (``PASSIVE``: waits for no one, blocks no writer). PostgreSQL: nothing to do."""
        if self._dialect == "sqlite":
            with self._engine.connect() as conn:
                # On the driver's connection: outside any transaction, which would stop it.
                driver = conn.connection.driver_connection
                assert driver is not None
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        """Release held locks and every pooled connection."""
        self._locks.close()
        self._engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A unit of work: everything done on the yielded ``Transaction`` commits together
        when the block ends, and is rolled back if it raises."""
        with self._write() as conn:
            yield Transaction(conn, self._clock, self._dialect, self._secrets)

    def try_lock(self, name: str, owner: str, lease_s: float) -> bool:
        """Take a named exclusive lock, or renew it for the same ``owner``. Never blocks.

        PostgreSQL holds it on a connection until ``unlock`` (the lease is not used); SQLite
        holds it until ``unlock`` or until ``lease_s`` passes without renewal.
        """
        return self._locks.try_lock(name, owner, lease_s)

    def unlock(self, name: str, owner: str) -> bool:
        """Release a lock held by ``owner``. False when ``owner`` did not hold it."""
        return self._locks.unlock(name, owner)

    def acquire_lock(self, name: str, owner: str, lease_s: float) -> Fence | None:
        """``try_lock`` that answers the holder's ``Fence`` (with its fencing token), or None.

        Pass the fence to ``Transaction.check_fence`` in every transaction that commits work
        done under the lock.
        """
        token = self._locks.acquire(name, owner, lease_s)
        return None if token is None else Fence(name, owner, token)

    def _write(self) -> AbstractContextManager[Connection]:
        return begin_write(self._engine)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn
