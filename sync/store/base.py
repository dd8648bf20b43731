"""What every group of store operations stands on: a connection scope, the clock, the dialect.

Each operation group (mirror, ledger, runs, inbox...) is a mixin over ``OpsBase``. ``Store``
implements the scopes with a short transaction per call; ``Transaction`` implements them with
its one open connection, so the same methods commit together inside ``store.transaction()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError
from sqlalchemy.sql.dml import Insert

from sync.logs import redact
from sync.store.records import Clock

__all__ = [
    "IN_CHUNK", "OpsBase", "PreparedRows", "bulk_upsert", "chunked", "insert_ignore", "upsert",
]

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
    if rows:
        key = ("upsert", table.name, *update)
        statement = fast_statement(conn.dialect, key, table, tuple(rows[0]),
                                   lambda: upsert(dialect, table, update))
        conn.exec_driver_sql(statement.sql, statement.params(rows))


@dataclass(frozen=True, slots=True)
class FastStatement:
    """A statement compiled once for a column set, with each column's bind processor, for
    ``exec_driver_sql`` over many rows: no compilation or per-row SQLAlchemy work per call."""

    sql: str
    names: tuple[str, ...]
    order: tuple[str, ...] | None  # positional parameter order; None: named parameters
    processors: tuple[Any, ...]

    def params(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The rows bound as SQLAlchemy would bind them. A value that is the very object
        converted for the row before (a shared time, run id or status) is not converted again;
        a value a column cannot bind raises ``StatementError``, as SQLAlchemy does."""
        seen: list[Any] = [_UNSEEN] * len(self.names)
        made: list[Any] = [None] * len(self.names)
        out: list[Any] = []
        for row in rows:
            values: dict[str, Any] = {}
            for i, (name, process) in enumerate(zip(self.names, self.processors, strict=True)):
                value = row[name]
                if process is None or value is None:
                    values[name] = value
                elif value is seen[i]:
                    values[name] = made[i]
                else:
                    try:
                        made[i] = process(value)
                    except Exception as exc:
                        raise StatementError(str(exc), self.sql, row, exc) from exc
                    seen[i] = value
                    values[name] = made[i]
            out.append(values if self.order is None else tuple(values[k] for k in self.order))
        return out


class PreparedRows:
    """Rows bound ahead of the transaction that upserts them (``OpsBase.write_prepared``).

    The per-row work (each column's bind processor: JSON encoding, times) is done as rows are
    added, so a transaction that follows a long wait (a push to HubSpot) only runs the
    statement. A row whose key was added before replaces it, as in one ``upsert`` batch.
    """

    def __init__(self, dialect: Dialect, table: Table, update: Sequence[str],
                 key: Sequence[str]) -> None:
        self.dialect = dialect.name
        self._sa_dialect, self._table = dialect, table
        self._update, self._key = tuple(update), tuple(key)
        self.statement: FastStatement | None = None
        self._bound: dict[tuple[Any, ...], Any] = {}

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if self.statement is None:
            table, update = self._table, self._update
            self.statement = fast_statement(
                self._sa_dialect, ("upsert", table.name, *update), table, tuple(rows[0]),
                lambda: upsert(self.dialect, table, update))
        for row, bound in zip(rows, self.statement.params(rows), strict=True):
            self._bound[tuple(row[k] for k in self._key)] = bound

    def params(self) -> list[Any]:
        return list(self._bound.values())

    def __len__(self) -> int:
        return len(self._bound)


_UNSEEN = object()
_STATEMENTS: dict[tuple[Any, ...], FastStatement] = {}


def fast_statement(dialect: Dialect, key: tuple[str, ...], table: Table,
                   names: tuple[str, ...], build: Callable[[], Insert]) -> FastStatement:
    """``build()`` compiled once per dialect, ``key`` and column set (see ``FastStatement``)."""
    cache_key = (dialect.name, *key, names)
    statement = _STATEMENTS.get(cache_key)
    if statement is None:
        compiled = build().compile(dialect=dialect, column_keys=list(names))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        processors = tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                           for name in names)
        statement = _STATEMENTS[cache_key] = FastStatement(str(compiled), names, order,
                                                            processors)
    return statement


class OpsBase:
    """The seams operation mixins use. Subclasses set ``_clock``, ``_dialect`` (its name) and
    ``_sa_dialect`` (SQLAlchemy's)."""

    _clock: Clock
    _dialect: str
    _sa_dialect: Dialect
    _secrets: tuple[str, ...] = ()

    def write_prepared(self, prepared: PreparedRows) -> int:
        """Upsert rows bound by a ``prepare_*`` method in one ``executemany``; their count."""
        if prepared.statement is None or not prepared:
            return 0
        if prepared.dialect != self._dialect:
            raise ValueError(f"rows bound for {prepared.dialect}, store is {self._dialect}")
        with self._write() as conn:
            conn.exec_driver_sql(prepared.statement.sql, prepared.params())
        return len(prepared)

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
