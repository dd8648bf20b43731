"""Commission ledger (exact money, never a duplicated month), decisions, outputs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from policies.model import CommissionMonth, Decision, MonthState, RecordKind, RegistrationStatus
from sync.store import LedgerChange, LedgerTotal, OutputChange, Store


def _month(deal: str, i: int, amount: str = "20.00", member: str = "P1", sub: str = "s1",
           state: MonthState = MonthState.PAYABLE) -> CommissionMonth:
    return CommissionMonth(
        deal_id=deal, subscription_id=sub, member_code=member, month_index=i,
        month_start=date(2024, 1 + i, 1), mrr=Decimal("100.00"), amount=Decimal(amount),
        currency="EUR", due_date=date(2024, 5, 15), pay_date=date(2024, 5, 15), state=state,
    )


def test_decimal_round_trip_is_exact(store: Store) -> None:
    awkward = ["0.1", "0.10", "12345678901234.123456789", "-3.33", "0", "1E+2"]
    months = [_month("d1", i, a) for i, a in enumerate(awkward)]
    store.replace_ledger_for_deals(["d1"], months)
    back = store.ledger_for_deals(["d1"])
    assert [str(m.amount) for m in back] == [format(Decimal(a), "f") for a in awkward]
    assert back == months  # equal values; scale kept


def test_repeated_applies_never_duplicate_a_month(store: Store) -> None:
    months = [_month("d1", i) for i in range(3)] + [_month("d2", 0, member="P2", sub="s2")]
    assert store.replace_ledger_for_deals(["d1", "d2"], months) == LedgerChange(inserted=4)
    assert store.replace_ledger_for_deals(["d1", "d2"], months) == LedgerChange()
    assert store.replace_ledger_for_deals(["d1"], months[:3]) == LedgerChange()
    assert len(store.ledger_for_deals(["d1", "d2"])) == 4


def test_apply_updates_removes_and_leaves_other_deals(store: Store) -> None:
    store.replace_ledger_for_deals(["d1", "d2"], [_month("d1", 0), _month("d1", 1),
                                                  _month("d2", 0, sub="s2")])
    change = store.replace_ledger_for_deals(["d1"], [_month("d1", 0, "25.00"), _month("d1", 2)])
    assert change == LedgerChange(inserted=1, updated=1, deleted=1)
    assert [(m.deal_id, m.month_index, m.amount) for m in store.ledger_for_deals(["d1", "d2"])] \
        == [("d1", 0, Decimal("25.00")), ("d1", 2, Decimal("20.00")), ("d2", 0, Decimal("20.00"))]


def test_a_change_of_scale_is_written(store: Store) -> None:
    store.replace_ledger_for_deals(["d1"], [_month("d1", 0, "20.0")])
    assert store.replace_ledger_for_deals(["d1"], [_month("d1", 0, "20.00")]).updated == 1
    assert str(store.ledger_for_deals(["d1"])[0].amount) == "20.00"


def test_apply_refuses_repeated_keys_and_foreign_deals(store: Store) -> None:
    with pytest.raises(ValueError, match="repeated"):
        store.replace_ledger_for_deals(["d1"], [_month("d1", 0), _month("d1", 0, "1")])
    with pytest.raises(ValueError, match="not in the deals"):
        store.replace_ledger_for_deals(["d1"], [_month("d2", 0)])
    assert store.ledger_for_deals(["d1", "d2"]) == []


def test_r7_6_the_store_refuses_a_month_counted_for_two_deals(store: Store) -> None:
    store.replace_ledger_for_deals(["d1"], [_month("d1", 0)])
    with pytest.raises(IntegrityError):
        store.replace_ledger_for_deals(["d2"], [_month("d2", 0)])
    with pytest.raises(ValueError, match="counted twice"):
        store.replace_ledger_for_deals(["d3", "d4"], [_month("d3", 5), _month("d4", 5)])
    assert [m.deal_id for m in store.ledger_for_deals(["d1", "d2", "d3", "d4"])] == ["d1"]


def test_r7_6_a_month_moves_between_deals_replaced_together(store: Store) -> None:
    store.replace_ledger_for_deals(["d1", "d2"], [_month("d1", 0)])
    store.replace_ledger_for_deals(["d1", "d2"], [_month("d2", 0)])
    assert [m.deal_id for m in store.ledger_for_deals(["d1", "d2"])] == ["d2"]


def test_member_ledger_and_exact_totals(store: Store) -> None:
    store.replace_ledger_for_deals(["d1", "d2", "d3"], [
        _month("d1", 0, "0.10"), _month("d1", 1, "0.20"),
        _month("d2", 0, "0.10", sub="s2", state=MonthState.FORFEITED),
        _month("d3", 0, "7.77", member="P2", sub="s3"),
    ])
    assert [m.deal_id for m in store.ledger_for_member("P1")] == ["d1", "d1", "d2"]
    assert store.ledger_for_member("nobody") == []
    assert store.ledger_totals() == [
        LedgerTotal("P1", "EUR", "forfeited", 1, Decimal("0.10")),
        LedgerTotal("P1", "EUR", "payable", 2, Decimal("0.30")),
        LedgerTotal("P2", "EUR", "payable", 1, Decimal("7.77")),
    ]


def _decision(rid: str, by: str = "P1", outcome: RegistrationStatus = RegistrationStatus.REGISTERED,
              kind: RecordKind = RecordKind.COMPANY) -> Decision:
    return Decision(kind, rid, by, date(2024, 1, 10), outcome, "ok", "acme.com", by)


def test_decisions_save_load_and_upsert(store: Store) -> None:
    first = [_decision("1"), _decision("1", kind=RecordKind.CONTACT)]
    assert store.save_decisions(first) == 2
    assert store.load_decisions() == {(d.record_kind, d.record_id): d for d in first}
    changed = _decision("1", by="P9", outcome=RegistrationStatus.REJECTED)
    store.save_decisions([changed])
    loaded = store.load_decisions()
    assert len(loaded) == 2
    assert loaded[(RecordKind.COMPANY, "1")] == changed


def test_outputs_record_and_load(store: Store) -> None:
    store.record_outputs([
        OutputChange("deals", "1", "partner_deal_type", "registered"),
        OutputChange("deals", "1", "partner_attributed_to", "P1"),
        OutputChange("deals", "2", "partner_deal_type", None),
        OutputChange("companies", "1", "partner_tier", "gold"),
    ], run_id=None)
    assert store.load_outputs("deals") == {
        "1": {"partner_deal_type": "registered", "partner_attributed_to": "P1"},
        "2": {"partner_deal_type": None},
    }
    store.record_outputs([OutputChange("deals", "1", "partner_deal_type", "co_selling")], 7)
    assert store.load_outputs("deals", ["1", "404"]) == {
        "1": {"partner_deal_type": "co_selling", "partner_attributed_to": "P1"},
    }
