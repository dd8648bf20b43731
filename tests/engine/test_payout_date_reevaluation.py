"""Advancing ``as_of`` past a payout date (POLICY R8.3, the R8.4 example) changes exactly the
payout outputs of that deal and its member, with no HubSpot read."""

from __future__ import annotations

from datetime import date

from sandbox.server import RunningSandbox
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value


def test_past_a_payout_date_only_paid_and_next_payout_change_without_reads(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    member = seed.member("Q1", "partner", date(2024, 1, 1), "q1.example.com",
                         **{C.paperwork_completed_at: "2024-05-20"})
    prospect = seed.prospect("r84.com", by="Q1", at=date(2024, 1, 15))
    deal = seed.deal(prospect, closed=date(2024, 2, 10), created=date(2024, 2, 1))
    seed.subscription(deal, "100", date(2024, 2, 10))
    engine = make_engine(seed.dataset())
    # Aug 11: months Feb 10 .. Aug 10 received (7 x 20.00); Feb..Jun due 2024-08-14 (R8.4).
    engine.full_sync(as_of=date(2024, 8, 11))
    assert value(sandbox.state, "deals", deal, C.commission_earned) == "140.00"
    assert value(sandbox.state, "deals", deal, C.deal_next_payout_date) == "2024-08-14"
    assert value(sandbox.state, "deals", deal, C.deal_next_payout_amount) == "100.00"

    # Aug 14: the held Q1 months and Q2 are paid; Jul 10 and Aug 10 (Q3) are due Nov 14.
    # No month is received between Aug 11 and Aug 14, so nothing else may change.
    report = engine.reevaluate(as_of=date(2024, 8, 14))

    assert report.read_calls == 0
    changed = {(p.object_type, p.object_id): dict(p.properties) for p in report.patches}
    assert changed == {
        ("deals", deal): {C.commission_paid: "100.00", C.deal_next_payout_date: "2024-11-14",
                          C.deal_next_payout_amount: "40.00"},
        ("companies", member): {C.member_next_payout_date: "2024-11-14",
                                C.member_next_payout_amount: "40.00"},
    }
    assert value(sandbox.state, "deals", deal, C.commission_paid) == "100.00"
    assert value(sandbox.state, "companies", member, C.member_next_payout_date) == "2024-11-14"
