"""R6 (plan at close) and R7 (revenue months of a subscription and their commission)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from config.terms import CommissionTerms
from policies.dates import add_months, days_in_month, months_between
from policies.members import kind_at
from policies.model import Member, MemberKind, Plan, Subscription

__all__ = [
    "PlanChoice",
    "RevenueMonth",
    "choose_plan",
    "commission_amount",
    "received_months",
    "revenue_months",
]

_CENT = Decimal("0.01")
_NOT_RECEIVED_LATEST = frozenset({"past_due", "unpaid"})  # R7.2


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """R6: the plan, its rate and its window ``[start, end)`` before any R9.3 shortening."""

    plan: Plan
    rate: Decimal
    start: date
    end: date


def choose_plan(member: Member, c: date, terms: CommissionTerms) -> PlanChoice:
    """R6: decided once per qualifying transaction from the member at close ``c``.

    Legacy needs ``joined < legacy_joined_before`` and ``c < legacy_closed_before``: joined on
    2023-02-21 or closed on 2023-04-01 is not legacy [decision R6].
    """
    if kind_at(member, c) is MemberKind.PROVIDER:
        plan, rate, months = Plan.PROVIDER_12, terms.provider_rate, terms.provider_window_months
    elif (
        member.joined_at is not None
        and member.joined_at < terms.legacy_joined_before
        and c < terms.legacy_closed_before
    ):
        plan, rate, months = Plan.LEGACY_12, terms.legacy_rate, terms.legacy_window_months
    else:
        plan, rate, months = Plan.PARTNER_36, terms.partner_rate, terms.partner_window_months
    return PlanChoice(plan, rate, c, add_months(c, months))


def commission_amount(mrr: Decimal, rate: Decimal) -> Decimal:
    """§0, R7.4: ``round(MRR x rate, 2)`` with ROUND_HALF_UP."""
    return (mrr * rate).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class RevenueMonth:
    """One received revenue month ``j`` of a subscription and the MRR in force at its start."""

    index: int
    start: date
    mrr: Decimal


def revenue_months(
    sub: Subscription, window_start: date, window_end: date, as_of: date
) -> Iterator[RevenueMonth]:
    """R7.1-R7.3: received months ``m_j = start + j months`` with ``window_start <= m_j <
    window_end``, oldest first.

    A month is received when ``m_j <= as_of``, the subscription had not ended at ``m_j``
    (``end > m_j``), and it is not the latest started month of a past_due/unpaid subscription.
    The MRR of month j is the history entry in force at ``m_j``; months before the first
    history entry use the first entry [decision R7.3]. Yields nothing without start or MRR.
    """
    indexes, starts, amounts = received_months(sub, window_start, window_end, as_of)
    for j, m, mrr in zip(indexes, starts, amounts, strict=True):
        yield RevenueMonth(j, m, mrr)


def received_months(
    sub: Subscription, window_start: date, window_end: date, as_of: date
) -> tuple[list[int], list[date], list[Decimal]]:
    """``revenue_months`` as three columns (index j, month start, MRR), one list each.

    The ledger builds one line per month and needs no object per month in between. Months are
    stepped one calendar month at a time from the anchor's day (clamped to each month's length,
    exactly ``add_months(start, j)``) and the MRR entry in force only moves forward.
    """
    indexes: list[int] = []
    starts: list[date] = []
    amounts: list[Decimal] = []
    start = sub.start_date
    if start is None or not sub.mrr_history:
        return indexes, starts, amounts
    history = sorted(sub.mrr_history, key=lambda change: change.effective)
    effective_dates = [change.effective for change in history]
    held_back = -1
    if (sub.status or "").strip().lower() in _NOT_RECEIVED_LATEST:
        held_back = months_between(start, as_of + timedelta(days=1)) - 1
    stop = window_end  # received while m < window_end, m < end and m <= as_of
    if sub.end_date is not None and sub.end_date < stop:
        stop = sub.end_date
    j = months_between(start, window_start)
    m = add_months(start, j)
    day, year, month = start.day, m.year, m.month
    at = bisect_right(effective_dates, m) - 1
    last = len(history) - 1
    while m < stop and m <= as_of:
        if j != held_back:
            while at < last and effective_dates[at + 1] <= m:
                at += 1
            indexes.append(j)
            starts.append(m)
            amounts.append(history[max(at, 0)].amount)
        j += 1
        month += 1
        if month == 13:
            year, month = year + 1, 1
        m = date(year, month, day if day <= 28 else min(day, days_in_month(year, month)))
    return indexes, starts, amounts
