"""POLICY.md §0 "Nothing is decided before its date", through the engine, store and sandbox."""

from __future__ import annotations

from datetime import date

from policies.model import Decision, RecordKind, RegistrationStatus
from sandbox.server import RunningSandbox
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value


def _request_program() -> tuple[Seed, str]:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 3, 10))
    return seed, prospect


def test_s0_future_request_is_pending_and_leaves_no_decision(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, prospect = _request_program()
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 3, 1))

    assert value(sandbox.state, "companies", prospect, C.registration_status) == "pending"
    assert value(sandbox.state, "companies", prospect, C.registration_reason) == (
        "requested_in_future")
    assert (RecordKind.COMPANY, prospect) not in engine.store.load_decisions()


def test_s0_future_request_is_decided_when_its_date_arrives(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, prospect = _request_program()
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 3, 1))
    engine.full_sync(as_of=date(2024, 3, 20))

    assert value(sandbox.state, "companies", prospect, C.registration_status) == "registered"
    stored = engine.store.load_decisions()[(RecordKind.COMPANY, prospect)]
    assert stored.requested_at == date(2024, 3, 10)


def test_s0_future_close_is_not_closed_then_attributed_at_its_date(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    deal = seed.deal(prospect, date(2024, 5, 1), date(2024, 2, 1))
    seed.subscription(deal, "100", date(2024, 5, 1))
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 4, 1))
    assert value(sandbox.state, "deals", deal, C.attribution_reason) == "not_closed"
    engine.full_sync(as_of=date(2024, 7, 2))

    assert value(sandbox.state, "deals", deal, C.attribution) == "registered"
    assert value(sandbox.state, "deals", deal, C.commission_earned) == "60.00"


def test_s0_future_request_and_close_on_one_day_attribute_when_the_day_arrives(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 5, 1))
    deal = seed.deal(prospect, date(2024, 5, 1), date(2024, 2, 1))
    seed.subscription(deal, "100", date(2024, 5, 1))
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 4, 1))
    engine.full_sync(as_of=date(2024, 7, 2))

    assert value(sandbox.state, "deals", deal, C.attribution) == "registered"
    assert value(sandbox.state, "deals", deal, C.commission_earned) == "60.00"
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "converted"


def test_s0_legacy_requested_in_future_on_the_record_is_not_sticky(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 3, 10), **{
        C.registration_status: "rejected", C.registration_reason: "requested_in_future"})
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 3, 20))

    assert value(sandbox.state, "companies", prospect, C.registration_status) == "registered"
    stored = engine.store.load_decisions()[(RecordKind.COMPANY, prospect)]
    assert stored.outcome.value == "registered"


def test_s0_legacy_requested_in_future_in_the_store_is_not_sticky(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, prospect = _request_program()
    engine = make_engine(seed.dataset())
    engine.store.save_decisions([Decision(
        RecordKind.COMPANY, prospect, "P1", date(2024, 3, 10), RegistrationStatus.REJECTED,
        "requested_in_future", "acme.com")])

    engine.full_sync(as_of=date(2024, 3, 20))

    assert value(sandbox.state, "companies", prospect, C.registration_status) == "registered"


def test_s0_dry_run_at_a_past_date_ignores_decisions_on_later_facts(
    make_engine: EngineFactory
) -> None:
    seed, prospect = _request_program()
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2024, 3, 20))

    report = engine.full_sync(as_of=date(2024, 3, 1), dry_run=True)

    planned = {(p.object_type, p.object_id): p.properties for p in report.patches}
    assert planned[("companies", prospect)][C.registration_status] == "pending"
