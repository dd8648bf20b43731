"""Desired outputs in HubSpot's string forms and the minimal, type-aware diff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.contract import contract_for_prefix
from mappers.outbound import Patch, clear_outputs, desired_outputs, diff
from policies.model import (
    Attribution,
    CommissionStatus,
    ComplianceStatus,
    DealOutput,
    DealType,
    MemberOutput,
    Plan,
    ProgramResult,
    RecordKind,
    RegistrationOutput,
    RegistrationStatus,
)
from tests.mappers.builders import CONTRACT

C = CONTRACT


def registration(kind: RecordKind, record_id: str, **over: Any) -> RegistrationOutput:
    return replace(RegistrationOutput(
        record_kind=kind, record_id=record_id, status=RegistrationStatus.REGISTERED,
        reason="registered", registered_to="ACME", domain="acme.com",
        expires_at=date(2024, 7, 8)), **over)


def member_output(company_id: str, **over: Any) -> MemberOutput:
    return replace(MemberOutput(
        company_id=company_id, capacity_limit=500, capacity_used=12,
        compliance_status=ComplianceStatus.ATTENTION,
        compliance_reasons=("gold_deadline_notice", "paperwork_missing"),
        gold_deadline=date(2025, 3, 1), removal_date=None,
        commission_earned_total=Decimal("540"), next_payout_date=date(2024, 8, 14),
        next_payout_amount=Decimal("100.005")), **over)


def deal_output(deal_id: str, **over: Any) -> DealOutput:
    return replace(DealOutput(
        deal_id=deal_id, deal_type=None, attribution=Attribution.REGISTERED,
        attribution_reason="registered", attributed_to="ACME", plan=Plan.PROVIDER_12,
        rate=Decimal("0.20"), commission_start=date(2019, 1, 15),
        commission_end=date(2020, 1, 15), commission_status=CommissionStatus.ACCRUING,
        earned=Decimal("540.0"), paid=Decimal("0"), next_payout_date=None,
        next_payout_amount=None), **over)


def result(registrations: Sequence[RegistrationOutput] = (),
           members: Sequence[MemberOutput] = (),
           deals: Sequence[DealOutput] = ()) -> ProgramResult:
    return ProgramResult(
        as_of=date(2024, 6, 1),
        registrations={(r.record_kind, r.record_id): r for r in registrations},
        deals={d.deal_id: d for d in deals},
        members={m.company_id: m for m in members},
        decisions={}, ledger=(), problems=())


def test_deal_outputs_in_hubspot_formats() -> None:
    desired = desired_outputs(result(deals=[deal_output("20")]), C)
    assert desired == {("deals", "20"): {
        C.deal_type: "", C.attribution: "registered", C.attribution_reason: "registered",
        C.attributed_to: "ACME", C.commission_plan: "provider_12", C.commission_rate: "0.2",
        C.commission_start: "2019-01-15", C.commission_end: "2020-01-15",
        C.commission_status: "accruing", C.commission_earned: "540.00",
        C.commission_paid: "0.00", C.deal_next_payout_date: "", C.deal_next_payout_amount: "",
    }}


@pytest.mark.parametrize(
    ("rate", "text"),
    [(Decimal("0.20"), "0.2"), (Decimal("1"), "1"), (Decimal("1E+2"), "100"),
     (Decimal("0.125"), "0.125"), (Decimal("0"), "0")],
)
def test_rate_has_no_trailing_zeros_or_exponent(rate: Decimal, text: str) -> None:
    desired = desired_outputs(result(deals=[deal_output("1", rate=rate)]), C)
    assert desired[("deals", "1")][C.commission_rate] == text


def test_money_has_two_decimals_half_up_and_no_exponent() -> None:
    out = deal_output("1", deal_type=DealType.CO_SELLING, earned=Decimal("1E+3"),
                      paid=Decimal("2.345"), next_payout_amount=Decimal("-0.005"))
    props = desired_outputs(result(deals=[out]), C)[("deals", "1")]
    assert (props[C.commission_earned], props[C.commission_paid]) == ("1000.00", "2.35")
    assert props[C.deal_next_payout_amount] == "-0.01"
    assert props[C.deal_type] == "co_selling"


def test_registration_outputs_on_companies_and_contacts() -> None:
    regs = [registration(RecordKind.CONTACT, "3"),
            registration(RecordKind.COMPANY, "3", status=RegistrationStatus.REJECTED,
                         reason="capacity_reached", registered_to=None, domain=None,
                         expires_at=None)]
    desired = desired_outputs(result(registrations=regs), C)
    assert desired[("contacts", "3")] == {
        C.registration_status: "registered", C.registration_reason: "registered",
        C.registered_to: "ACME", C.registered_domain: "acme.com",
        C.registration_expires_at: "2024-07-08"}
    assert desired[("companies", "3")] == {
        C.registration_status: "rejected", C.registration_reason: "capacity_reached",
        C.registered_to: "", C.registered_domain: "", C.registration_expires_at: ""}


def test_member_company_carrying_a_request_gets_one_merged_set() -> None:
    desired = desired_outputs(result(registrations=[registration(RecordKind.COMPANY, "1")],
                                     members=[member_output("1")]), C)
    assert list(desired) == [("companies", "1")]
    props = desired[("companies", "1")]
    assert props[C.registration_status] == "registered"
    assert props[C.capacity_limit] == "500"
    assert props[C.compliance_reasons] == "gold_deadline_notice;paperwork_missing"
    assert props[C.commission_earned_total] == "540.00"
    assert props[C.member_next_payout_amount] == "100.01"
    assert props[C.removal_date] == ""
    # a patch on a fresh record writes both sets at once
    patches = diff(desired, {})
    assert len(patches) == 1
    assert set(patches[0].properties) == set(props) - {C.removal_date}


@pytest.mark.parametrize(
    ("name", "desired", "current"),
    [
        (C.commission_earned, "540.00", "540"),
        (C.commission_earned, "540.00", " 540.0 "),
        (C.commission_rate, "0.2", "0.20"),
        (C.commission_start, "2024-01-10", "2024-01-10T00:00:00Z"),
        (C.commission_start, "2024-01-10", "2024-01-10T00:00:00.000Z"),
        (C.commission_start, "2024-01-10", "1704844800000"),
        (C.commission_end, "", None),
        (C.attributed_to, "", None),
        (C.attributed_to, "ACME", "ACME "),
    ],
)
def test_normalized_equal_values_give_no_patch(name: str, desired: str,
                                               current: str | None) -> None:
    assert diff({("deals", "1"): {name: desired}}, {("deals", "1"): {name: current}}) == []


@pytest.mark.parametrize(
    ("name", "desired", "current"),
    [
        (C.commission_earned, "540.00", "540.01"),
        (C.commission_start, "2024-01-10", "2024-01-11"),
        (C.commission_start, "2024-01-10", "1704931200000"),
        (C.commission_start, "2024-01-10", "garbage"),
        (C.attributed_to, "0540", "540"),  # a string property is not compared as a number
        (C.commission_plan, "provider_12", "Provider_12"),
        (C.commission_earned, "0.00", None),
    ],
)
def test_real_differences_give_a_patch(name: str, desired: str, current: str | None) -> None:
    patches = diff({("deals", "1"): {name: desired}}, {("deals", "1"): {name: current}})
    assert patches == [Patch("deals", "1", {name: desired})]


def test_clearing_a_value_writes_an_empty_string() -> None:
    desired = {("deals", "1"): {C.deal_next_payout_date: "", C.deal_next_payout_amount: ""}}
    current = {("deals", "1"): {C.deal_next_payout_date: "2024-08-14",
                                C.deal_next_payout_amount: ""}}
    assert diff(desired, current) == [Patch("deals", "1", {C.deal_next_payout_date: ""})]


def test_compliance_reasons_compare_as_a_set() -> None:
    desired = {("companies", "1"): {C.compliance_reasons: "a;b"}}
    assert diff(desired, {("companies", "1"): {C.compliance_reasons: "b; a"}}) == []
    assert diff(desired, {("companies", "1"): {C.compliance_reasons: "a"}}) != []


def test_patches_sorted_by_type_then_numeric_id() -> None:
    desired = {(t, i): {C.attributed_to: "X"} for t, i in
               [("deals", "10"), ("contacts", "2"), ("deals", "9"), ("companies", "100")]}
    order = [(p.object_type, p.object_id) for p in diff(desired, {})]
    assert order == [("companies", "100"), ("contacts", "2"), ("deals", "9"), ("deals", "10")]


def test_diff_uses_the_given_contract_types() -> None:
    other = contract_for_prefix("acme_")
    desired = {("deals", "1"): {other.commission_earned: "540.00"}}
    current = {("deals", "1"): {other.commission_earned: "540"}}
    assert diff(desired, current, other) == []
    assert diff(desired, current) != []  # default contract: unknown name, compared as text


def test_clear_outputs_names_every_output_of_the_type() -> None:
    cleared = clear_outputs("deals", C)
    assert set(cleared.values()) == {""}
    assert set(cleared) == C.output_names("deals")
    assert C.registration_status in clear_outputs("contacts", C)
    assert clear_outputs("subscriptions", C) == {}


money = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4,
                    allow_nan=False, allow_infinity=False)
dates = st.none() | st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1))
codes = st.none() | st.text(alphabet="ABCXYZ019_-", min_size=1, max_size=8)


@given(
    earned=money, paid=money, amount=st.none() | money, start=dates, end=dates, payout=dates,
    rate=st.none() | st.decimals(min_value=0, max_value=1, places=3),
    to=codes, deal_type=st.none() | st.sampled_from(DealType),
    used=st.integers(0, 5000), reasons=st.lists(st.sampled_from(["a", "b", "c"]), unique=True),
    expires=dates, status=st.sampled_from(RegistrationStatus),
)
def test_round_trip_written_outputs_read_back_give_no_patch(
    earned: Decimal, paid: Decimal, amount: Decimal | None, start: date | None,
    end: date | None, payout: date | None, rate: Decimal | None, to: str | None,
    deal_type: DealType | None, used: int, reasons: list[str], expires: date | None,
    status: RegistrationStatus,
) -> None:
    res = result(
        registrations=[registration(RecordKind.COMPANY, "1", status=status, registered_to=to,
                                    expires_at=expires),
                       registration(RecordKind.CONTACT, "1", expires_at=start)],
        members=[member_output("1", capacity_used=used, compliance_reasons=tuple(reasons),
                               next_payout_amount=amount, gold_deadline=end)],
        deals=[deal_output("1", earned=earned, paid=paid, next_payout_amount=amount,
                           commission_start=start, commission_end=end, rate=rate,
                           next_payout_date=payout, attributed_to=to, deal_type=deal_type)],
    )
    desired = desired_outputs(res, C)
    assert diff(desired, desired) == []
    # what HubSpot sends back for empty values: the property is absent
    read_back = {key: {k: v for k, v in props.items() if v} for key, props in desired.items()}
    assert diff(desired, read_back) == []
    numbers = {s.name for s in C.property_specs() if s.type == "number"}
    for props in desired.values():
        assert not any("E" in v for k, v in props.items() if k in numbers)


def test_odd_record_ids_sort_after_numeric_ones() -> None:
    desired = {("deals", i): {C.attributed_to: "X"} for i in ["²", "10", "abc", "9"]}
    assert [p.object_id for p in diff(desired, {})] == ["9", "10", "abc", "²"]
