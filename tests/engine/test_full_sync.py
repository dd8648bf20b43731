"""Full sync behaviour against the sandbox: idempotence, dry run, partial failures, bad input,
auth failures, reconcile, init."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from sandbox.generator import generate
from sandbox.server import RunningSandbox
from sync.engine import SyncEngine, SyncError
from sync.gateway import BatchResult, Gateway, token_fingerprint
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value

AS_OF = date(2024, 6, 1)


def _program() -> tuple[Seed, str, str]:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    first = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    second = seed.prospect("beta.com", by="P1", at=date(2024, 2, 1))
    return seed, first, second


def test_second_full_sync_writes_nothing(make_engine: EngineFactory) -> None:
    seed, _, _ = _program()
    engine = make_engine(seed.dataset())

    first = engine.full_sync(as_of=AS_OF)
    second = engine.full_sync(as_of=AS_OF)

    assert first.write_calls >= 1
    assert first.written["companies"] == 3
    assert second.patches == []
    assert second.write_calls == 0
    assert second.status == "ok"


def test_dry_run_reports_patches_and_writes_nothing(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, _ = _program()
    engine = make_engine(seed.dataset())

    report = engine.full_sync(as_of=AS_OF, dry_run=True)

    assert report.dry_run
    assert ("companies", first) in {(p.object_type, p.object_id) for p in report.patches}
    assert report.write_calls == 0
    assert value(sandbox.state, "companies", first, C.registration_status) is None
    assert engine.store.count_records("companies") == 0  # the mirror is untouched
    assert engine.store.load_decisions() == {}
    run = engine.store.get_run(report.run_id)
    assert run is not None
    assert run.status == "ok"


def test_reevaluate_past_expiry_changes_only_that_output_without_reads(
    make_engine: EngineFactory,
) -> None:
    seed, first, _ = _program()
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=AS_OF)

    report = engine.reevaluate(as_of=date(2024, 7, 8))

    assert report.read_calls == 0
    changed = {(p.object_type, p.object_id): dict(p.properties) for p in report.patches}
    member = engine.store.get_records("companies", ["1001"])["1001"]
    assert member.properties[C.code] == "P1"
    # the expiry, and the capacity it frees on the member (R2.5, R3): nothing else
    assert changed == {
        ("companies", first): {C.registration_status: "expired"},
        ("companies", "1001"): {C.capacity_used: "1"},
    }


class _LosingGateway(Gateway):
    """Archives one record in the sandbox right before the first batch update reaches it."""

    sandbox: RunningSandbox
    victim: str | None = None

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        if self.victim is not None:
            state = self.sandbox.state
            state.types[object_type].records[int(self.victim)].archived_ms = state.now_ms()
        return super().batch_update(object_type, inputs)


def test_record_archived_before_its_write_leaves_the_mirror_and_comes_back(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, second = _program()
    base = make_engine(seed.dataset())
    gateway = _LosingGateway(base.settings.hubspot)
    gateway.sandbox, gateway.victim = sandbox, second
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)

    try:
        report = engine.full_sync(as_of=AS_OF)

        # archived after it was read: HubSpot answers "not found", the record leaves the mirror
        assert report.status == "ok"
        assert report.write_failures == []
        assert second not in engine.store.record_keys("companies")
        assert value(sandbox.state, "companies", first, C.registration_status) == "registered"
        assert (second, "record_gone") in {(p.record_id, p.code) for p in report.problems}

        gateway.victim = None
        sandbox.state.types["companies"].records[int(second)].archived_ms = None
        retry = engine.full_sync(as_of=AS_OF)

        assert retry.status == "ok"
        assert [(p.object_type, p.object_id) for p in retry.patches] == [("companies", second)]
        assert value(sandbox.state, "companies", second, C.registration_status) == "registered"
    finally:
        gateway.close()


def test_unusable_record_gets_its_reason_and_the_sync_goes_on(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, _ = _program()
    free = seed.prospect("gmail.com", by="P1", at=date(2024, 1, 11))
    bad = seed.add("companies", domain="bad.com",
                   **{C.registration_requested_by: "P1",
                      C.registration_requested_at: "not a date"})
    engine = make_engine(seed.dataset())

    report = engine.full_sync(as_of=AS_OF)

    assert report.status == "ok"
    codes = {(p.record_id, p.code) for p in report.problems}
    assert (bad, "invalid_date") in codes
    assert value(sandbox.state, "companies", free, C.registration_reason) == "free_email_domain"
    assert value(sandbox.state, "companies", bad, C.registration_reason)  # a reason code
    assert value(sandbox.state, "companies", first, C.registration_status) == "registered"
    run = engine.store.get_run(report.run_id)
    assert run is not None
    assert (bad, "invalid_date") in {
        (p.record_id, p.code) for p in run.problems
    }


def test_cleared_request_gets_its_outputs_cleared(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed, first, _ = _program()
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=AS_OF)
    state = sandbox.state
    companies = state.types["companies"]
    record = companies.records[int(first)]
    state.update(companies, record, {C.registration_requested_by: "",
                                     C.registration_requested_at: ""})

    report = engine.full_sync(as_of=AS_OF)

    assert report.status == "ok"
    assert value(state, "companies", first, C.registration_status) in (None, "")
    assert value(state, "companies", first, C.registered_to) in (None, "")


def test_wrong_token_stops_with_its_fingerprint(
    make_engine: EngineFactory,
) -> None:
    seed, _, _ = _program()
    engine = make_engine(seed.dataset(), token="not-the-token")

    with pytest.raises(SyncError) as caught:
        engine.full_sync(as_of=AS_OF)

    assert caught.value.kind == "auth"
    assert token_fingerprint("not-the-token") in str(caught.value)
    assert "not-the-token" not in str(caught.value)
    runs = engine.store.list_runs()
    assert runs[0].status == "failed"


def test_init_twice_creates_nothing_the_second_time(make_engine: EngineFactory) -> None:
    engine = make_engine()

    first = engine.init_portal()
    second = engine.init_portal()

    assert len(first.properties_created) == len(engine.contract.property_specs())
    assert first.groups_created
    assert not second.created_anything
    assert second.properties_existing == len(engine.contract.property_specs())


@pytest.mark.slow
def test_generated_profile_s_syncs_then_settles(make_engine: EngineFactory) -> None:
    engine = make_engine(generate("S", 3))

    first = engine.full_sync(as_of=date(2026, 11, 1))
    second = engine.full_sync(as_of=date(2026, 11, 1))

    assert first.status == "ok"
    assert first.records_read["deals"] == 1000
    assert sum(first.written.values()) > 100
    assert second.write_calls == 0
    assert second.patches == []
    assert first.decided["members"] == 20
