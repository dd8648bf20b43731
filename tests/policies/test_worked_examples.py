"""The worked examples of POLICY.md (R2.10, R7.5, R8.4, R9.3), exactly as given."""

from __future__ import annotations

from decimal import Decimal

from policies.model import (
    CommissionStatus,
    ExitKind,
    MonthState,
    Plan,
    RecordKind,
    RegistrationStatus,
)

from .builders import (
    d,
    deal,
    evaluate,
    partner,
    program,
    provider,
    reg,
    requesting_company,
    requesting_contact,
    subscription,
)

CO, CT = RecordKind.COMPANY, RecordKind.CONTACT


def _r2_10_program() -> object:
    return program(
        partner("P1", "2023-01-01"),
        partner("P2", "2023-01-01"),
        requesting_company("1", "acme.com", "P1", "2024-01-10", rereg="2024-07-20"),
        requesting_contact("7", "ann@acme.com", "P1", "2024-10-20"),
        requesting_contact("8", "bob@acme.com", "P2", "2024-10-21"),
    )


def test_r2_10_worked_example_registered_and_expiring_soon() -> None:
    prog = _r2_10_program()
    assert isinstance(prog, type(program()))
    out = reg(evaluate(prog, "2024-06-23"), CO, "1")
    assert (out.status, out.expires_at, out.registered_to) == (
        RegistrationStatus.REGISTERED,
        d("2024-07-08"),
        "P1",
    )
    assert reg(evaluate(prog, "2024-06-24"), CO, "1").status is RegistrationStatus.EXPIRING_SOON
    assert reg(evaluate(prog, "2024-07-08"), CO, "1").status is RegistrationStatus.EXPIRED


def test_r2_10_worked_example_reregistered_then_limit_then_other_member() -> None:
    prog = _r2_10_program()
    assert isinstance(prog, type(program()))
    mid = reg(evaluate(prog, "2024-08-01"), CO, "1")
    assert (mid.status, mid.expires_at) == (RegistrationStatus.REREGISTERED, d("2024-10-18"))
    result = evaluate(prog, "2024-10-25")
    again = reg(result, CT, "7")
    assert (again.status, again.reason) == (RegistrationStatus.REJECTED, "reregistration_limit")
    other = reg(result, CT, "8")
    assert (other.status, other.registered_to) == (RegistrationStatus.REGISTERED, "P2")
    assert other.expires_at == d("2025-04-19")


def test_r7_5_worked_example_provider_540() -> None:
    prog = program(
        provider("PR", "2018-06-01", paperwork_completed_at=d("2019-01-20")),
        requesting_company("c1", "shop.example.com", "PR", "2019-01-02"),
        deal("d1", "c1", "2019-01-15", subs=("s1", "s2")),
        subscription("s1", "2019-01-15", "50", end="2019-07-15"),
        subscription("s2", "2019-07-15", "400"),
    )
    result = evaluate(prog, "2021-01-01")
    out = result.deals["d1"]
    assert (out.plan, out.commission_start, out.commission_end) == (
        Plan.PROVIDER_12,
        d("2019-01-15"),
        d("2020-01-15"),
    )
    amounts = sorted(line.amount for line in result.ledger)
    assert amounts == [Decimal("10.00")] * 6 + [Decimal("80.00")] * 6
    assert out.earned == Decimal("540.00")


def test_r8_4_worked_example_held_months_paid_with_q2() -> None:
    prog = program(
        partner("P", "2023-06-01", paperwork_completed_at=d("2024-05-20")),
        requesting_company("c1", "acme.com", "P", "2024-01-02"),
        deal("d1", "c1", "2024-02-10", subs=("s1",)),
        subscription("s1", "2024-02-10", "100"),
    )
    result = evaluate(prog, "2024-07-01")
    lines = [line for line in result.ledger if line.deal_id == "d1"]
    assert [line.month_start for line in lines] == [
        d("2024-02-10"),
        d("2024-03-10"),
        d("2024-04-10"),
        d("2024-05-10"),
        d("2024-06-10"),
    ]
    assert {line.pay_date for line in lines} == {d("2024-08-14")}
    assert [line.due_date for line in lines[:2]] == [d("2024-05-15")] * 2
    assert all(line.state is MonthState.PAYABLE for line in lines)
    out = result.deals["d1"]
    assert (out.next_payout_date, out.next_payout_amount) == (d("2024-08-14"), Decimal("100.00"))
    paid = evaluate(prog, "2024-08-14").deals["d1"]
    assert (paid.paid, paid.earned) == (Decimal("100.00"), Decimal("140.00"))


def test_r9_3_worked_example_downgrade() -> None:
    member = partner("P", "2023-03-01", exit=ExitKind.DOWNGRADED, exit_at=d("2025-04-14"))
    prog = program(
        member,
        requesting_company("a", "a-corp.com", "P", "2023-05-01"),
        requesting_company("b", "b-corp.com", "P", "2024-08-01"),
        deal("A", "a", "2023-06-01"),
        deal("B", "b", "2024-09-01"),
    )
    before = evaluate(prog, "2025-03-20")
    m = before.members["m-P"]
    assert (m.gold_deadline, m.removal_date) == (d("2025-03-01"), d("2025-04-14"))
    assert "gold_deadline_notice" in m.compliance_reasons
    after = evaluate(prog, "2025-05-01")
    assert after.deals["A"].plan is Plan.PARTNER_36
    assert after.deals["A"].commission_end == d("2025-04-14")
    assert after.deals["A"].commission_status is CommissionStatus.ENDED_EARLY
    assert after.deals["B"].commission_end == d("2025-09-01")
