"""R2 (registration) and R3 (capacity): one test per rule id, plus sticky decisions."""

from __future__ import annotations

from policies.model import Decision, RecordKind, RegistrationStatus
from policies.model import RegistrationStatus as S

from .builders import (
    TERMS,
    company,
    d,
    deal,
    evaluate,
    partner,
    program,
    provider,
    reg,
    request,
    requesting_company,
    requesting_contact,
)

CO, CT = RecordKind.COMPANY, RecordKind.CONTACT


def test_r2_1_first_come_first_served_by_date_then_id() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("20", "acme.com", "A", "2024-03-02"),
        requesting_company("10", "acme.com", "B", "2024-03-02"),
        requesting_contact("5", "x@acme.com", "A", "2024-03-01"),
    )
    result = evaluate(prog, "2024-04-01")
    assert reg(result, CT, "5").registered_to == "A"  # earliest date wins
    assert reg(result, CO, "10").status is S.UNAVAILABLE
    assert reg(result, CO, "20").status is S.REGISTERED  # joins A's registration


def test_r2_1_companies_before_contacts_at_equal_dates() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_contact("1", "x@acme.com", "A", "2024-03-01"),
        requesting_company("999", "acme.com", "B", "2024-03-01"),
    )
    result = evaluate(prog, "2024-04-01")
    assert reg(result, CO, "999").registered_to == "B"
    assert reg(result, CT, "1").reason == "registered_to_other_partner"


def test_r2_2_1_not_a_member() -> None:
    prog = program(
        partner("A", "2024-05-01"),
        requesting_company("1", "acme.com", "A", "2024-03-01"),
        requesting_company("2", "beta.com", "NOPE", "2024-03-01"),
    )
    result = evaluate(prog, "2024-06-01")
    assert (reg(result, CO, "1").status, reg(result, CO, "1").reason) == (
        S.REJECTED,
        "not_a_member",
    )
    assert reg(result, CO, "2").reason == "not_a_member"
    assert any(p.code == "unknown_partner_code" for p in result.problems)


def test_r2_2_2_invalid_and_free_email_domains() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "localhost", "A", "2024-03-01"),
        requesting_contact("2", "x@gmail.com", "A", "2024-03-01"),
    )
    result = evaluate(prog, "2024-04-01")
    assert reg(result, CO, "1").reason == "invalid_domain"
    assert reg(result, CT, "2").reason == "free_email_domain"


def test_r2_2_3_same_member_joins_registration() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-03-01"),
        requesting_contact("2", "x@acme.com", "A", "2024-04-01"),
    )
    result = evaluate(prog, "2024-05-01")
    assert reg(result, CT, "2").expires_at == reg(result, CO, "1").expires_at == d("2024-08-28")
    assert result.members["m-A"].capacity_used == 1


def test_r2_2_4_registered_to_other_partner() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-03-01"),
        requesting_contact("2", "x@acme.com", "B", "2024-04-01"),
    )
    out = reg(evaluate(prog, "2024-05-01"), CT, "2")
    assert (out.status, out.reason, out.registered_to) == (
        S.UNAVAILABLE,
        "registered_to_other_partner",
        None,
    )


def test_r2_2_5_owned_by_direct_sales() -> None:
    terms = TERMS.model_copy(
        update={"deals": TERMS.deals.model_copy(update={"direct_sales_owner_ids": ("77",)})}
    )
    prog = program(
        partner("A"),
        company("1", "acme.com", owner_id="77"),
        requesting_contact("2", "x@acme.com", "A", "2024-03-01"),
    )
    assert reg(evaluate(prog, "2024-04-01", terms), CT, "2").reason == "owned_by_direct_sales"
    assert reg(evaluate(prog, "2024-04-01"), CT, "2").status is S.REGISTERED


def test_r2_2_6_existing_customer() -> None:
    prog = program(
        partner("A"),
        company("1", "acme.com", lifecycle_stage="customer"),
        requesting_contact("2", "x@acme.com", "A", "2024-03-01"),
    )
    out = reg(evaluate(prog, "2024-04-01"), CT, "2")
    assert (out.status, out.reason) == (S.UNAVAILABLE, "existing_customer")


def test_r2_2_7_and_r3_capacity_reached_for_provider() -> None:
    parts = [requesting_company(str(i), f"shop{i}.com", "P", "2024-03-01") for i in range(11)]
    result = evaluate(program(provider("P"), *parts), "2024-04-01")
    statuses = [reg(result, CO, str(i)).status for i in range(11)]
    assert statuses.count(S.REGISTERED) == 10
    assert reg(result, CO, "10").reason == "capacity_reached"
    assert result.members["m-P"].capacity_limit == 10


def test_r2_2_8_registered_for_180_days() -> None:
    out = reg(
        evaluate(
            program(partner("A"), requesting_company("1", "acme.com", "A", "2024-01-10")),
            "2024-01-10",
        ),
        CO,
        "1",
    )
    assert (out.status, out.domain, out.expires_at) == (S.REGISTERED, "acme.com", d("2024-07-08"))


def test_r2_3_sticky_decision_is_honoured_until_request_changes() -> None:
    stored = Decision(
        CO,
        "1",
        "A",
        d("2024-03-01"),
        RegistrationStatus.UNAVAILABLE,
        "existing_customer",
        "acme.com",
    )
    base = requesting_company("1", "acme.com", "A", "2024-03-01")
    result = evaluate(program(partner("A"), base, decisions=[stored]), "2024-04-01")
    assert reg(result, CO, "1").reason == "existing_customer"
    assert result.decisions[(CO, "1")] == stored
    changed = company("1", "acme.com", request=request("A", "2024-03-02"))
    again = evaluate(program(partner("A"), changed, decisions=[stored]), "2024-04-01")
    assert reg(again, CO, "1").status is S.REGISTERED


