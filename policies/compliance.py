"""R9: gold deadline, removal date, consequences of an exit on running transactions, flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from config.terms import ProgramTerms
from policies.dates import add_days, add_months
from policies.members import has_left_by, kind_at
from policies.model import ComplianceStatus, ExitKind, Member, MemberKind, Plan, Tier
from policies.reasons import ComplianceFlag

__all__ = [
    "MemberFacts",
    "compliance",
    "evaluation_on_or_after",
    "gold_deadline",
    "removal_date",
    "shortened_end",
]

_NON_COMPLIANT = frozenset(
    {
        ComplianceFlag.REMOVAL_DUE,
        ComplianceFlag.OVER_CAPACITY,
        ComplianceFlag.NO_ACTIVE_SUBSCRIPTION,
        ComplianceFlag.CERTIFICATION_MISSING,
        ComplianceFlag.ONBOARDING_OVERDUE,
    }
)


def gold_deadline(member: Member, terms: ProgramTerms) -> date | None:
    """R9.1: ``joined + 24 months`` for a member that joined as a partner, else ``None``."""
    joined = member.joined_at
    if joined is None or kind_at(member, joined) is not MemberKind.PARTNER:
        return None
    return add_months(joined, terms.membership.gold_deadline_months)


def evaluation_on_or_after(d: date, day: int) -> date:
    """R9.1: the first tier evaluation (the ``day``-th of a month) on or after ``d``."""
    if d.day <= day:
        return d.replace(day=day)
    return add_months(d.replace(day=day), 1)


def _gold_reached_by(member: Member, d: date, as_of: date) -> bool:
    reached = member.gold_reached_at
    if reached is None:
        # [decision R9.1] a gold-or-better tier without a date was reached in time
        return member.tier is not Tier.UNTIERED
    return reached <= d and reached <= as_of


def removal_date(member: Member, terms: ProgramTerms, as_of: date) -> date | None:
    """R9.1: evaluation after the deadline + notice days, once the notice has been given and
    while gold was not reached (by the deadline, or later but before the removal date)."""
    deadline = gold_deadline(member, terms)
    if deadline is None or _gold_reached_by(member, deadline, as_of):
        return None
    evaluation = evaluation_on_or_after(deadline, terms.membership.tier_evaluation_day)
    if as_of < evaluation:
        return None
    removal = add_days(evaluation, terms.membership.removal_notice_days)
    return None if _gold_reached_by(member, removal, as_of) else removal


def shortened_end(
    member: Member, plan: Plan, c: date, end: date, terms: ProgramTerms, as_of: date
) -> date:
    """R9.3: the window end after an exit dated on or before ``as_of`` (else ``end``).

    Downgraded at x: ``partner_36`` ends at ``max(c + 12 months, x)``; left at x: every plan
    ends at x; never later than the original ``end``.
    """
    x = member.exit_at
    if member.exit is None or x is None or x > as_of:
        return end
    if member.exit is ExitKind.LEFT:
        return min(end, x)
    if plan is Plan.PARTNER_36:
        floor = add_months(c, terms.commission.provider_window_months)
        return min(end, max(floor, x))
    return end


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the rest of the evaluation knows about a member at ``as_of``."""

    capacity_limit: int
    capacity_used: int
    awaiting_paperwork: bool
    ever_registered: bool


def compliance(
    member: Member, facts: MemberFacts, terms: ProgramTerms, as_of: date
) -> tuple[ComplianceStatus, tuple[str, ...]]:
    """R9.4: flags (in the order listed in POLICY.md) and the status they add up to.

    A member that has left, or has not joined yet, carries no flags.
    """
    joined = member.joined_at
    if joined is None or joined > as_of or has_left_by(member, as_of):
        return ComplianceStatus.OK, ()
    m = terms.membership
    kind = kind_at(member, as_of)
    flags: list[ComplianceFlag] = []
    removal = removal_date(member, terms, as_of)
    exited = member.exit is not None and member.exit_at is not None and member.exit_at <= as_of
    if removal is not None and not exited:
        flags.append(
            ComplianceFlag.REMOVAL_DUE if as_of >= removal else ComplianceFlag.GOLD_DEADLINE_NOTICE
        )
    if facts.capacity_used > facts.capacity_limit:
        flags.append(ComplianceFlag.OVER_CAPACITY)
    if facts.awaiting_paperwork:
        flags.append(ComplianceFlag.PAPERWORK_MISSING)
    required = m.partner_required_plans if kind is MemberKind.PARTNER else m.provider_required_plans
    if member.hubspot_plan.strip().lower() not in required:
        flags.append(ComplianceFlag.NO_ACTIVE_SUBSCRIPTION)
    if kind is MemberKind.PARTNER and not member.certified:
        flags.append(ComplianceFlag.CERTIFICATION_MISSING)
    if kind is MemberKind.PROVIDER:
        onboarding = member.onboarding_completed_at
        if as_of >= add_days(joined, m.onboarding_days) and (
            onboarding is None or onboarding > as_of
        ):
            flags.append(ComplianceFlag.ONBOARDING_OVERDUE)
        if as_of >= add_days(joined, m.first_registration_days) and not facts.ever_registered:
            flags.append(ComplianceFlag.NO_REGISTRATION_YET)
    if any(flag in _NON_COMPLIANT for flag in flags):
        status = ComplianceStatus.NON_COMPLIANT
    else:
        status = ComplianceStatus.ATTENTION if flags else ComplianceStatus.OK
    return status, tuple(str(flag) for flag in flags)
