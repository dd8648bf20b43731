"""Commission statements per member, from the store's ledger and the deals' last outputs.

``build_statement(store, member_code, as_of, contract)`` reads the member's ledger months (R7,
R8: one line per revenue month of each subscription of each qualifying deal) and the plan
written on each deal, and totals them at ``as_of`` (R8.3): **earned** = months started on or
before ``as_of`` that are not forfeited; **paid to date** = payable months whose pay date is on
or before ``as_of``; **next payout** = the first pay date after ``as_of`` and the sum paid then.
Totals are per currency (a member may be paid in several). Money is ``Decimal`` throughout and
written as plain decimals (``540.00``).

``write_statement`` writes ``<code>.csv`` (one row per month) and/or ``<code>.json`` (the lines
and the totals) into a directory.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from config.contract import CrmContract
from policies.model import CommissionMonth, MonthState
from sync.store import Store

__all__ = [
    "CSV_COLUMNS",
    "CurrencyTotals",
    "Statement",
    "StatementLine",
    "build_statement",
    "member_codes",
    "write_statement",
]

ZERO = Decimal("0.00")
CSV_COLUMNS = (
    "deal_id", "subscription_id", "month_index", "month_start", "mrr", "amount", "currency",
    "plan", "due_date", "pay_date", "state", "status",
)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One ledger month, with the deal's plan and its status at ``as_of``: ``paid``,
    ``scheduled`` (payable later), ``awaiting_paperwork`` or ``forfeited``."""

    month: CommissionMonth
    plan: str
    status: str

    def row(self) -> dict[str, str]:
        m = self.month
        return {
            "deal_id": m.deal_id,
            "subscription_id": m.subscription_id,
            "month_index": str(m.month_index),
            "month_start": m.month_start.isoformat(),
            "mrr": str(m.mrr),
            "amount": str(m.amount),
            "currency": m.currency or "",
            "plan": self.plan,
            "due_date": m.due_date.isoformat(),
            "pay_date": m.pay_date.isoformat() if m.pay_date else "",
            "state": m.state.value,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    earned: Decimal
    paid_to_date: Decimal
    next_payout_date: date | None
    next_payout_amount: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "earned": str(self.earned),
            "paid_to_date": str(self.paid_to_date),
            "next_payout_date": self.next_payout_date.isoformat() if self.next_payout_date
            else None,
            "next_payout_amount": str(self.next_payout_amount),
        }


@dataclass(frozen=True, slots=True)
class Statement:
    member_code: str
    as_of: date
    lines: tuple[StatementLine, ...]
    totals: tuple[CurrencyTotals, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_code": self.member_code,
            "as_of": self.as_of.isoformat(),
            "months": [line.row() for line in self.lines],
            "totals": [t.to_dict() for t in self.totals],
        }


def _status(m: CommissionMonth, as_of: date) -> str:
    if m.state is MonthState.PAYABLE:
        return "paid" if m.pay_date is not None and m.pay_date <= as_of else "scheduled"
    return m.state.value


def _totals(currency: str, months: Sequence[CommissionMonth], as_of: date) -> CurrencyTotals:
    earned = sum((m.amount for m in months if m.state is not MonthState.FORFEITED), ZERO)
    payable = [m for m in months if m.state is MonthState.PAYABLE and m.pay_date is not None]
    paid = sum((m.amount for m in payable if m.pay_date and m.pay_date <= as_of), ZERO)
    future = sorted(m.pay_date for m in payable if m.pay_date and m.pay_date > as_of)
    next_date = future[0] if future else None
    next_amount = sum((m.amount for m in payable if m.pay_date == next_date), ZERO)
    return CurrencyTotals(currency, earned, paid, next_date, next_amount if next_date else ZERO)


def build_statement(
    store: Store, member_code: str, as_of: date, contract: CrmContract
) -> Statement:
    """The member's statement at ``as_of`` (months starting after ``as_of`` are left out)."""
    months = [m for m in store.ledger_for_member(member_code) if m.month_start <= as_of]
    deal_ids = sorted({m.deal_id for m in months})
    outputs = store.load_outputs("deals", deal_ids) if deal_ids else {}
    lines = tuple(
        StatementLine(m, outputs.get(m.deal_id, {}).get(contract.commission_plan) or "",
                      _status(m, as_of))
        for m in months
    )
    by_currency: dict[str, list[CommissionMonth]] = {}
    for m in months:
        by_currency.setdefault(m.currency or "", []).append(m)
    totals = tuple(_totals(c, ms, as_of) for c, ms in sorted(by_currency.items()))
    return Statement(member_code, as_of, lines, totals)


def member_codes(store: Store) -> list[str]:
    """Every member code that has ledger months, sorted."""
    return sorted({t.member_code for t in store.ledger_totals()})


def _safe_name(code: str) -> str:
    # Partner codes are operator data: keep file names portable and inside the directory.
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in code).lstrip(".") or "_"


def write_statement(statement: Statement, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Write the statement as ``<code>.csv`` and/or ``<code>.json``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    stem = _safe_name(statement.member_code)
    if "csv" in formats:
        path = out_dir / f"{stem}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(line.row() for line in statement.lines)
        written.append(path)
    if "json" in formats:
        path = out_dir / f"{stem}.json"
        path.write_bytes(orjson.dumps(statement.to_dict(), option=orjson.OPT_INDENT_2))
        written.append(path)
    return written