def test_r2_3_rebuild_from_decisions_reproduces_outcomes() -> None:
    prog = program(partner("A"), requesting_company("1", "acme.com", "A", "2024-03-01"))
    first = evaluate(prog, "2024-04-01")
    # later the company became a customer: without the decision it would be unavailable
    later = program(
        partner("A"),
        company("1", "acme.com", lifecycle_stage="customer", request=prog.companies[0].request),
        decisions=first.decisions.values(),
    )
    assert reg(evaluate(later, "2024-04-01"), CO, "1") == reg(first, CO, "1")


def test_r1_4_registration_keeps_captured_domain() -> None:
    stored = Decision(
        CO, "1", "A", d("2024-03-01"), RegistrationStatus.REGISTERED, "", "acme.com", "A"
    )
    moved = requesting_company("1", "acme-new.com", "A", "2024-03-01")
    out = reg(evaluate(program(partner("A"), moved, decisions=[stored]), "2024-04-01"), CO, "1")
    assert out.domain == "acme.com"


def test_r2_4_and_r2_5_expired_domain_is_free_for_others() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-01-10"),
        requesting_contact("2", "x@acme.com", "B", "2024-07-08"),
    )
    result = evaluate(prog, "2024-07-10")
    assert reg(result, CO, "1").status is S.EXPIRED
    assert reg(result, CT, "2").registered_to == "B"


def test_r2_5_expiring_soon_window() -> None:
    prog = program(partner("A"), requesting_company("1", "acme.com", "A", "2024-01-10"))
    assert reg(evaluate(prog, "2024-06-23"), CO, "1").status is S.REGISTERED
    assert reg(evaluate(prog, "2024-07-07"), CO, "1").status is S.EXPIRING_SOON


def test_r2_6_seamless_reregistration_before_expiry() -> None:
    prog = program(
        partner("A"), requesting_company("1", "acme.com", "A", "2024-01-10", rereg="2024-06-01")
    )
    out = reg(evaluate(prog, "2024-07-10"), CO, "1")
    assert (out.status, out.expires_at) == (S.REREGISTERED, d("2024-10-06"))


def test_r2_6_late_reregistration_blocked_by_other_member() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-01-10", rereg="2024-08-01"),
        requesting_contact("2", "x@acme.com", "B", "2024-07-20"),
    )
    out = reg(evaluate(prog, "2024-08-02"), CO, "1")
    assert (out.status, out.reason) == (S.UNAVAILABLE, "registered_to_other_partner")


def test_r2_7_deregistration_frees_capacity_and_domain() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-01-10", dereg="2024-02-01"),
        requesting_contact("2", "x@acme.com", "B", "2024-02-01"),
        deal("D", "1", "2024-02-01"),
    )
    result = evaluate(prog, "2024-03-01")
    assert reg(result, CO, "1").status is S.DEREGISTERED
    assert result.members["m-A"].capacity_used == 0
    assert result.deals["D"].attributed_to == "B"


def test_r2_8_conversion_at_close_leaves_capacity() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-10"),
        deal("D", "1", "2024-02-01"),
    )
    before = evaluate(prog, "2024-01-31")
    after = evaluate(prog, "2024-02-01")
    assert (reg(before, CO, "1").status, before.members["m-A"].capacity_used) == (S.REGISTERED, 1)
    assert (reg(after, CO, "1").status, after.members["m-A"].capacity_used) == (S.CONVERTED, 0)


def test_r2_9_company_and_contact_share_one_registration() -> None:
    prog = program(
        partner("A"),
        requesting_contact("2", "x@Sales.Acme.com", "A", "2024-01-10"),
        requesting_company("1", "https://www.acme.com", "A", "2024-02-10"),
    )
    result = evaluate(prog, "2024-07-01")
    a, b = reg(result, CO, "1"), reg(result, CT, "2")
    assert (a.status, a.registered_to, a.expires_at) == (b.status, b.registered_to, b.expires_at)
    assert a.status is S.EXPIRING_SOON


def test_r3_downgraded_member_above_capacity_keeps_registrations() -> None:
    from policies.model import ExitKind

    member = partner("A", "2023-01-01", exit=ExitKind.DOWNGRADED, exit_at=d("2024-03-01"))
    parts = [requesting_company(str(i), f"shop{i}.com", "A", "2024-02-01") for i in range(12)]
    late = requesting_company("99", "late.com", "A", "2024-03-05")
    result = evaluate(program(member, *parts, late), "2024-03-10")
    m = result.members["m-A"]
    assert (m.capacity_limit, m.capacity_used) == (10, 12)
    assert "over_capacity" in m.compliance_reasons
    assert reg(result, CO, "99").reason == "capacity_reached"


def test_r2_0_future_and_dateless_requests_are_not_decided() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-09-01"),
        company(
            "2",
            "beta.com",
            request=request("A", None),
        ),
    )
    result = evaluate(prog, "2024-04-01")
    assert reg(result, CO, "1").reason == "requested_in_future"
    assert reg(result, CO, "2").reason == "missing_request_date"
    assert (CO, "1") not in result.decisions
