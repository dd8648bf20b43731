"""The commission ledger: one row per (deal, subscription, month index).

The primary key makes a duplicated row impossible, and a unique index on (subscription, month
index) a month counted for two deals (R7.6). ``replace_ledger_for_deals`` is a diff:
rows that did not change are not touched, so re-applying the same months is a no-op.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, select

from policies.model import CommissionMonth, MonthState
from sync.store.base import IN_CHUNK, OpsBase, bulk_upsert, chunked
from sync.store.records import LedgerChange, LedgerTotal
from sync.store.schema import ledger

__all__ = ["LedgerOps"]

Key = tuple[str, str, int]
_VALUE_COLUMNS = (
    "member_code", "month_start", "mrr", "amount", "currency", "due_date", "pay_date", "state",
)


def _key(m: CommissionMonth) -> Key:
    return (m.deal_id, m.subscription_id, m.month_index)


def _fingerprint(values: Iterable[Any]) -> tuple[Any, ...]:
    # Decimals compare by text so a change of scale (10.0 -> 10.00) is written too.
    return tuple(str(v) if isinstance(v, Decimal) else v for v in values)


def _month_row(m: CommissionMonth) -> dict[str, Any]:
    return {
        "deal_id": m.deal_id,
        "subscription_id": m.subscription_id,
        "month_index": m.month_index,
        "member_code": m.member_code,
        "month_start": m.month_start,
        "mrr": m.mrr,
        "amount": m.amount,
        "currency": m.currency,
        "due_date": m.due_date,
        "pay_date": m.pay_date,
        "state": m.state.value,
    }


def _from_row(row: Row[Any]) -> CommissionMonth:
    return CommissionMonth(
        deal_id=row.deal_id,
        subscription_id=row.subscription_id,
        member_code=row.member_code,
        month_index=row.month_index,
        month_start=row.month_start,
        mrr=row.mrr,
        amount=row.amount,
        currency=row.currency,
        due_date=row.due_date,
        pay_date=row.pay_date,
        state=MonthState(row.state),
    )


class LedgerOps(OpsBase):
    def replace_ledger_for_deals(
        self, deal_ids: Collection[str], months: Iterable[CommissionMonth]
    ) -> LedgerChange:
        """Make the ledger rows of ``deal_ids`` exactly ``months``; other deals are untouched.

        Raises ``ValueError`` when a month belongs to a deal not listed, a key repeats or a
        subscription's month is given for two deals; the store's unique index refuses a month
        another deal still holds (``IntegrityError``), R7.6.
        """
        wanted = _index_months(set(deal_ids), months)
        with self._write() as conn:
            current: dict[Key, tuple[Any, ...]] = {}
            for batch in chunked(deal_ids, IN_CHUNK):
                for row in conn.execute(select(ledger).where(ledger.c.deal_id.in_(batch))).all():
                    key = (row.deal_id, row.subscription_id, row.month_index)
                    current[key] = _fingerprint(getattr(row, c) for c in _VALUE_COLUMNS)
            gone = [k for k in current if k not in wanted]
            changed = [
                row for k, row in wanted.items()
                if current.get(k) != _fingerprint(row[c] for c in _VALUE_COLUMNS)
            ]
            if gone:
                conn.execute(
                    delete(ledger).where(
                        and_(
                            ledger.c.deal_id == bindparam("d"),
                            ledger.c.subscription_id == bindparam("s"),
                            ledger.c.month_index == bindparam("i"),
                        )
                    ),
                    [{"d": d, "s": s, "i": i} for d, s, i in gone],
                )
            if changed:
                now = self._now()
                bulk_upsert(conn, self._dialect, ledger, (*_VALUE_COLUMNS, "updated_at"),
                            [{**row, "updated_at": now} for row in changed])
        inserted = sum(1 for row in changed if _row_key(row) not in current)
        return LedgerChange(
            inserted=inserted, updated=len(changed) - inserted, deleted=len(gone)
        )

    def ledger_deal_ids(self) -> set[str]:
        """Every deal id with at least one ledger row."""
        with self._read() as conn:
            return set(conn.execute(select(ledger.c.deal_id).distinct()).scalars())

    def ledger_for_member(self, member_code: str) -> list[CommissionMonth]:
        """A member's ledger, ordered by due date, deal, subscription and month."""
        query = (
            select(ledger)
            .where(ledger.c.member_code == member_code)
            .order_by(
                ledger.c.due_date, ledger.c.deal_id, ledger.c.subscription_id,
                ledger.c.month_index,
            )
        )
        with self._read() as conn:
            return [_from_row(row) for row in conn.execute(query)]

    def ledger_for_deals(self, deal_ids: Iterable[str]) -> list[CommissionMonth]:
        """The ledger rows of the given deals, ordered by deal, subscription and month."""
        months: list[CommissionMonth] = []
        with self._read() as conn:
            for batch in chunked(deal_ids, IN_CHUNK):
                months.extend(
                    _from_row(row)
                    for row in conn.execute(select(ledger).where(ledger.c.deal_id.in_(batch)))
                )
        return sorted(months, key=_key)

    def ledger_totals(self) -> list[LedgerTotal]:
        """Exact sums of ``amount`` per member, currency and state, sorted by those."""
        group = (ledger.c.member_code, ledger.c.currency, ledger.c.state)
        with self._read() as conn:
            if self._dialect == "postgresql":  # NUMERIC sums are exact in the database
                query = select(*group, func.count(), func.sum(ledger.c.amount)).group_by(*group)
                totals = [
                    LedgerTotal(code, cur, state, int(n), Decimal(amount))
                    for code, cur, state, n, amount in conn.execute(query)
                ]
            else:  # SQLite would sum the text as floats: add the Decimals here instead
                totals = _sum_in_python(conn.execute(select(*group, ledger.c.amount)))
        return sorted(totals, key=lambda t: (t.member_code, t.currency or "", t.state))


def _row_key(row: dict[str, Any]) -> Key:
    return (row["deal_id"], row["subscription_id"], row["month_index"])


def _index_months(
    deal_ids: set[str], months: Iterable[CommissionMonth]
) -> dict[Key, dict[str, Any]]:
    wanted: dict[Key, dict[str, Any]] = {}
    months_of: dict[tuple[str, int], str] = {}
    for m in months:
        if m.deal_id not in deal_ids:
            raise ValueError(f"ledger month for deal {m.deal_id} not in the deals replaced")
        if _key(m) in wanted:
            raise ValueError(f"ledger month repeated: {_key(m)}")
        other = months_of.setdefault((m.subscription_id, m.month_index), m.deal_id)
        if other != m.deal_id:  # R7.6
            raise ValueError(f"month {m.month_index} of subscription {m.subscription_id} "
                             f"counted twice: deals {other} and {m.deal_id}")
        wanted[_key(m)] = _month_row(m)
    return wanted


def _sum_in_python(rows: Iterable[Row[Any]]) -> list[LedgerTotal]:
    sums: dict[tuple[str, str | None, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for row in rows:
        acc = sums[(row.member_code, row.currency, row.state)]
        acc[0] += 1
        acc[1] += row.amount
    return [LedgerTotal(k[0], k[1], k[2], n, total) for k, (n, total) in sums.items()]
