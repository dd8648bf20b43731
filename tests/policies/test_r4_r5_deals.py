"""R4 (shared-deal type) and R5 (attribution at close), with the bad deal inputs."""

from __future__ import annotations

from policies.model import Attribution, DealType, Plan

from .builders import (
    TERMS,
    company,
    d,
    deal,
    evaluate,
    partner,
    program,
    requesting_company,
)


def test_r4_1_shared_deal_registers_the_domain() -> None:
    prog = program(
        partner("A"),
        company("1", "acme.com"),
        deal("D", "1", "2024-05-01", shared_by="A", create_date=d("2024-03-01")),
    )
    result = evaluate(prog, "2024-06-01")
    out = result.deals["D"]
    assert (out.deal_type, out.attribution, out.attributed_to) == (
        DealType.REGISTERED,
        Attribution.REGISTERED,
        "A",
    )


def test_r4_2_member_already_holds_domain() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", shared_by="A", create_date=d("2024-03-01")),
    )
    assert evaluate(prog, "2024-06-01").deals["D"].deal_type is DealType.REGISTERED


def test_r4_3_direct_sales_means_co_selling() -> None:
    terms = TERMS.model_copy(
        update={"deals": TERMS.deals.model_copy(update={"direct_sales_owner_ids": ("77",)})}
    )
    prog = program(
        partner("A"),
        company("1", "acme.com", owner_id="77"),
        deal("D", "1", "2024-05-01", shared_by="A", create_date=d("2024-03-01")),
    )
    out = evaluate(prog, "2024-06-01", terms).deals["D"]
    assert (out.deal_type, out.attribution, out.attribution_reason) == (
        DealType.CO_SELLING,
        Attribution.UNATTRIBUTED,
        "co_selling",
    )


def test_r4_4_and_r5_2_partner_competition_pays_the_holder() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-05-01", shared_by="B", create_date=d("2024-03-01")),
    )
    out = evaluate(prog, "2024-06-01").deals["D"]
    assert (out.deal_type, out.attributed_to) == (DealType.PARTNER_COMPETITION, "A")


def test_r4_5_and_r5_4_cross_sell_on_existing_customer() -> None:
    prog = program(
        partner("A"),
        company("1", "acme.com", lifecycle_stage="customer"),
        deal(
            "D",
            "1",
            "2024-05-01",
            shared_by="A",
            create_date=d("2024-03-01"),
            cross_sell_confirmed=True,
        ),
        deal("E", "1", "2024-05-01", shared_by="A", create_date=d("2024-03-01")),
    )
    result = evaluate(prog, "2024-06-01")
    assert (result.deals["D"].deal_type, result.deals["D"].attribution) == (
        DealType.CROSS_SELL,
        Attribution.CROSS_SELL,
    )
    e = result.deals["E"]
    assert (e.deal_type, e.attribution_reason) == (DealType.UNATTRIBUTED, "existing_customer")


def test_r4_6_unattributed_with_reason() -> None:
    prog = program(
        partner("A", "2024-06-01"),
        company("1", "acme.com"),
        company("2", "co.uk"),
        deal("D", "1", shared_by="A", create_date=d("2024-03-01")),
        deal("E", "2", shared_by="A", create_date=d("2024-07-01")),
    )
    result = evaluate(prog, "2024-08-01")
    d_out, e_out = result.deals["D"], result.deals["E"]
    assert (d_out.deal_type, d_out.attribution_reason) == (DealType.UNATTRIBUTED, "not_a_member")
    assert (e_out.deal_type, e_out.attribution_reason) == (DealType.UNATTRIBUTED, "invalid_domain")


def test_r5_1_purchase_under_other_domain_qualifies_for_nobody() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        company("2", "acme-shop.com"),
        deal("D", "2", "2024-02-01"),
    )
    out = evaluate(prog, "2024-03-01").deals["D"]
    assert (out.attribution, out.attribution_reason) == (
        Attribution.UNATTRIBUTED,
        "no_registration",
    )


def test_r5_3_closed_before_registration_does_not_qualify() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-03-01"),
        deal("D", "1", "2024-02-01"),
        deal("E", "1", "2024-03-01"),
    )
    result = evaluate(prog, "2024-04-01")
    assert result.deals["D"].attribution is Attribution.UNATTRIBUTED
    assert result.deals["E"].attribution is Attribution.REGISTERED  # decided the same day


def test_r5_5_override_needs_a_reason() -> None:
    prog = program(
        partner("A"),
        partner("B"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-02-01", override_code="B", override_reason="best partner"),
        deal("E", "1", "2024-02-01", override_code="B", override_reason="  "),
    )
    result = evaluate(prog, "2024-03-01")
    assert (result.deals["D"].attribution, result.deals["D"].attributed_to) == (
        Attribution.OVERRIDE,
        "B",
    )
    assert result.deals["E"].attributed_to == "A"
    assert any(p.code == "override_without_reason" and p.record_id == "E" for p in result.problems)


def test_r5_6_most_specific_unattributed_reasons() -> None:
    prog = program(
        partner("A"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("expired", "1", "2024-08-01"),
        requesting_company("2", "beta.com", "A", "2024-01-01", dereg="2024-02-01"),
        deal("dereg", "2", "2024-03-01"),
        company("3", "gamma.com", website="gamma-shop.com"),
        requesting_company("4", "gamma-shop.com", "A", "2024-01-01"),
        deal("mismatch", "3", "2024-03-01", shared_by="A"),
        deal("nocompany", None, "2024-03-01"),
        deal("open", "1"),
    )
    result = evaluate(prog, "2024-09-01")
    reasons = {k: v.attribution_reason for k, v in result.deals.items()}
    assert reasons == {
        "expired": "registration_expired",
        "dereg": "registration_deregistered",
        "mismatch": "domain_mismatch",
        "nocompany": "deal_without_company",
        "open": "not_closed",
    }
    assert all(v.plan is Plan.NONE for v in result.deals.values())


def test_r5_1_member_that_left_does_not_qualify() -> None:
    from policies.model import ExitKind

    prog = program(
        partner("A", exit=ExitKind.LEFT, exit_at=d("2024-02-01")),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        deal("D", "1", "2024-03-01"),
    )
    out = evaluate(prog, "2024-04-01").deals["D"]
    assert (out.attribution, out.attribution_reason) == (Attribution.UNATTRIBUTED, "not_a_member")
