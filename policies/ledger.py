"""R6-R8 for each closed deal: plan, window (with R9.3), ledger lines, figures and status."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from config.terms import ProgramTerms
from policies.commission import choose_plan, commission_amount, received_months
from policies.compliance import shortened_end
from policies.dates import quarter_payout_date
from policies.deals import Attributed
from policies.model import (
    Attribution,
    CommissionMonth,
    CommissionStatus,
    Deal,
    DealOutput,
    DealType,
    Member,
    MonthState,
    Plan,
    Problem,
    Subscription,
)
from policies.payouts import DealFigures, Paperwork, PaperworkState, paperwork_for, pay_date
from policies.reasons import ProblemCode, Reason

__all__ = ["DealBook", "subscription_owners"]

# An MRR is usable below a quadrillion in magnitude (the mappers' bound too): far above any real
# amount, and small enough that rounding it to cents stays inside Decimal's precision.
_MAX_MRR_EXPONENT = 15


def _usable_mrr(amount: Decimal) -> bool:
    return amount.is_finite() and (not amount or amount.adjusted() < _MAX_MRR_EXPONENT)


_ZERO = Decimal("0")
# the output of most deals (not attributed): Enum members read once, not per deal
_NOT_CLOSED, _UNATTRIBUTED = Reason.NOT_CLOSED, Attribution.UNATTRIBUTED
_NO_PLAN, _NOT_ELIGIBLE = Plan.NONE, CommissionStatus.NOT_ELIGIBLE
_AWAITING, _FORFEITED_MONTH = PaperworkState.AWAITING, MonthState.FORFEITED


@dataclass(slots=True)
class DealBook:
    """Builds deal outputs and ledger lines; call ``add`` once per deal in deal-id order.

    A subscription associated with several qualifying deals counts for its ``owners`` deal
    only (``subscription_owners``: the earliest-closed, R7.6), and the others are reported.
    """

    terms: ProgramTerms
    as_of: date
    subscriptions: Mapping[str, Subscription]
    owners: Mapping[str, str] = field(default_factory=dict)
    outputs: dict[str, DealOutput] = field(default_factory=dict)
    ledger: list[CommissionMonth] = field(default_factory=list)
    member_of_deal: dict[str, Member] = field(default_factory=dict)
    # each member's lines, by company id, in ledger order; exact unless a deal id repeats
    member_lines: dict[str, list[CommissionMonth]] = field(default_factory=dict)
    repeated_deal_ids: bool = False
    awaiting_paperwork: set[str] = field(default_factory=set)  # members' company ids (R8.2)
    problems: list[Problem] = field(default_factory=list)
    _sub_owner: dict[str, str] = field(default_factory=dict)
    _amounts: dict[Decimal, dict[Decimal, Decimal]] = field(default_factory=dict)  # rate, MRR
    _due: dict[date, date] = field(default_factory=dict)  # month start -> its payout date

    def add(
        self,
        deal: Deal,
        kind: tuple[DealType, str] | None,
        found: Attributed | None,
        closed_at: date | None,
    ) -> None:
        """Record the output (and ledger lines) of one deal; ``found`` is its R5 outcome at its
        close ``closed_at`` (both ``None`` when it has not closed)."""
        if deal.deal_id in self.outputs:
            self.repeated_deal_ids = True
        deal_type = kind[0] if kind is not None else None
        if found is None or found.member is None or closed_at is None:
            # an open shared deal explains its R4 type's reason, if any, over "not_closed"
            reason: str = _NOT_CLOSED
            if found is not None:
                reason = found.reason
            elif kind is not None and kind[1]:
                reason = kind[1]
            self.outputs[deal.deal_id] = DealOutput(
                deal.deal_id,
                deal_type,
                _UNATTRIBUTED,
                str(reason),
                None,
                _NO_PLAN,
                None,
                None,
                None,
                _NOT_ELIGIBLE,
                _ZERO,
                _ZERO,
                None,
                None,
            )
            return
        c, member = closed_at, found.member
        choice = choose_plan(member, c, self.terms.commission)
        end = shortened_end(member, choice.plan, c, choice.end, self.terms, self.as_of)
        paperwork = paperwork_for(member, c, self.as_of, self.terms.payouts)
        first_line = len(self.ledger)
        figures = self._add_lines(deal, member, choice.rate, c, end, paperwork)
        if len(self.ledger) > first_line:
            lines = self.member_lines.get(member.company_id)
            if lines is None:
                lines = self.member_lines[member.company_id] = []
            lines.extend(self.ledger[first_line:])
        status = _status(paperwork, end, choice.end, self.as_of)
        if paperwork.state is _AWAITING:
            self.awaiting_paperwork.add(member.company_id)
        self.member_of_deal[deal.deal_id] = member
        self.outputs[deal.deal_id] = DealOutput(
            deal.deal_id,
            deal_type,
            found.attribution,
            str(found.reason),
            member.code,
            choice.plan,
            choice.rate,
            c,
            end,
            status,
            figures.earned,
            figures.paid,
            figures.next_payout_date,
            figures.next_payout_amount,
        )

    def _add_lines(
        self, deal: Deal, member: Member, rate: Decimal, c: date, end: date, paperwork: Paperwork
    ) -> DealFigures:
        """R7: one ledger line per received month of each subscription inside ``[c, end)``;
        returns the lines' R8.3 figures (``payouts.deal_figures`` of them, summed on the way)."""
        lag, as_of = self.terms.payouts.payout_lag_days, self.as_of
        state = paperwork.month_state
        earns = state is not _FORFEITED_MONTH
        earned = paid = _ZERO
        upcoming: dict[date, Decimal] = {}
        code = member.code or member.company_id
        currency = deal.currency
        deal_id, ledger, dues = deal.deal_id, self.ledger, self._due
        amounts = self._amounts.setdefault(rate, {})  # MRR -> commission at this rate
        pays: dict[date, date | None] = {}
        for sid in sorted(set(deal.subscription_ids)):
            sub = self._subscription(deal, sid)
            if sub is None:
                continue
            if currency is None:
                currency = sub.currency
            elif sub.currency is not None and sub.currency != currency:
                self._problem(
                    "deal",
                    deal.deal_id,
                    ProblemCode.MIXED_CURRENCIES,
                    f"{sid}: {sub.currency} vs {currency}",
                )
                continue
            indexes, starts, mrrs = received_months(sub, c, end, self.as_of)
            for j, start, mrr in zip(indexes, starts, mrrs, strict=True):
                due = dues.get(start)
                if due is None:  # months repeat across deals: compute each payout date once
                    due = dues[start] = quarter_payout_date(start, lag)
                if due in pays:  # one pay date per due date and deal
                    paid_on = pays[due]
                else:
                    paid_on = pays[due] = pay_date(due, paperwork, lag)
                amount = amounts.get(mrr)
                if amount is None:
                    amount = amounts[mrr] = commission_amount(mrr, rate)
                ledger.append(
                    CommissionMonth(
                        deal_id, sid, code, j, start, mrr, amount, currency, due, paid_on, state
                    )
                )
                if earns:
                    earned += amount
                    if paid_on is None:
                        pass
                    elif paid_on <= as_of:
                        paid += amount
                    else:
                        upcoming[paid_on] = upcoming.get(paid_on, _ZERO) + amount
        if not upcoming:
            return DealFigures(earned, paid, None, None)
        first = min(upcoming)
        return DealFigures(earned, paid, first, upcoming[first])

    def _subscription(self, deal: Deal, sid: str) -> Subscription | None:
        sub = self.subscriptions.get(sid)
        if sub is None:
            self._problem("deal", deal.deal_id, ProblemCode.UNKNOWN_SUBSCRIPTION, sid)
            return None
        owner = self.owners.get(sid) or self._sub_owner.setdefault(sid, deal.deal_id)
        if owner != deal.deal_id:
            self._problem(
                "subscription",
                sid,
                ProblemCode.SUBSCRIPTION_COUNTED_ELSEWHERE,
                f"counted for deal {owner}, not {deal.deal_id}",
            )
            return None
        if sub.start_date is None:
            self._problem("subscription", sid, ProblemCode.SUBSCRIPTION_WITHOUT_START)
            return None
        if not sub.mrr_history:
            self._problem("subscription", sid, ProblemCode.SUBSCRIPTION_WITHOUT_MRR)
            return None
        if not all(_usable_mrr(change.amount) for change in sub.mrr_history):
            # NaN, infinity or a typo'd 20-digit amount would make cent rounding raise.
            self._problem("subscription", sid, ProblemCode.SUBSCRIPTION_WITHOUT_MRR, "unusable MRR")
            return None
        return sub

    def _problem(self, kind: str, record_id: str, code: ProblemCode, detail: str = "") -> None:
        self.problems.append(Problem(kind, record_id, code, detail))


