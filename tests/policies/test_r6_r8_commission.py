"""R6 (plan), R7 (revenue months) and R8 (payouts, paperwork), with bad subscription inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policies.commission import commission_amount
from policies.model import CommissionStatus, MonthState, Plan

from .builders import (
    d,
    deal,
    evaluate,
    partner,
    program,
    provider,
    requesting_company,
    subscription,
)


@pytest.mark.parametrize(
    ("joined", "close", "plan", "end"),
    [
        ("2023-02-20", "2023-03-31", Plan.LEGACY_12, "2024-03-31"),
        ("2023-02-21", "2023-03-31", Plan.PARTNER_36, "2026-03-31"),
        ("2023-02-20", "2023-04-01", Plan.PARTNER_36, "2026-04-01"),
    ],
)
def test_r6_legacy_boundaries(joined: str, close: str, plan: Plan, end: str) -> None:
    prog = program(
        partner("A", joined),
        requesting_company("1", "acme.com", "A", close),
        deal("D", "1", close),
    )
    out = evaluate(prog, "2023-05-01").deals["D"]
    assert (out.plan, out.rate, out.commission_end) == (plan, Decimal("0.20"), d(end))


def test_r6_legacy_boundary_joined_on_cutoff() -> None:
    prog = program(
        partner("A", "2023-02-21"),
        requesting_company("1", "acme.com", "A", "2023-03-01"),
        deal("D", "1", "2023-03-15"),
    )
    assert evaluate(prog, "2023-05-01").deals["D"].plan is Plan.PARTNER_36


def test_r6_provider_plan_and_downgraded_member_gets_provider_12() -> None:
    from policies.model import ExitKind

    prov = program(
        provider("P"),
        requesting_company("1", "acme.com", "P", "2024-01-01"),
        deal("D", "1", "2024-02-01"),
    )
    assert evaluate(prov, "2024-03-01").deals["D"].plan is Plan.PROVIDER_12
    down = program(
        partner("A", "2022-01-01", exit=ExitKind.DOWNGRADED, exit_at=d("2024-01-15")),
        requesting_company("1", "acme.com", "A", "2024-01-20"),
        deal("D", "1", "2024-02-01"),
    )
    assert evaluate(down, "2024-03-01").deals["D"].plan is Plan.PROVIDER_12


def test_r7_1_revenue_months_from_start_clamped() -> None:
    prog = program(
        partner("A", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-01-31", subs=("s",)),
        subscription("s", "2024-01-31", "100"),
    )
    lines = evaluate(prog, "2024-05-01").ledger
    assert [x.month_start for x in lines] == [
        d("2024-01-31"),
        d("2024-02-29"),
        d("2024-03-31"),
        d("2024-04-30"),
    ]


def test_r7_2_ended_and_past_due_months_not_received() -> None:
    prog = program(
        partner("A", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-01-10", subs=("s", "t")),
        subscription("s", "2024-01-10", "100", end="2024-03-10"),
        subscription("t", "2024-01-10", "50", status="past_due"),
    )
    lines = evaluate(prog, "2024-04-15").ledger
    assert [(x.subscription_id, x.month_index) for x in lines] == [
        ("s", 0),
        ("s", 1),
        ("t", 0),
        ("t", 1),
        ("t", 2),
    ]  # t's April month is held back


def test_r7_3_mrr_history_changes_later_months_only() -> None:
    prog = program(
        partner("A", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-01-10", subs=("s",)),
        subscription("s", "2024-01-10", ("2024-01-10", "100"), ("2024-02-20", "300")),
    )
    lines = evaluate(prog, "2024-04-15").ledger
    assert [x.amount for x in lines] == [
        Decimal("20.00"),
        Decimal("20.00"),
        Decimal("60.00"),
        Decimal("60.00"),
    ]


def test_r7_4_rounding_half_up_and_window() -> None:
    assert commission_amount(Decimal("0.025"), Decimal("1")) == Decimal("0.03")
    assert commission_amount(Decimal("90.50"), Decimal("0.20")) == Decimal("18.10")
    assert commission_amount(Decimal("33.33"), Decimal("0.20")) == Decimal("6.67")
    prog = program(
        provider("P"),
        requesting_company("1", "acme.com", "P", "2024-01-01"),
        deal("D", "1", "2024-03-01", subs=("s",)),
        subscription("s", "2024-01-01", "10"),
    )
    lines = evaluate(prog, "2026-01-01").ledger
    assert lines[0].month_start == d("2024-03-01")  # before close: outside window
    assert len(lines) == 12


def test_r7_bad_subscriptions_are_reported_not_raised() -> None:
    prog = program(
        partner("A", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-01-10", subs=("nostart", "missing", "usd", "ok"), currency="EUR"),
        deal("E", "1", "2024-01-10", subs=("ok",), override_code="A", override_reason="x"),
        subscription("ok", "2024-01-10", "10"),
        subscription("usd", "2024-01-10", "10", currency="USD"),
    )
    from policies.model import Subscription

    bad = Subscription("nostart", "active", None)
    prog = type(prog)(
        prog.members,
        prog.companies,
        prog.contacts,
        prog.deals,
        (*prog.subscriptions, bad),
        prog.decisions,
    )
    result = evaluate(prog, "2024-02-01")
    codes = {p.code for p in result.problems}
    assert {
        "subscription_without_start",
        "unknown_subscription",
        "mixed_currencies",
        "subscription_counted_elsewhere",
    } <= codes
    assert (result.deals["D"].earned, result.deals["E"].earned) == (Decimal("2.00"), Decimal("0"))


def test_r8_1_due_dates_by_quarter() -> None:
    prog = program(
        partner("A", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-03-15", subs=("s",)),
        subscription("s", "2024-03-15", "10"),
    )
    lines = evaluate(prog, "2025-01-01").ledger
    assert {x.due_date for x in lines} == {
        d("2024-05-15"),
        d("2024-08-14"),
        d("2024-11-14"),
        d("2025-02-14"),
    }


def test_r8_2_awaiting_then_forfeited_paperwork() -> None:
    prog = program(
        partner("A", "2023-06-01", paperwork_completed_at=None),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-02-10", subs=("s",)),
        subscription("s", "2024-02-10", "10"),
    )
    waiting = evaluate(prog, "2024-08-10")
    assert waiting.deals["D"].commission_status is CommissionStatus.AWAITING_PAPERWORK
    assert {x.state for x in waiting.ledger} == {MonthState.AWAITING_PAPERWORK}
    assert "paperwork_missing" in waiting.members["m-A"].compliance_reasons
    late = evaluate(prog, "2024-08-11")
    assert late.deals["D"].commission_status is CommissionStatus.FORFEITED
    assert late.deals["D"].earned == Decimal("0")


def test_r8_2_paperwork_anchor_join() -> None:
    from policies.payouts import PaperworkState, paperwork_for

    from .builders import TERMS

    terms = TERMS.payouts.model_copy(update={"paperwork_anchor": "join"})
    member = partner("A", "2023-06-01", paperwork_completed_at=None)
    paperwork = paperwork_for(member, d("2024-02-10"), d("2024-01-01"), terms)
    assert paperwork.deadline == d("2023-12-01")
    assert paperwork.state is PaperworkState.FORFEITED


def test_r8_3_completed_status_and_member_totals() -> None:
    prog = program(
        provider("P"),
        requesting_company("1", "acme.com", "P", "2024-01-01"),
        deal("D", "1", "2024-01-10", subs=("s",)),
        subscription("s", "2024-01-10", "10"),
    )
    result = evaluate(prog, "2025-06-01")
    out = result.deals["D"]
    assert (out.commission_status, out.earned, out.paid) == (
        CommissionStatus.COMPLETED,
        Decimal("24.00"),
        Decimal("24.00"),
    )
    assert result.members["m-P"].commission_earned_total == Decimal("24.00")
