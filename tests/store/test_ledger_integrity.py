"""A record leaving the mirror takes its dependent rows with it; migration 0002 (R7.6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from alembic import command
from sqlalchemy import create_engine, text

from policies.model import CommissionMonth, Decision, MonthState, RecordKind, RegistrationStatus
from sync.store import MirrorRecord, Store
from sync.store.database import _alembic_config


def _month(deal: str, i: int, sub: str = "s1") -> CommissionMonth:
    return CommissionMonth(
        deal_id=deal, subscription_id=sub, member_code="P1", month_index=i,
        month_start=date(2024, 1 + i, 1), mrr=Decimal("100"), amount=Decimal("20.00"),
        currency="EUR", due_date=date(2024, 5, 15), pay_date=None,
        state=MonthState.AWAITING_PAPERWORK,
    )


def _decision(record_id: str) -> Decision:
    return Decision(RecordKind.COMPANY, record_id, "P1", date(2024, 1, 10),
                    RegistrationStatus.REGISTERED, "", "acme.com", "P1")


def test_a_deal_leaving_the_mirror_takes_its_ledger_rows(store: Store) -> None:
    store.upsert_records([MirrorRecord("deals", "d1", {}), MirrorRecord("deals", "d2", {})])
    store.replace_ledger_for_deals(["d1", "d2"], [_month("d1", 0), _month("d2", 0, "s2")])

    assert store.delete_records("deals", ["d1"]) == 1

    assert store.ledger_deal_ids() == {"d2"}


def test_a_company_leaving_the_mirror_takes_its_decision(store: Store) -> None:
    store.upsert_records([MirrorRecord("companies", "c1", {}), MirrorRecord("companies", "c2", {})])
    store.save_decisions([_decision("c1"), _decision("c2")])

    store.delete_records("companies", ["c1"])

    assert set(store.load_decisions()) == {(RecordKind.COMPANY, "c2")}


def test_migration_0003_drops_months_counted_twice_and_orphan_rows(store_url: str) -> None:
    engine = create_engine(store_url)
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            row = ("'{d}', '{s}', {i}, 'P1', '2024-01-01', '100', '20.00', 'EUR', "
                   "'2024-05-15', NULL, 'payable', '2024-03-01 00:00:00'")
            for d, s, i in [("d1", "s1", 0), ("d2", "s1", 0), ("d1", "s1", 1), ("d9", "s9", 0)]:
                conn.execute(text(f"INSERT INTO ledger VALUES ({row.format(d=d, s=s, i=i)})"))
            for d in ("d1", "d2"):
                conn.execute(text(
                    "INSERT INTO mirror VALUES ('deals', :d, '{}', '{}', '{}', false, NULL, "
                    "'2024-03-01 00:00:00')"), {"d": d})
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            left = conn.execute(text(
                "SELECT deal_id, subscription_id, month_index FROM ledger")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in left] == [("d1", "s1", 1)]
