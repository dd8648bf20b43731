"""Bad input over time (§0, R5, R7.6): each gets a defined outcome, and a problem code where it
is suspicious; nothing fails."""

from __future__ import annotations

from decimal import Decimal

from policies.model import ProgramResult, RecordKind, RegistrationStatus

from .builders import (
    d,
    deal,
    evaluate,
    partner,
    program,
    provider,
    reg,
    requesting_company,
    subscription,
)

CO = RecordKind.COMPANY


def _codes(result: ProgramResult) -> set[tuple[str, str]]:
    return {(p.record_id, p.code) for p in result.problems}


def test_s0_a_far_future_request_is_pending_and_reported() -> None:
    prog = program(partner("A"), requesting_company("1", "acme.com", "A", "2031-05-01"),
                   requesting_company("2", "beta.com", "A", "2024-04-02"))

    result = evaluate(prog, "2024-04-01")

    assert reg(result, CO, "1").status is RegistrationStatus.PENDING
    assert reg(result, CO, "2").status is RegistrationStatus.PENDING
    assert ("1", "request_far_ahead") in _codes(result)
    assert ("2", "request_far_ahead") not in _codes(result)  # a day ahead: a time zone
    assert result.decisions == {}


def test_r5_a_close_before_the_create_date_counts_and_is_reported() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-02-01", subs=("s",), create_date=d("2024-03-01")),
        subscription("s", "2024-02-01", "100"),
    )

    result = evaluate(prog, "2024-04-15")

    assert ("D", "close_before_create") in _codes(result)
    assert result.deals["D"].commission_start == d("2024-02-01")
    assert result.deals["D"].earned == Decimal("60.00")


def test_r7_6_a_subscription_on_three_deals_of_two_members_counts_once() -> None:
    prog = program(
        partner("A"),
        provider("B"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        requesting_company("2", "beta.com", "B", "2024-01-01"),
        requesting_company("3", "gamma.com", "A", "2024-01-01"),
        deal("10", "1", "2024-03-01", subs=("s",)),
        deal("20", "2", "2024-02-01", subs=("s",)),
        deal("30", "3", "2024-02-01", subs=("s",)),
        subscription("s", "2024-02-01", "100"),
    )

    result = evaluate(prog, "2024-06-15")

    assert {m.deal_id for m in result.ledger} == {"20"}  # first close, lowest id of the tie
    assert {("s", "subscription_counted_elsewhere")} <= _codes(result)
    assert result.members["m-B"].commission_earned_total == Decimal("100.00")
    assert result.members["m-A"].commission_earned_total == Decimal("0")


def test_r7_6_a_merge_moving_a_subscription_between_members() -> None:
    before = program(
        partner("A"),
        provider("B"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        requesting_company("2", "beta.com", "B", "2024-01-01"),
        deal("10", "1", "2024-02-01", subs=("s",)),
        deal("20", "2", "2024-04-01"),
        subscription("s", "2024-02-01", "100"),
    )
    after = program(  # deal 10 merged into deal 20: archived, its subscription moved
        partner("A"),
        provider("B"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        requesting_company("2", "beta.com", "B", "2024-01-01"),
        deal("20", "2", "2024-04-01", subs=("s",)),
        subscription("s", "2024-02-01", "100"),
    )

    was, now = evaluate(before, "2024-06-15"), evaluate(after, "2024-06-15")

    assert was.members["m-A"].commission_earned_total == Decimal("100.00")
    assert now.members["m-A"].commission_earned_total == Decimal("0")
    assert now.members["m-B"].commission_earned_total == Decimal("60.00")  # from its own close
    assert {m.deal_id for m in now.ledger} == {"20"}
