"""Engine creation for both dialects, and migrations applied in code.

SQLite: WAL, foreign keys on, a busy timeout, and transactions begun by us (pysqlite's own
implicit BEGIN would leave SELECTs outside the transaction). Write transactions begin
``IMMEDIATE`` so a read-then-write unit of work never fails half-way on a lock upgrade.
PostgreSQL: psycopg 3; migrations run under a transaction-level advisory lock so replicas that
start together migrate once.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

__all__ = [
    "BEGIN_OPTION", "advisory_key", "begin_write", "make_engine", "run_migrations",
]

BEGIN_OPTION = "partner_sync_sqlite_begin"
"""Execution option naming the SQLite BEGIN mode of a connection (``DEFERRED``/``IMMEDIATE``)."""

_SQLITE_BUSY_TIMEOUT_MS = 30_000
_MIGRATION_LOCK = "partner-sync:migrations"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` derived from a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, *, wal_autocheckpoint: bool = True) -> Engine:
    """An engine for ``sqlite:///file`` or ``postgresql+psycopg://...`` URLs.

    ``wal_autocheckpoint=False`` (SQLite only): this engine's commits never run a WAL checkpoint
    (copying the log into the database and syncing it, which can take a while); whoever opens
    it must checkpoint on its own schedule (``Store.checkpoint``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, wal_autocheckpoint)
    if parsed.get_backend_name() == "postgresql":
        _require_driver(parsed.get_driver_name())
        return create_engine(
            url,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
            pool_pre_ping=True,
        )
    raise ValueError(f"unsupported store URL scheme: {parsed.drivername}")


POSTGRES_EXTRA = "partner-sync[postgres]"
"""The install that brings the PostgreSQL driver (psycopg 3)."""


def _require_driver(driver: str) -> None:
    """Raise ``ValueError`` naming what to install when the URL's PostgreSQL driver is missing."""
    module = "psycopg" if driver.startswith("psycopg") and driver != "psycopg2" else driver
    try:
        importlib.import_module(module)
    except ImportError:
        fix = (f"pip install '{POSTGRES_EXTRA}'" if module == "psycopg"
               else "use a postgresql+psycopg:// URL with " + repr(POSTGRES_EXTRA) + " installed")
        raise ValueError(
            f"a PostgreSQL store needs the {module} driver, which is not installed: {fix}"
        ) from None


def _sqlite_engine(url: str, wal_autocheckpoint: bool = True) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
        cursor.execute("PRAGMA foreign_keys = ON")
        if not wal_autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _alembic_config() -> Config:
    cfg = Config()
    location = resources.files("sync") / "migrations"
    cfg.set_main_option("script_location", str(location))
    return cfg


_MIGRATING = threading.Lock()


def run_migrations(engine: Engine) -> None:
    """Upgrade the database to the newest revision. Idempotent; a no-op when already there."""
    # Alembic's `context` is process-global: two threads migrating at once would share it.
    with _MIGRATING:
        _run_migrations(engine)


def _run_migrations(engine: Engine) -> None:
    cfg = _alembic_config()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # Held until commit: a second replica waits here, then finds nothing to do.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(_MIGRATION_LOCK)}
            )
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        return
    with begin_write(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that will write (``BEGIN IMMEDIATE`` on SQLite).

    Commits when the block ends, rolls back if it raises.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn
