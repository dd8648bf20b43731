"""R9: gold deadline, removal, exit consequences, compliance flags; and input-order determinism."""

from __future__ import annotations

from policies.compliance import evaluation_on_or_after
from policies.model import CommissionStatus, ComplianceStatus, ExitKind, Plan, Tier

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


def test_r9_1_evaluation_on_the_15th() -> None:
    assert evaluation_on_or_after(d("2025-03-01"), 15) == d("2025-03-15")
    assert evaluation_on_or_after(d("2025-03-15"), 15) == d("2025-03-15")
    assert evaluation_on_or_after(d("2025-03-16"), 15) == d("2025-04-15")


def test_r9_1_notice_then_removal_due_and_cleared_by_gold() -> None:
    late = program(partner("A", "2023-03-01"))
    assert evaluate(late, "2025-03-14").members["m-A"].compliance_status is ComplianceStatus.OK
    notice = evaluate(late, "2025-03-15").members["m-A"]
    assert (notice.compliance_status, notice.compliance_reasons) == (
        ComplianceStatus.ATTENTION,
        ("gold_deadline_notice",),
    )
    due = evaluate(late, "2025-04-14").members["m-A"]
    assert due.compliance_reasons == ("removal_due",)
    assert due.compliance_status is ComplianceStatus.NON_COMPLIANT
    cleared = program(partner("A", "2023-03-01", tier=Tier.GOLD, gold_reached_at=d("2025-04-01")))
    out = evaluate(cleared, "2025-04-20").members["m-A"]
    assert (out.removal_date, out.compliance_reasons) == (None, ())


def test_r9_2_downgraded_member_becomes_provider() -> None:
    member = partner("A", "2023-03-01", exit=ExitKind.DOWNGRADED, exit_at=d("2025-04-14"))
    out = evaluate(program(member), "2025-05-01").members["m-A"]
    assert out.capacity_limit == 10
    assert "removal_due" not in out.compliance_reasons


def test_r9_3_left_member_windows_end_at_exit() -> None:
    member = partner("A", "2023-03-01", exit=ExitKind.LEFT, exit_at=d("2024-06-01"))
    prog = program(
        member,
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-02-01", subs=("s",)),
        subscription("s", "2024-02-01", "10"),
    )
    out = evaluate(prog, "2024-07-01").deals["D"]
    assert (out.plan, out.commission_end) == (Plan.PARTNER_36, d("2024-06-01"))
    assert out.commission_status is CommissionStatus.ENDED_EARLY
    assert out.earned == 4 * 2  # Feb..May
    before = evaluate(prog, "2024-05-01").deals["D"]
    assert before.commission_end == d("2027-02-01")  # the exit has not happened yet (§0)


def test_r9_4_partner_flags() -> None:
    bare = partner("A", "2024-01-01", certified=False, hubspot_plan="starter")
    out = evaluate(program(bare), "2024-03-01").members["m-A"]
    assert out.compliance_reasons == ("no_active_subscription", "certification_missing")
    assert out.compliance_status is ComplianceStatus.NON_COMPLIANT


def test_r9_4_provider_onboarding_and_first_registration() -> None:
    fresh = provider("P", "2024-01-01", onboarding_completed_at=None)
    early = evaluate(program(fresh), "2024-01-30").members["m-P"]
    assert early.compliance_reasons == ()
    late = evaluate(program(fresh), "2024-01-31").members["m-P"]
    assert late.compliance_reasons == ("onboarding_overdue", "no_registration_yet")
    active = program(
        provider("P", "2024-01-01"), requesting_company("1", "acme.com", "P", "2024-01-05")
    )
    assert evaluate(active, "2024-03-01").members["m-P"].compliance_status is ComplianceStatus.OK


def test_r0_result_does_not_depend_on_input_order() -> None:
    parts = [
        partner("A"),
        partner("B"),
        provider("P"),
        requesting_company("3", "acme.com", "B", "2024-01-01"),
        requesting_company("2", "acme.com", "A", "2024-01-01"),
        requesting_company("5", "beta.com", "P", "2024-01-02"),
        deal("D", "2", "2024-02-01", subs=("s",)),
        subscription("s", "2024-02-01", "10"),
        deal("E", "5", "2024-03-01", shared_by="P", create_date=d("2024-01-01")),
    ]
    one = evaluate(program(*parts), "2024-06-01")
    two = evaluate(program(*reversed(parts)), "2024-06-01")
    assert one == two
