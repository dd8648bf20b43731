"""What the console's pages show, read from the store: plain values, no HTML.

Commission figures follow the statements' rules (``sync.statements``, R8.3) at ``as_of``: only
months started on or before it count; **earned** is every such month not forfeited, **paid** the
payable ones whose pay date has come, **next payout** the first later pay date and its sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from config.contract import CrmContract
from policies.model import MonthState
from sync.store import RunInfo, Store
from sync.store.views import DeadLetter, LedgerGroup

__all__ = [
    "MemberFilter",
    "MemberRow",
    "Money",
    "Overview",
    "PayoutCalendar",
    "member_rows",
    "overview",
    "payout_calendar",
    "record_url",
]

ZERO = Decimal("0.00")
_OBJECT_TYPE_IDS = {
    "company": "0-2", "companies": "0-2", "member": "0-2",
    "contact": "0-1", "contacts": "0-1",
    "deal": "0-3", "deals": "0-3",
    "subscription": "0-69", "subscriptions": "0-69",
}


class ProgramReads(Protocol):
    """The store reads behind the members and payout pages (``Store``, or its cache)."""

    def member_records(self, type_property: str) -> list[tuple[str, dict[str, Any]]]: ...

    def load_outputs(
        self, object_type: str, ids: list[str] | None = None
    ) -> dict[str, dict[str, str | None]]: ...

    def ledger_groups(self, as_of: date) -> list[LedgerGroup]: ...


def record_url(portal_id: int | None, record_kind: str, record_id: str) -> str | None:
    """The record's page in HubSpot, or None when the portal or the object type is unknown."""
    type_id = _OBJECT_TYPE_IDS.get(record_kind)
    if portal_id is None or type_id is None or not (record_id.isascii() and record_id.isdigit()):
        return None
    return f"https://app.hubspot.com/contacts/{portal_id}/record/{type_id}/{record_id}"


@dataclass(frozen=True, slots=True)
class Money:
    currency: str
    earned: Decimal = ZERO
    paid: Decimal = ZERO
    next_date: date | None = None
    next_amount: Decimal = ZERO


def _commission(groups: Sequence[LedgerGroup], as_of: date) -> dict[str, list[Money]]:
    """Per member code, per currency: earned, paid and next payout at ``as_of``."""
    per: dict[tuple[str, str], list[LedgerGroup]] = defaultdict(list)
    for g in groups:
        if g.started:
            per[(g.member_code, g.currency or "")].append(g)
    out: dict[str, list[Money]] = defaultdict(list)
    for (code, currency), gs in sorted(per.items()):
        earned = sum((g.amount for g in gs if g.state != MonthState.FORFEITED), ZERO)
        payable = [g for g in gs if g.state == MonthState.PAYABLE and g.pay_date is not None]
        paid = sum((g.amount for g in payable if g.pay_date and g.pay_date <= as_of), ZERO)
        future = sorted(g.pay_date for g in payable if g.pay_date and g.pay_date > as_of)
        next_date = future[0] if future else None
        next_amount = sum((g.amount for g in payable if g.pay_date == next_date), ZERO)
        out[code].append(Money(currency, earned, paid, next_date,
                               next_amount if next_date else ZERO))
    return out


@dataclass(frozen=True, slots=True)
class MemberFilter:
    """Query-string filters of the members page; empty means "any"."""

    text: str = ""
    program_type: str = ""
    tier: str = ""
    compliance: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> MemberFilter:
        def one(name: str) -> str:
            return query.get(name, "").strip()[:100]

        return cls(one("q"), one("type"), one("tier"), one("compliance"))

    def keeps(self, row: MemberRow) -> bool:
        text = self.text.lower()
        return (
            (not text or text in row.code.lower() or text in row.name.lower()
             or text == row.company_id)
            and (not self.program_type or row.program_type == self.program_type)
            and (not self.tier or row.tier == self.tier)
            and (not self.compliance or row.compliance == self.compliance)
        )


@dataclass(frozen=True, slots=True)
class MemberRow:
    company_id: str
    code: str
    name: str
    program_type: str
    tier: str
    capacity_used: str
    capacity_limit: str
    compliance: str
    compliance_reasons: str
    money: tuple[Money, ...]