def subscription_owners(
    deals: Iterable[Deal],
    closes: Mapping[str, Attributed],
    closed_at: Mapping[str, date],
    ranks: Mapping[str, int],
) -> dict[str, str]:
    """R7.6: each subscription's deal among the qualifying ones listing it: the earliest
    closed, ties broken by the lowest deal id (``ranks``: ``sweep.id_ranks`` of the deal ids).
    A month therefore pays once, and a later close never takes months from a deal that closed
    before it."""
    width = len(ranks) + 1
    best: dict[str, int] = {}  # (close day, deal id rank) as one int
    owners: dict[str, str] = {}
    for deal in deals:
        deal_id = deal.deal_id
        found = closes.get(deal_id)
        if found is None or found.member is None:
            continue
        rank = closed_at[deal_id].toordinal() * width + ranks[deal_id]
        for sid in set(deal.subscription_ids):
            held = best.get(sid)
            if held is None or rank < held:
                best[sid], owners[sid] = rank, deal_id
    return owners


def _status(paperwork: Paperwork, end: date, original_end: date, as_of: date) -> CommissionStatus:
    """R8.3 [decision]: forfeited, then awaiting paperwork, then the window's state."""
    if paperwork.state is PaperworkState.FORFEITED:
        return CommissionStatus.FORFEITED
    if paperwork.state is PaperworkState.AWAITING:
        return CommissionStatus.AWAITING_PAPERWORK
    if as_of >= end:
        return CommissionStatus.ENDED_EARLY if end < original_end else CommissionStatus.COMPLETED
    return CommissionStatus.ACCRUING
