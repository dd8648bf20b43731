"""What every group of store operations stands on: a connection scope, the clock, the dialect.

Each operation group (mirror, ledger, runs, inbox...) is a mixin over ``OpsBase``. ``Store``
implements the scopes with a short transaction per call; ``Transaction`` implements them with
its one open connection, so the same methods commit together inside ``store.transaction()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.sql.dml import Insert

from sync.logs import redact
from sync.store.records import Clock

__all__ = ["IN_CHUNK", "OpsBase", "bulk_upsert", "chunked", "insert_ignore", "upsert"]

T = TypeVar("T")

IN_CHUNK = 500
"""Ids per ``IN (...)`` list: far below SQLite's and PostgreSQL's bind-parameter limits."""


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(dialect: str, table: Table, update: Sequence[str]) -> Insert:
    """``INSERT .. ON CONFLICT (primary key) DO UPDATE SET`` the ``update`` columns."""
    stmt = _insert(dialect, table)
    keys = [c.name for c in table.primary_key.columns]
    set_ = {name: stmt.excluded[name] for name in update}
    if isinstance(stmt, postgresql.Insert):
        return stmt.on_conflict_do_update(index_elements=keys, set_=set_)
    return stmt.on_conflict_do_update(index_elements=keys, set_=set_)


def insert_ignore(dialect: str, table: Table, keys: Sequence[str]) -> Insert:
    """``INSERT .. ON CONFLICT (keys) DO NOTHING``."""
    stmt = _insert(dialect, table)
    if isinstance(stmt, postgresql.Insert):
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_nothing(index_elements=list(keys))


def bulk_upsert(
    conn: Connection, dialect: str, table: Table, update: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Upsert many rows with one cached statement run as ``executemany``.

    SQLite runs it in-process; psycopg 3 pipelines it (no round trip per row). Multi-row
    ``VALUES`` was measured slower here: SQLAlchemy recompiles each differently sized statement.
    Rows must not repeat a primary key.
    """
    if not rows:
        return
    sql, order, processors = _upsert_plan(conn, dialect, table, tuple(update), tuple(rows[0]))
    # Each column's bind processing, as SQLAlchemy would apply it, but skipped for a value that
    # is the very object converted for the row before (a shared time, run id or status).
    seen: list[Any] = [_UNSEEN] * len(processors)
    made: list[Any] = [None] * len(processors)
    converted: list[Any] = []
    for row in rows:
        values: dict[str, Any] = {}
        for i, (name, process) in enumerate(processors):
            value = row[name]
            if process is None or value is None:
                values[name] = value
            elif value is seen[i]:
                values[name] = made[i]
            else:
                try:
                    made[i] = process(value)
                except Exception as exc:  # as SQLAlchemy reports a value it cannot bind
                    raise StatementError(str(exc), sql, row, exc) from exc
                seen[i] = value
                values[name] = made[i]
        converted.append(values if order is None else tuple(values[k] for k in order))
    conn.exec_driver_sql(sql, converted)


_UNSEEN = object()
_Plan = tuple[str, list[str] | None, list[tuple[str, Any]]]
_PLANS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], _Plan] = {}


def _upsert_plan(conn: Connection, dialect: str, table: Table, update: tuple[str, ...],
                 names: tuple[str, ...]) -> _Plan:
    """The upsert compiled once per dialect, table and column set, with its bind processors:
    ``executemany`` of it then costs no statement compilation or per-row SQLAlchemy work."""
    key = (conn.dialect.name, table.name, update, names)
    plan = _PLANS.get(key)
    if plan is None:
        compiled = upsert(dialect, table, update).compile(dialect=conn.dialect,
                                                          column_keys=list(names))
        order = list(compiled.positiontup or []) if compiled.positional else None
        processors = [(name, table.c[name].type.dialect_impl(conn.dialect)
                       .bind_processor(conn.dialect)) for name in names]
        plan = _PLANS[key] = (str(compiled), order, processors)
    return plan


class OpsBase:
    """The seams operation mixins use. Subclasses set ``_clock`` and ``_dialect``."""

    _clock: Clock
    _dialect: str
    _secrets: tuple[str, ...] = ()

    def _write(self) -> AbstractContextManager[Connection]:
        """A connection inside a transaction that may write."""
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        """A connection inside a transaction that only reads."""
        raise NotImplementedError

    def _redact(self, text: str) -> str:
        """Error text as the store keeps it: redacted the way log lines are."""
        return redact(text, self._secrets)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return aware datetimes")
        return now
