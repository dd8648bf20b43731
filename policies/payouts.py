"""R8: paperwork, month states and pay dates, and the per-deal commission figures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from config.terms import PayoutTerms
from policies.dates import add_months, next_payout_on_or_after
from policies.model import CommissionMonth, Member, MonthState

__all__ = [
    "DealFigures",
    "Paperwork",
    "PaperworkState",
    "deal_figures",
    "paperwork_for",
    "pay_date",
]

_ZERO = Decimal("0")


class PaperworkState(Enum):
    DONE_IN_TIME = "done_in_time"
    AWAITING = "awaiting"
    FORFEITED = "forfeited"


@dataclass(frozen=True, slots=True)
class Paperwork:
    """R8.2 for one transaction: its deadline, the completion date known at as_of, the state."""

    deadline: date
    completed_at: date | None
    state: PaperworkState

    @property
    def month_state(self) -> MonthState:
        return _MONTH_STATE[self.state]


_MONTH_STATE = {
    PaperworkState.DONE_IN_TIME: MonthState.PAYABLE,
    PaperworkState.AWAITING: MonthState.AWAITING_PAPERWORK,
    PaperworkState.FORFEITED: MonthState.FORFEITED,
}


def paperwork_for(member: Member, c: date, as_of: date, terms: PayoutTerms) -> Paperwork:
    """R8.2: deadline ``anchor + N months`` (anchor close or join); a completion dated after
    ``as_of`` has not happened yet (§0)."""
    anchor = member.joined_at if terms.paperwork_anchor == "join" and member.joined_at else c
    deadline = add_months(anchor, terms.paperwork_deadline_months)
    done = member.paperwork_completed_at
    if done is not None and done > as_of:
        done = None
    if done is not None and done <= deadline:
        state = PaperworkState.DONE_IN_TIME
    elif done is None and as_of <= deadline:
        state = PaperworkState.AWAITING
    else:
        state = PaperworkState.FORFEITED
    return Paperwork(deadline, done, state)


def pay_date(due: date, paperwork: Paperwork, lag_days: int) -> date | None:
    """R8.2: paid on its due date, or held to the first payout date on or after completion."""
    done = paperwork.completed_at
    if paperwork.state is not PaperworkState.DONE_IN_TIME or done is None:
        return None
    return due if due >= done else next_payout_on_or_after(done, lag_days)


@dataclass(frozen=True, slots=True)
class DealFigures:
    """R8.3: earned (received, not forfeited), paid (pay date <= as_of), next payout after as_of."""

    earned: Decimal
    paid: Decimal
    next_payout_date: date | None
    next_payout_amount: Decimal | None


def deal_figures(lines: Iterable[CommissionMonth], as_of: date) -> DealFigures:
    """Sum one deal's (or one member's) ledger lines into the R8.3 figures."""
    earned = paid = _ZERO
    upcoming: dict[date, Decimal] = {}
    for line in lines:
        if line.state is MonthState.FORFEITED:
            continue
        earned += line.amount
        if line.pay_date is None:
            continue
        if line.pay_date <= as_of:
            paid += line.amount
        else:
            upcoming[line.pay_date] = upcoming.get(line.pay_date, _ZERO) + line.amount
    if not upcoming:
        return DealFigures(earned, paid, None, None)
    first = min(upcoming)
    return DealFigures(earned, paid, first, upcoming[first])
