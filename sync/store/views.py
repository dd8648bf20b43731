"""Read-only summaries for the admin console: members, ledger groups, dead letters, portal id.

Each is one query shaped for a page, so a page over a large store (hundreds of members, tens of
thousands of deals) reads a few thousand rows at most, never the whole mirror or ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, case, func, literal, select

from sync.store.base import OpsBase
from sync.store.schema import inbox, ledger, mirror, runs

__all__ = ["DeadLetter", "LedgerGroup", "ViewOps"]

_DEAD = "dead"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An inbox event given up on (``payload`` is the event as HubSpot sent it)."""

    item_id: int
    object_type: str | None
    object_id: str | None
    received_at: datetime
    attempts: int
    last_error: str | None
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LedgerGroup:
    """Ledger months of one member and currency sharing a state and pay date, and whether
    their revenue month started on or before the ``as_of`` asked for."""

    member_code: str
    currency: str | None
    state: str
    pay_date: date | None
    started: bool
    months: int
    amount: Decimal


def _dead(row: Any) -> DeadLetter:
    return DeadLetter(int(row.item_id), row.object_type, row.object_id, row.received_at,
                      int(row.attempts), row.last_error, row.payload)


class ViewOps(OpsBase):
    def member_records(self, type_property: str) -> list[tuple[str, dict[str, Any]]]:
        """``(company id, properties)`` of every mirrored, unarchived company whose
        ``type_property`` is set (the program's members), by id."""
        query = (
            select(mirror.c.object_id, mirror.c.properties)
            .where(mirror.c.object_type == "companies", mirror.c.archived.is_(False))
            .where(self._json_text(type_property).is_not(None),
                   self._json_text(type_property) != "")
            .order_by(mirror.c.object_id)
        )
        with self._read() as conn:
            return [(row.object_id, dict(row.properties)) for row in conn.execute(query)]

    def _json_text(self, name: str) -> ColumnElement[Any]:
        if self._dialect == "postgresql":
            return mirror.c.properties.op("->>", return_type=Text())(literal(name, Text()))
        # A substring test first: it skips parsing the JSON of every company that is no member.
        quoted = orjson.dumps(name).decode()
        named = func.instr(mirror.c.properties, quoted) > 0
        return case((named, func.json_extract(mirror.c.properties, f"$.{quoted}")), else_=None)

    def data_version(self) -> tuple[int | None, datetime | None]:
        """Changes whenever a run starts or finishes: the mirror, outputs and ledger are only
        written by runs, so values derived from them stay valid while this stays the same."""
        query = select(func.max(runs.c.run_id), func.max(runs.c.finished_at))
        with self._read() as conn:
            newest, finished = conn.execute(query).one()
        return (None if newest is None else int(newest), finished)

    def ledger_groups(self, as_of: date) -> list[LedgerGroup]:
        """The whole ledger summed per member, currency, state, pay date and whether the month
        started on or before ``as_of``. Sums are exact (SQLite keeps amounts as text, so their
        Decimals are added here)."""
        started = case((ledger.c.month_start <= as_of, 1), else_=0).label("started")
        keys = (ledger.c.member_code, ledger.c.currency, ledger.c.state, ledger.c.pay_date,
                started)
        if self._dialect == "postgresql":
            amount: ColumnElement[Any] = func.sum(ledger.c.amount)
        else:
            amount = func.group_concat(ledger.c.amount, " ")
        query = select(*keys, func.count().label("n"), amount.label("amount")).group_by(*keys)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            LedgerGroup(row.member_code, row.currency, row.state, row.pay_date,
                        bool(row.started), int(row.n), _total(row.amount))
            for row in rows
        ]

    def dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        """The newest dead letters first."""
        query = (select(inbox).where(inbox.c.status == _DEAD)
                 .order_by(inbox.c.item_id.desc()).limit(limit))
        with self._read() as conn:
            return [_dead(row) for row in conn.execute(query)]

    def dead_letter(self, item_id: int) -> DeadLetter | None:
        """One dead letter, or None when ``item_id`` is not (or no longer) dead."""
        query = select(inbox).where(inbox.c.item_id == item_id, inbox.c.status == _DEAD)
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _dead(row)

    def dead_letter_count(self) -> int:
        query = select(func.count()).select_from(inbox).where(inbox.c.status == _DEAD)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def newest_portal_id(self) -> int | None:
        """The ``portalId`` of the newest queued webhook event, if any names one."""
        query = select(inbox.c.payload).order_by(inbox.c.item_id.desc()).limit(1)
        with self._read() as conn:
            payload = conn.execute(query).scalar_one_or_none()
        value = payload.get("portalId") if isinstance(payload, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        return None


def _total(amount: Any) -> Decimal:
    if isinstance(amount, Decimal):
        return amount
    if isinstance(amount, str):
        return sum((Decimal(part) for part in amount.split()), Decimal(0))
    return Decimal(0) if amount is None else Decimal(str(amount))
