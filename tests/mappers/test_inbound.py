"""Records -> Program: members, companies, contacts, deals and the data problems (DESIGN.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from mappers.fields import AMBIGUOUS_PRIMARY_COMPANY
from mappers.inbound import (
    INCOMPLETE_REGISTRATION_REQUEST,
    MEMBER_WITHOUT_CODE,
    MISSING_CLOSE_DATE,
    UNKNOWN_HUBSPOT_PLAN,
    UNKNOWN_PROGRAM_TYPE,
    UNKNOWN_TIER,
    to_program,
)
from mappers.records import RawRecord
from policies.model import (
    Company,
    Contact,
    ExitKind,
    Member,
    MemberKind,
    Problem,
    Program,
    RegistrationRequest,
    Tier,
)
from tests.mappers.builders import CONTRACT, TERMS, member, record

C = CONTRACT


def run(*records: RawRecord) -> tuple[Program, list[Problem]]:
    program, problems = to_program(records, C, TERMS)
    return program, list(problems)


def codes(problems: list[Problem]) -> list[tuple[str, str, str]]:
    return [(p.record_kind, p.record_id, p.code) for p in problems]


def test_member_fields_are_typed() -> None:
    rec = member("1", " ACME ", "partner", {
        C.tier: "Gold", C.joined_at: "2023-03-01", C.gold_reached_at: "1704844800000",
        C.paperwork_completed_at: "2024-05-20T00:00:00Z", C.certified: "true",
        C.onboarding_completed_at: "", C.hubspot_plan: "professional",
        C.program_exit: "downgraded_to_provider", C.program_exit_at: "2025-04-14",
    })
    program, problems = run(rec)
    assert problems == []
    assert program.members == (Member(
        company_id="1", code="ACME", kind=MemberKind.PARTNER, tier=Tier.GOLD,
        joined_at=date(2023, 3, 1), gold_reached_at=date(2024, 1, 10),
        paperwork_completed_at=date(2024, 5, 20), certified=True, onboarding_completed_at=None,
        hubspot_plan="professional", exit=ExitKind.DOWNGRADED, exit_at=date(2025, 4, 14),
    ),)
    assert program.companies[0].company_id == "1"  # a member is a company too


def test_company_without_program_type_is_not_a_member() -> None:
    program, problems = run(record("companies", "2", {C.code: "X"}, domain="x.com"))
    assert program.members == ()
    assert problems == []


def test_unknown_program_type_skips_membership_only() -> None:
    program, problems = run(member("1", "A", "reseller"))
    assert program.members == ()
    assert [c.company_id for c in program.companies] == ["1"]
    assert codes(problems) == [("member", "1", UNKNOWN_PROGRAM_TYPE)]


def test_member_without_code_is_kept_without_code() -> None:
    program, problems = run(member("1", "  ", "provider"))
    assert program.members[0].code is None
    assert program.members[0].kind is MemberKind.PROVIDER
    assert problems == [Problem("member", "1", MEMBER_WITHOUT_CODE, "")]  # as the rules report it


def test_duplicate_codes_are_passed_on_for_the_rules_to_settle() -> None:
    program, problems = run(member("30", "DUP"), member("4", "dup "), member("9", "OTHER"))
    assert [m.code for m in program.members] == ["DUP", "dup", "OTHER"]
    assert problems == []


def test_unknown_tier_plan_and_bad_values_are_problems_with_safe_defaults() -> None:
    rec = member("1", "A", "partner", {
        C.tier: "bronze", C.hubspot_plan: "ultimate", C.joined_at: "last year",
        C.certified: "perhaps", C.program_exit: "fired",
    })
    program, problems = run(rec)
    m = program.members[0]
    assert (m.tier, m.hubspot_plan, m.joined_at, m.certified, m.exit) == (
        Tier.UNTIERED, "none", None, False, None)
    assert sorted(p.code for p in problems) == sorted([
        UNKNOWN_TIER, UNKNOWN_HUBSPOT_PLAN, "invalid_date", "invalid_bool",
        "unknown_program_exit"])
    assert {p.record_kind for p in problems} == {"member"}


def test_company_fields_and_request() -> None:
    rec = record("companies", "5", {
        C.registration_requested_by: "ACME", C.registration_requested_at: "2024-01-10",
        C.deregistration_requested_at: "2024-03-01T00:00:00.000Z",
    }, domain=" Shop.Acme.co.uk ", website="https://acme.co.uk", hubspot_owner_id="77",
        lifecyclestage="Customer")
    program, problems = run(rec)
    assert problems == []
    assert program.companies == (Company(
        company_id="5", domain="Shop.Acme.co.uk", website="https://acme.co.uk", owner_id="77",
        lifecycle_stage="customer",
        request=RegistrationRequest("ACME", date(2024, 1, 10), None, date(2024, 3, 1)),
    ),)


def test_member_company_that_also_carries_a_request() -> None:
    rec = member("1", "A", extra={C.registration_requested_by: "B",
                               C.registration_requested_at: "2024-02-01"})
    program, problems = run(rec)
    assert problems == []
    assert program.members[0].code == "A"
    assert program.companies[0].request == RegistrationRequest("B", date(2024, 2, 1))


def test_request_dates_without_partner_code_are_reported_and_passed_on() -> None:
    program, problems = run(record("contacts", "8", {C.deregistration_requested_at: "2024-01-01"}))
    assert program.contacts[0].request == RegistrationRequest(
        None, None, None, date(2024, 1, 1))
    assert codes(problems) == [("contact", "8", INCOMPLETE_REGISTRATION_REQUEST)]


def test_partner_code_without_date_is_left_to_the_rules() -> None:
    program, problems = run(record("contacts", "8", {C.registration_requested_by: "A"}))
    assert program.contacts[0].request == RegistrationRequest("A", None)
    assert problems == []


def test_bad_request_date_is_one_problem_not_two() -> None:
    program, problems = run(record("contacts", "8", {
        C.registration_requested_by: "A", C.registration_requested_at: "32/01/2024"}))
    assert program.contacts[0].request == RegistrationRequest("A", None)
    assert codes(problems) == [("contact", "8", "invalid_date")]


def test_contact_primary_company_is_the_primary_association() -> None:
    rec = record("contacts", "3", email="x@gmail.com", assoc={"companies": [
        ("10", (279,)), ("11", (1, 279)), ("12", (279,))]})
    program, problems = run(rec)
    assert program.contacts == (Contact("3", "x@gmail.com", "11", None),)
    assert problems == []


def test_contact_lone_unlabeled_company_counts_as_primary() -> None:
    program, _ = run(record("contacts", "3", assoc={"companies": [("10", (279,))]}))
    assert program.contacts[0].primary_company_id == "10"


def test_contact_several_companies_without_primary_is_ambiguous() -> None:
    program, problems = run(record("contacts", "3", assoc={"companies": [
        ("12", (279,)), ("10", (279,))]}))
    assert program.contacts[0].primary_company_id is None
    assert problems == [Problem("contact", "3", AMBIGUOUS_PRIMARY_COMPANY, "companies: 10, 12")]


def test_contact_without_association_read_falls_back_to_property() -> None:
    program, _ = run(record("contacts", "3", associatedcompanyid="44"))
    assert program.contacts[0].primary_company_id == "44"
    program, _ = run(record("contacts", "3", associatedcompanyid="44", assoc={"companies": []}))
    assert program.contacts[0].primary_company_id is None  # read, and really none


def test_deal_fields() -> None:
    inputs = {C.shared_by: "ACME", C.cross_sell_confirmed: "true",
              C.attribution_override: "BEST", C.attribution_override_reason: " tie "}
    rec = record("deals", "20", inputs, dealstage="closedwon",
                 closedate="2024-02-10T14:00:00.000Z", createdate="1704844800000",
                 deal_currency_code="eur", assoc={
                     "companies": [("5", (341,)), ("6", (5, 341))],
                     "subscriptions": [("101", (300,)), ("99", (300,))]})
    program, problems = run(rec)
    assert problems == []
    deal = program.deals[0]
    assert (deal.stage, deal.close_date, deal.create_date) == (
        "closedwon", date(2024, 2, 10), date(2024, 1, 10))
    assert deal.primary_company_id == "6"
    assert deal.subscription_ids == ("99", "101")
    assert (deal.shared_by, deal.cross_sell_confirmed) == ("ACME", True)
    assert (deal.override_code, deal.override_reason, deal.currency) == ("BEST", "tie", "EUR")


def test_closed_won_deal_without_close_date_is_reported() -> None:
    program, problems = run(record("deals", "20", dealstage="closedwon"),
                            record("deals", "21", dealstage="appointmentscheduled"))
    assert [d.close_date for d in program.deals] == [None, None]
    assert codes(problems) == [("deal", "20", MISSING_CLOSE_DATE)]


def test_archived_and_foreign_records_are_ignored() -> None:
    program, problems = run(record("companies", "1", archived=True),
                            record("line_items", "2"), record("contacts", "3"))
    assert program.companies == ()
    assert [c.contact_id for c in program.contacts] == ["3"]
    assert problems == []


def test_subscription_fields() -> None:
    rec = record("subscriptions", "70", hs_status="Past_Due",
                 hs_recurring_billing_start_date="2019-01-15",
                 hs_recurring_billing_end_date="2019-07-15T00:00:00Z", hs_mrr="50",
                 hs_currency_code="usd")
    program, problems = run(rec)
    sub = program.subscriptions[0]
    assert problems == []
    assert (sub.status, sub.start_date, sub.end_date, sub.currency) == (
        "past_due", date(2019, 1, 15), date(2019, 7, 15), "USD")
    assert [(m.effective, m.amount) for m in sub.mrr_history] == [
        (date(2019, 1, 15), Decimal("50"))]
