"""Bad input (DESIGN.md "Bad input"): the five named cases in one program.

Each yields a code tied to the affected record (an output reason, a data problem naming the
record, or both) and the evaluation of everything else goes on; nothing raises.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from policies.model import (
    Attribution,
    ProgramResult,
    RecordKind,
    RegistrationStatus,
    Subscription,
)

from .builders import deal, evaluate, partner, program, reg, requesting_company, subscription


def _problems(result: ProgramResult) -> set[tuple[str, str, str]]:
    return {(p.record_kind, p.record_id, p.code) for p in result.problems}


def test_r1_r2_r5_r7_each_bad_record_gets_its_code_and_the_rest_is_evaluated() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        requesting_company("2", "beta.com", "NOPE", "2024-01-02"),  # unknown partner code
        requesting_company("3", "http://exa mple..com/", "A", "2024-01-03"),  # unparseable
        requesting_company("4", "gamma.com", "A", "2024-01-04"),
        deal("no-company", None, "2024-02-01", shared_by="A"),
        deal("no-start", "1", "2024-02-01", subs=("s-none", "s-ok")),
        deal("no-reason", "4", "2024-02-01", override_code="A", override_reason="  "),
        Subscription("s-none", "active", None),  # no billing start date
        subscription("s-ok", "2024-02-01", "100"),
    )
    result = evaluate(prog, "2024-03-01")
    problems = _problems(result)

    # R2.2.1: a request naming an unknown partner code is rejected, and reported.
    unknown = reg(result, RecordKind.COMPANY, "2")
    assert (unknown.status, unknown.reason) == (RegistrationStatus.REJECTED, "not_a_member")
    assert ("company", "2", "unknown_partner_code") in problems
    # R1.2 / R2.2.2: an unparseable domain is rejected as invalid.
    bad_domain = reg(result, RecordKind.COMPANY, "3")
    assert (bad_domain.status, bad_domain.reason) == (
        RegistrationStatus.REJECTED, "invalid_domain")
    # R5: a deal without a company has no purchase domain.
    lonely = result.deals["no-company"]
    assert (lonely.attribution, lonely.attribution_reason) == (
        Attribution.UNATTRIBUTED, "deal_without_company")
    # R7.1: a subscription without a start date is reported and skipped; the deal's other
    # subscription still earns (months 2024-02-01 and 2024-03-01, each 100 x 20%).
    assert ("subscription", "s-none", "subscription_without_start") in problems
    assert result.deals["no-start"].attribution is Attribution.REGISTERED
    assert result.deals["no-start"].earned == Decimal("40.00")
    # R5.5: an override without a reason is ignored (the registration decides) and reported.
    ignored = result.deals["no-reason"]
    assert (ignored.attribution, ignored.attributed_to) == (Attribution.REGISTERED, "A")
    assert ("deal", "no-reason", "override_without_reason") in problems
    # The good request is unaffected by its neighbours.
    assert reg(result, RecordKind.COMPANY, "1").registered_to == "A"


def test_r5_5_an_override_without_reason_is_named_on_an_otherwise_unattributed_deal() -> None:
    prog = program(
        partner("A"),
        requesting_company("4", "gamma.com", "A", "2024-01-04"),
        requesting_company("5", "delta.com", "NOPE", "2024-01-04"),  # nobody holds delta.com
        deal("no-reason", "5", "2024-02-01", override_code="A", override_reason=""),
        deal("with-reason", "5", "2024-02-01", override_code="A", override_reason="best partner"),
    )
    result = evaluate(prog, "2024-03-01")
    ignored = result.deals["no-reason"]
    assert (ignored.attribution, ignored.attribution_reason, ignored.attributed_to) == (
        Attribution.UNATTRIBUTED, "override_without_reason", None)
    honoured = result.deals["with-reason"]
    assert (honoured.attribution, honoured.attributed_to) == (Attribution.OVERRIDE, "A")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "1e15", "1e30"])
def test_r7_3_an_unusable_mrr_is_reported_not_raised(amount: str) -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-02-01", subs=("bad", "ok")),
        subscription("bad", "2024-02-01", amount),
        subscription("ok", "2024-02-01", "999999999999999.99"),  # just below the bound
    )
    result = evaluate(prog, "2024-02-01")
    assert ("subscription", "bad", "subscription_without_mrr") in _problems(result)
    assert result.deals["D"].earned == Decimal("200000000000000.00")
