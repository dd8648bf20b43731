"""End to end against the sandbox: POLICY.md's worked examples written onto the records."""

from __future__ import annotations

from datetime import date

from mappers import Patch
from sandbox.server import RunningSandbox
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value


def test_r2_10_registration_then_expiring_soon_by_reevaluation_without_reads(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    engine = make_engine(seed.dataset())

    first = engine.full_sync(as_of=date(2024, 6, 1))

    assert first.status == "ok"
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "registered"
    assert value(sandbox.state, "companies", prospect, C.registration_expires_at) == "2024-07-08"
    assert value(sandbox.state, "companies", prospect, C.registered_to) == "P1"

    later = engine.reevaluate(as_of=date(2024, 6, 24))

    assert later.read_calls == 0
    assert later.patches == [
        Patch("companies", prospect, {C.registration_status: "expiring_soon"})
    ]
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "expiring_soon"


def test_r7_5_provider_commission_over_an_upgrade(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("V1", "provider", date(2018, 6, 1), "v1.example.com",
                **{C.paperwork_completed_at: "2019-02-01", C.hubspot_plan: "starter"})
    shop = seed.prospect("shop.com", by="V1", at=date(2019, 1, 1))
    deal = seed.deal(shop, closed=date(2019, 1, 15), created=date(2019, 1, 10))
    seed.subscription(deal, "50", date(2019, 1, 15), end=date(2019, 7, 15), status="expired")
    seed.subscription(deal, "400", date(2019, 7, 15))
    engine = make_engine(seed.dataset())

    report = engine.full_sync(as_of=date(2020, 6, 1))

    assert report.status == "ok"
    assert value(sandbox.state, "deals", deal, C.commission_plan) == "provider_12"
    assert value(sandbox.state, "deals", deal, C.commission_end) == "2020-01-15"
    assert value(sandbox.state, "deals", deal, C.commission_earned) == "540.00"
    assert value(sandbox.state, "deals", deal, C.attributed_to) == "V1"


def test_r8_4_held_months_paid_with_the_next_quarter(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("Q1", "partner", date(2024, 1, 1), "q1.example.com",
                **{C.paperwork_completed_at: "2024-05-20"})
    prospect = seed.prospect("r84.com", by="Q1", at=date(2024, 1, 15))
    deal = seed.deal(prospect, closed=date(2024, 2, 10), created=date(2024, 2, 1))
    seed.subscription(deal, "100", date(2024, 2, 10))
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 7, 1))

    assert value(sandbox.state, "deals", deal, C.deal_next_payout_date) == "2024-08-14"
    assert value(sandbox.state, "deals", deal, C.deal_next_payout_amount) == "100.00"
    ledger = engine.store.ledger_for_deals([deal])
    assert {m.pay_date for m in ledger if m.month_start <= date(2024, 6, 10)} == {
        date(2024, 8, 14)
    }


def test_r9_3_downgrade_shortens_running_partner_36_windows(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("D1", "partner", date(2023, 3, 1), "d1.example.com",
                **{C.program_exit: "downgraded_to_provider",
                   C.program_exit_at: "2025-04-14", C.paperwork_completed_at: "2023-04-01"})
    a = seed.prospect("deal-a.com", by="D1", at=date(2023, 5, 1))
    b = seed.prospect("deal-b.com", by="D1", at=date(2024, 8, 1))
    deal_a = seed.deal(a, closed=date(2023, 6, 1), created=date(2023, 5, 20))
    deal_b = seed.deal(b, closed=date(2024, 9, 1), created=date(2024, 8, 20))
    seed.subscription(deal_a, "100", date(2023, 6, 1))
    seed.subscription(deal_b, "100", date(2024, 9, 1))
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2025, 5, 1))

    assert value(sandbox.state, "deals", deal_a, C.commission_plan) == "partner_36"
    assert value(sandbox.state, "deals", deal_a, C.commission_end) == "2025-04-14"
    assert value(sandbox.state, "deals", deal_b, C.commission_end) == "2025-09-01"
