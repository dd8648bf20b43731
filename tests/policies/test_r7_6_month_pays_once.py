"""R7.6 "A month pays once": a subscription on several qualifying deals counts for one of them."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from .builders import deal, evaluate, partner, program, requesting_company, subscription


def _two_deals(*, with_early: bool = True) -> tuple[object, ...]:
    parts: list[object] = [
        partner("A", "2023-06-01"),
        partner("B", "2023-06-01"),
        requesting_company("1", "acme.com", "A", "2024-01-01"),
        requesting_company("2", "beta.com", "B", "2024-01-01"),
        # deal 10 (lower id) closes later than deal 20: the earliest close owns the months
        deal("10", "1", "2024-04-01", subs=("s",)),
        subscription("s", "2024-02-01", "100"),
    ]
    if with_early:
        parts.append(deal("20", "2", "2024-02-01", subs=("s",)))
    return tuple(parts)


def test_r7_6_the_earliest_closed_deal_counts_the_subscription() -> None:
    result = evaluate(program(*_two_deals()), "2024-06-15")

    assert {m.deal_id for m in result.ledger} == {"20"}
    assert result.deals["20"].earned == Decimal("100.00")
    assert result.deals["10"].earned == Decimal("0")
    assert ("subscription", "s", "subscription_counted_elsewhere") in {
        (p.record_kind, p.record_id, p.code) for p in result.problems}


def test_r7_6_a_later_close_never_takes_months_already_counted() -> None:
    before = evaluate(program(*_two_deals()), "2024-03-15")
    after = evaluate(program(*_two_deals()), "2024-06-15")

    early = {(m.subscription_id, m.month_index): m.deal_id for m in before.ledger}
    late = {(m.subscription_id, m.month_index): m.deal_id for m in after.ledger}
    assert all(late[k] == v for k, v in early.items())


def test_r7_6_months_move_to_the_next_deal_when_the_owner_is_gone() -> None:
    result = evaluate(program(*_two_deals(with_early=False)), "2024-06-15")

    assert {m.deal_id for m in result.ledger} == {"10"}
    assert result.deals["10"].earned == Decimal("60.00")


def test_r7_6_every_month_is_counted_once() -> None:
    result = evaluate(program(*_two_deals()), "2025-06-15")

    counts = Counter((m.subscription_id, m.month_index) for m in result.ledger)
    assert set(counts.values()) == {1}
