"""A number too large to be money (a typo'd 31-digit MRR) is a data problem of its record, not
the end of the run: before the mappers bounded numbers, rounding it to cents raised and failed
every sync of the portal."""

from __future__ import annotations

from datetime import date

from sandbox.server import RunningSandbox
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value


def test_absurd_mrr_is_reported_and_the_sync_goes_on(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("Q1", "partner", date(2023, 1, 1), "q1.example.com",
                **{C.paperwork_completed_at: "2023-05-20"})
    prospect = seed.prospect("huge.com", by="Q1", at=date(2024, 1, 15))
    deal = seed.deal(prospect, closed=date(2024, 2, 10), created=date(2024, 2, 1))
    bad = seed.subscription(deal, "1" + "0" * 30, date(2024, 2, 10))
    engine = make_engine(seed.dataset())

    report = engine.full_sync(as_of=date(2024, 7, 1))

    assert report.status == "ok"
    assert (bad, "invalid_number") in {(p.record_id, p.code) for p in report.problems}
    assert value(sandbox.state, "deals", deal, C.attributed_to) == "Q1"
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "converted"
    run = engine.store.get_run(report.run_id)
    assert run is not None
    assert (bad, "invalid_number") in {(p.record_id, p.code) for p in run.problems}
