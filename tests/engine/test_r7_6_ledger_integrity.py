"""R7.6 "A month pays once" and ledger integrity, through the engine, store and sandbox."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sandbox.server import RunningSandbox
from sync.engine import SyncEngine
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value


def _shared_subscription() -> tuple[Seed, str, str, str]:
    """One member, two closed deals on its registered domain sharing one subscription."""
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    first = seed.deal(prospect, date(2024, 2, 1), date(2024, 1, 20))
    second = seed.deal(prospect, date(2024, 2, 1), date(2024, 1, 21))
    sub = seed.subscription(first, "100", date(2024, 2, 1))
    seed.links.append(type(seed.links[-1])("deals", second, "subscriptions", sub))
    return seed, first, second, sub


def _ledger_total(engine: SyncEngine) -> Decimal:
    return sum((t.amount for t in engine.store.ledger_totals()), Decimal(0))


def _archive(sandbox: RunningSandbox, object_type: str, object_id: str) -> None:
    store = sandbox.state.types[object_type]
    sandbox.state.archive(store, store.records[int(object_id)])


def test_r7_6_archiving_the_counting_deal_moves_its_months_once(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, second, _ = _shared_subscription()
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2024, 6, 15))
    assert _ledger_total(engine) == Decimal("100.00")  # 5 months x 20.00, counted once

    _archive(sandbox, "deals", first)
    engine.full_sync(as_of=date(2024, 6, 15))

    assert {m.deal_id for m in engine.store.ledger_for_deals([first, second])} == {second}
    assert _ledger_total(engine) == Decimal("100.00")
    assert value(sandbox.state, "deals", second, C.commission_earned) == "100.00"


def test_r7_6_a_write_answered_not_found_drops_the_record(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, _, _ = _shared_subscription()
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2024, 6, 15))
    _archive(sandbox, "deals", first)  # after the read: the mirror still holds it

    gone = engine.reevaluate(as_of=date(2024, 7, 15))
    after = engine.reevaluate(as_of=date(2024, 8, 15))

    assert gone.status == "ok"
    assert ("deal", first, "record_gone") in {
        (p.record_kind, p.record_id, p.code) for p in gone.problems}
    assert first not in engine.store.record_keys("deals")
    assert engine.store.ledger_for_deals([first]) == []
    assert after.status == "ok"
    assert after.write_failures == []
    assert _ledger_total(engine) == Decimal("140.00")  # Feb..Aug on the remaining deal


def test_a_not_found_write_in_a_mixed_batch_drops_only_that_record(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospects = [seed.prospect(d, by="P1", at=date(2024, 1, 10)) for d in ("a.com", "b.com")]
    deals = [seed.deal(p, date(2024, 2, 1), date(2024, 1, 20)) for p in prospects]
    for deal in deals:
        seed.subscription(deal, "100", date(2024, 2, 1))
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2024, 6, 15))
    _archive(sandbox, "deals", deals[0])

    report = engine.reevaluate(as_of=date(2024, 7, 15))

    assert report.status == "ok", report.write_failures
    assert [(p.record_id, p.code) for p in report.problems if p.code == "record_gone"] == [
        (deals[0], "record_gone")]
    assert value(sandbox.state, "deals", deals[1], C.commission_earned) == "120.00"
    assert engine.store.ledger_deal_ids() == {deals[1]}
