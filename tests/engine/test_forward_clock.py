"""DESIGN.md "Time only moves forward": a writing run never takes the store's clock back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from sandbox.server import RunningSandbox
from sync.engine import ClockWentBack
from sync.store import Store
from tests.engine.conftest import EngineFactory
from tests.engine.seed import C, Seed, value

runner = CliRunner()


def _env(sandbox: RunningSandbox, db: Path) -> dict[str, str | None]:
    return {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
        "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox.url,
        "PARTNER_SYNC_HUBSPOT__SEARCH_PER_S": "50",
        "PARTNER_SYNC_STORE__URL": f"sqlite:///{db}",
        "PARTNER_SYNC_CONFIG_FILE": None,
    }


def _seeded(sandbox: RunningSandbox) -> tuple[str, str]:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    early = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    late = seed.prospect("beta.com", by="P1", at=date(2024, 3, 10))
    sandbox.state.bulk_load(seed.dataset())
    return early, late


def _planned(output: str) -> list[tuple[str, str, dict[str, str]]]:
    report = json.loads(output)
    return sorted((p["object_type"], p["object_id"], p["properties"])
                  for p in report["patches"])


def test_sync_at_an_earlier_as_of_exits_2_and_writes_nothing(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    _, late = _seeded(sandbox)
    env = _env(sandbox, tmp_path / "live.db")
    assert runner.invoke(app, ["sync", "--full", "--as-of", "2024-06-01"], env=env).exit_code == 0
    modified = value(sandbox.state, "companies", late, "hs_lastmodifieddate")

    result = runner.invoke(app, ["sync", "--full", "--as-of", "2024-03-01"], env=env)

    assert result.exit_code == 2, result.output
    assert "2024-06-01" in result.stderr
    assert "--dry-run" in result.stderr
    assert value(sandbox.state, "companies", late, "hs_lastmodifieddate") == modified
    store = Store.from_url(env["PARTNER_SYNC_STORE__URL"] or "")
    try:
        assert len(store.list_runs(limit=100)) == 1
        assert store.get_checkpoint("evaluated_as_of") == "2024-06-01"
    finally:
        store.close()
    assert value(sandbox.state, "companies", late, C.registration_status) == "registered"


def test_dry_run_at_an_earlier_date_previews_what_a_fresh_run_would(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    _, late = _seeded(sandbox)
    live = _env(sandbox, tmp_path / "live.db")
    assert runner.invoke(app, ["sync", "--full", "--as-of", "2024-06-01"],
                         env=live).exit_code == 0

    preview = runner.invoke(app, ["sync", "--full", "--as-of", "2024-03-01", "--dry-run",
                                  "--json"], env=live)
    fresh = runner.invoke(app, ["sync", "--full", "--as-of", "2024-03-01", "--dry-run",
                                "--json"], env=_env(sandbox, tmp_path / "fresh.db"))

    assert preview.exit_code == 0, preview.output
    assert fresh.exit_code == 0, fresh.output
    assert _planned(preview.stdout) == _planned(fresh.stdout)
    planned = {(t, i): p for t, i, p in _planned(preview.stdout)}
    assert planned[("companies", late)][C.registration_status] == "pending"
    assert value(sandbox.state, "companies", late, C.registration_status) == "registered"


@pytest.mark.parametrize("run", ["reevaluate", "incremental_sync", "resync_type",
                                 "targeted_sync"])
def test_every_writing_run_refuses_an_earlier_date(
    make_engine: EngineFactory, run: str
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2030, 1, 1))  # the engine's clock says 2026-01-01
    runs_before = len(engine.store.list_runs(limit=100))

    runs = {
        "reevaluate": engine.reevaluate,
        "incremental_sync": engine.incremental_sync,
        "resync_type": lambda: engine.resync_type("companies"),
        "targeted_sync": lambda: engine.targeted_sync([("companies", prospect)]),
    }
    with pytest.raises(ClockWentBack):
        runs[run]()

    assert len(engine.store.list_runs(limit=100)) == runs_before


def test_the_store_keeps_its_latest_date(make_engine: EngineFactory) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    engine = make_engine(seed.dataset())

    engine.full_sync(as_of=date(2024, 6, 1))
    engine.full_sync(as_of=date(2024, 3, 1), dry_run=True)
    engine.full_sync(as_of=date(2024, 6, 1))

    assert engine.store.get_checkpoint("evaluated_as_of") == "2024-06-01"
