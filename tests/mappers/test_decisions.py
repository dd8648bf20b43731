"""Sticky decisions read back from the outputs written on records (POLICY.md R2.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from mappers.decisions import (
    INVALID_REGISTRATION_STATUS,
    Joined,
    anchor_joined,
    merge_decisions,
    read_back,
)
from mappers.inbound import to_program
from mappers.parse import Invalid
from policies.model import Decision, RecordKind, RegistrationRequest, RegistrationStatus
from tests.mappers.builders import CONTRACT, TERMS, record

C = CONTRACT
REQUEST = RegistrationRequest("ACME", date(2024, 1, 10))
S = RegistrationStatus


def outputs(status: str, reason: str = "", to: str = "", domain: str = "acme.com",
            expires: str = "") -> dict[str, str | None]:
    return {C.registration_status: status, C.registration_reason: reason, C.registered_to: to,
            C.registered_domain: domain, C.registration_expires_at: expires}


def back(props: dict[str, str | None], request: RegistrationRequest | None = REQUEST
         ) -> Decision | Joined | Invalid | None:
    return read_back(RecordKind.COMPANY, "5", request, props, C, TERMS)


@pytest.mark.parametrize(
    "status", ["registered", "expiring_soon", "expired", "converted", "deregistered",
               "reregistered"])
def test_r2_3_derived_statuses_map_back_to_registered(status: str) -> None:
    decision = back(outputs(status, "registered", "ACME", expires="2024-07-08"))
    assert decision == Decision(RecordKind.COMPANY, "5", "ACME", date(2024, 1, 10),
                                S.REGISTERED, "registered", "acme.com", "ACME")


@pytest.mark.parametrize(
    ("status", "reason"),
    [("rejected", "capacity_reached"), ("unavailable", "registered_to_other_partner")],
)
def test_r2_3_refusals_keep_their_outcome_and_reason(status: str, reason: str) -> None:
    decision = back(outputs(status, reason, "OTHER"))
    assert isinstance(decision, Decision)
    assert (decision.outcome, decision.reason, decision.registered_to) == (
        S(status), reason, "OTHER")


def test_r2_3_registered_to_defaults_to_the_requester() -> None:
    decision = back(outputs("registered", domain=""))
    assert isinstance(decision, Decision)
    assert (decision.registered_to, decision.domain, decision.reason) == ("ACME", None, "")


def test_r2_3_status_of_another_partner_is_not_this_requests_decision() -> None:
    assert back(outputs("registered", to="OTHER")) is None


def test_r2_3_expiry_of_another_request_needs_an_anchor() -> None:
    # Joined another claim (R2.2.3), or the request date was edited after the decision.
    found = back(outputs("registered", to="acme", expires="2024-07-01"))
    assert isinstance(found, Joined)
    assert found.expires_at == date(2024, 7, 1)
    assert isinstance(back(outputs("registered", to="acme", expires="2024-07-08")), Decision)
    rereg = RegistrationRequest("ACME", date(2024, 1, 10), date(2024, 7, 20))
    assert isinstance(back(outputs("expired", to="ACME", expires="2024-10-18"), rereg), Decision)


def test_r2_2_3_joined_request_is_kept_only_with_the_claim_it_joined() -> None:
    joined = back(outputs("registered", to="ACME", expires="2024-07-01"))
    assert isinstance(joined, Joined)
    claim = Decision(RecordKind.CONTACT, "9", "acme", date(2024, 1, 3), S.REGISTERED, "",
                     "acme.com", "acme")  # 2024-01-03 + 180 days = 2024-07-01
    other_domain = replace(claim, domain="other.com")
    refused = replace(claim, outcome=S.REJECTED)
    key = (RecordKind.CONTACT, "9")
    assert anchor_joined([joined], {key: claim}, TERMS) == {
        (RecordKind.COMPANY, "5"): joined.decision}
    assert anchor_joined([joined], {key: other_domain}, TERMS) == {}
    assert anchor_joined([joined], {key: refused}, TERMS) == {}
    assert anchor_joined([joined], {key: replace(claim, requested_at=date(2024, 1, 4))},
                         TERMS) == {}


def test_r2_3_no_request_or_no_status_gives_nothing() -> None:
    assert back(outputs("registered"), None) is None
    assert back(outputs("registered"), RegistrationRequest("ACME", None)) is None
    assert back(outputs("")) is None


def test_r2_3_unknown_status_is_a_problem() -> None:
    assert back(outputs("waiting")) == Invalid(INVALID_REGISTRATION_STATUS, "waiting")


@pytest.mark.parametrize(
    ("status", "reason"),
    [("pending", "requested_in_future"), ("pending", ""),
     ("rejected", "requested_in_future"), ("rejected", "missing_request_date")],
)
def test_s0_read_back_never_turns_a_non_decision_into_a_sticky_one(
    status: str, reason: str
) -> None:
    assert back(outputs(status, reason)) is None


def test_r2_3_store_decisions_win_over_crm_ones() -> None:
    key_a, key_b = (RecordKind.COMPANY, "1"), (RecordKind.CONTACT, "2")
    store = {key_a: Decision(RecordKind.COMPANY, "1", "A", date(2024, 1, 1), S.REJECTED,
                             "not_a_member", None)}
    crm = {key_a: Decision(RecordKind.COMPANY, "1", "A", date(2024, 1, 1), S.REGISTERED,
                           "", "a.com", "A"),
           key_b: Decision(RecordKind.CONTACT, "2", "B", date(2024, 1, 2), S.REGISTERED,
                           "", "b.com", "B")}
    merged = merge_decisions(store, crm)
    assert merged == {key_a: store[key_a], key_b: crm[key_b]}


def test_r2_3_to_program_reads_decisions_back_under_the_store() -> None:
    request = {C.registration_requested_by: "ACME", C.registration_requested_at: "2024-01-10"}
    company = record("companies", "5", {**request, **outputs("expiring_soon", to="ACME")})
    contact = record("contacts", "6", {**request, **outputs("bogus")})
    store = {(RecordKind.CONTACT, "9"): Decision(RecordKind.CONTACT, "9", "X", date(2024, 1, 1),
                                                 S.REJECTED, "invalid_domain", None)}
    program, problems = to_program([company, contact], C, TERMS, decisions=store)
    assert set(program.decisions) == {(RecordKind.COMPANY, "5"), (RecordKind.CONTACT, "9")}
    assert program.decisions[(RecordKind.COMPANY, "5")].outcome is S.REGISTERED
    assert [(p.record_kind, p.record_id, p.code) for p in problems] == [
        ("contact", "6", INVALID_REGISTRATION_STATUS)]