def member_rows(
    store: ProgramReads, contract: CrmContract, as_of: date, keep: MemberFilter | None = None
) -> list[MemberRow]:
    """Every member company with its outputs and commission, filtered, by partner code."""
    members = store.member_records(contract.program_type)
    outputs = store.load_outputs("companies", [cid for cid, _ in members]) if members else {}
    money = _commission(store.ledger_groups(as_of), as_of)
    rows = []
    for company_id, props in members:
        out = outputs.get(company_id, {})
        code = str(props.get(contract.code) or "")
        rows.append(MemberRow(
            company_id=company_id, code=code,
            name=str(props.get("name") or props.get("domain") or ""),
            program_type=str(props.get(contract.program_type) or ""),
            tier=str(props.get(contract.tier) or ""),
            capacity_used=out.get(contract.capacity_used) or "",
            capacity_limit=out.get(contract.capacity_limit) or "",
            compliance=out.get(contract.compliance_status) or "",
            compliance_reasons=out.get(contract.compliance_reasons) or "",
            money=tuple(money.get(code, ())),
        ))
    keep = keep or MemberFilter()
    return sorted((r for r in rows if keep.keeps(r)), key=lambda r: (r.code, r.company_id))


@dataclass(frozen=True, slots=True)
class PayoutCell:
    quarter: str
    member_code: str
    currency: str
    paid: Decimal
    scheduled: Decimal


@dataclass(frozen=True, slots=True)
class PayoutCalendar:
    quarters: tuple[str, ...]
    currencies: tuple[str, ...]
    cells: tuple[PayoutCell, ...]
    totals: Mapping[tuple[str, str], Decimal]  # (quarter, currency) -> amount
    awaiting: Mapping[tuple[str, str], Decimal]  # (member, currency) -> awaiting paperwork


def _quarter(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def payout_calendar(store: ProgramReads, as_of: date, member: str = "") -> PayoutCalendar:
    """Payable commission per pay-date quarter, member and currency (paid or scheduled at
    ``as_of``), and what still waits for paperwork."""
    cells: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    awaiting: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for g in store.ledger_groups(as_of):
        if not g.started or (member and g.member_code != member):
            continue
        currency = g.currency or ""
        if g.state == MonthState.AWAITING_PAPERWORK:
            awaiting[(g.member_code, currency)] += g.amount
        elif g.state == MonthState.PAYABLE and g.pay_date is not None:
            cell = cells[(_quarter(g.pay_date), g.member_code, currency)]
            cell[0 if g.pay_date <= as_of else 1] += g.amount
    totals: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    for (quarter, _code, currency), (paid, scheduled) in cells.items():
        totals[(quarter, currency)] += paid + scheduled
    return PayoutCalendar(
        quarters=tuple(sorted({q for q, _ in totals})),
        currencies=tuple(sorted({c for _, c in totals})),
        cells=tuple(PayoutCell(q, m, c, p, s) for (q, m, c), (p, s) in sorted(cells.items())),
        totals=dict(totals),
        awaiting=dict(sorted(awaiting.items())),
    )


@dataclass(frozen=True, slots=True)
class Overview:
    runs: list[RunInfo]
    jobs: dict[str, datetime | None] | None
    inbox_depth: int
    inbox_oldest_age_s: float | None
    dead_count: int
    dead_letters: list[DeadLetter]
    api: list[tuple[int, int, int]] = field(default_factory=list)  # run id, calls, 429s


def _api(run: RunInfo) -> tuple[int, int] | None:
    api: Any = run.counts.get("api") if isinstance(run.counts, Mapping) else None
    if not isinstance(api, Mapping):
        return None
    return int(api.get("calls", 0)), int(api.get("rate_limited", 0))


def overview(
    store: Store, jobs: Callable[[], dict[str, datetime | None]] | None, chart_runs: int = 20
) -> Overview:
    runs = store.list_runs(max(chart_runs, 10))
    api = [(r.run_id, *a) for r in reversed(runs[:chart_runs]) if (a := _api(r)) is not None]
    return Overview(
        runs=runs[:10],
        jobs=jobs() if jobs is not None else None,
        inbox_depth=store.inbox_depth(),
        inbox_oldest_age_s=store.inbox_oldest_age(),
        dead_count=store.dead_letter_count(),
        dead_letters=store.dead_letters(10),
        api=api,
    )
