"""``init`` evolves the contract: one read per object type, batch creates, missing options
added (never removed); an initialised portal costs one read per type and no write."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from sandbox.dataset import Dataset
from sandbox.server import RunningSandbox
from sync.engine import SyncEngine
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, contract_properties, value

runner = CliRunner()
READ = "GET /crm/v3/properties/{type}"
BATCH_CREATE = "POST /crm/v3/properties/{type}/batch/create"
CREATE_ONE = "POST /crm/v3/properties/{type}"
CREATE_GROUP = "POST /crm/v3/properties/{type}/groups"
PATCH = "PATCH /crm/v3/properties/{type}/{name}"


def _calls(engine: SyncEngine) -> dict[str, int]:
    endpoints = engine.gateway.metrics.snapshot()["endpoints"]
    return {label: int(stats["calls"]) for label, stats in endpoints.items() if stats["calls"]}


def _older_portal() -> Dataset:
    """A portal initialised before ``pending`` existed, with a request dated in the future."""
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    seed.prospect("acme.com", by="P1", at=date(2024, 3, 10))
    old = [replace(p, options=tuple(o for o in p.options if o != "pending"))
           if p.name == C.registration_status else p for p in contract_properties()]
    return Dataset(properties=old, records=list(seed.records), associations=list(seed.links))


def test_init_on_a_new_portal_reads_once_and_batch_creates(make_engine: EngineFactory) -> None:
    engine = make_engine()

    report = engine.init_portal()

    assert len(report.properties_created) == len(C.property_specs())
    assert _calls(engine) == {READ: 3, CREATE_GROUP: 3, BATCH_CREATE: 3}


def test_init_on_an_initialised_portal_reads_once_per_type_and_writes_nothing(
    make_engine: EngineFactory
) -> None:
    engine = make_engine()
    engine.init_portal()
    before = _calls(engine)

    report = engine.init_portal()

    after = _calls(engine)
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        READ: 3}
    assert not report.created_anything
    assert report.properties_existing == len(C.property_specs())


def test_init_adds_pending_to_an_older_portal_and_keeps_every_option(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    engine = make_engine(_older_portal())
    sandbox.state.types["companies"].props[C.registration_status].options.append("legacy")

    report = engine.init_portal()

    assert report.options_added == [f"companies/{C.registration_status}:pending",
                                    f"contacts/{C.registration_status}:pending"]
    assert _calls(engine) == {READ: 3, PATCH: 2}
    options = sandbox.state.types["companies"].props[C.registration_status].options
    assert {"pending", "legacy", "rejected"} <= set(options)


def _env(sandbox: RunningSandbox, tmp_path: Path) -> dict[str, str | None]:
    return {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
        "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox.url,
        "PARTNER_SYNC_HUBSPOT__SEARCH_PER_S": "50",
        "PARTNER_SYNC_STORE__URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PARTNER_SYNC_CONFIG_FILE": None,
    }


def test_sync_says_to_run_init_when_an_option_is_missing(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    sandbox.state.bulk_load(_older_portal())
    prospect = next(str(i) for i, r in sandbox.state.types["companies"].records.items()
                    if sandbox.state.types["companies"].raw(r, C.registration_requested_at))
    env = _env(sandbox, tmp_path)

    failed = runner.invoke(app, ["sync", "--full", "--as-of", "2024-03-01"], env=env)
    init = runner.invoke(app, ["init"], env=env)
    fixed = runner.invoke(app, ["sync", "--full", "--as-of", "2024-03-01"], env=env)

    assert failed.exit_code == 1
    assert "partner-sync init" in failed.stderr
    assert init.exit_code == 0, init.output
    assert "pending" in init.stdout
    assert fixed.exit_code == 0, fixed.output
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "pending"


def test_doctor_sends_an_older_portal_to_init(sandbox: RunningSandbox, tmp_path: Path) -> None:
    sandbox.state.bulk_load(_older_portal())

    result = runner.invoke(app, ["doctor", "--json"], env=_env(sandbox, tmp_path))

    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    props = checks["contract properties"]
    assert "lacks option(s) pending" in props["detail"]
    assert "partner-sync init" in props["fix"]
    assert "property types" not in checks
