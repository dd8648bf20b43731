"""``partner-sync init`` and ``partner-sync sync`` through typer's CliRunner, on the sandbox."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from sandbox.server import RunningSandbox
from tests.engine.seed import C, Seed, value

runner = CliRunner()


def _env(sandbox: RunningSandbox, tmp_path: Path, token: str | None = "sandbox-token") -> dict[
    str, str | None
]:
    return {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": token,
        "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox.url,
        "PARTNER_SYNC_HUBSPOT__SEARCH_PER_S": "50",
        "PARTNER_SYNC_STORE__URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PARTNER_SYNC_CONFIG_FILE": None,
    }


def _seeded(sandbox: RunningSandbox) -> str:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    sandbox.state.bulk_load(seed.dataset())
    return prospect


def test_sync_full_json_writes_and_reports(sandbox: RunningSandbox, tmp_path: Path) -> None:
    prospect = _seeded(sandbox)

    result = runner.invoke(app, ["sync", "--full", "--as-of", "2024-06-01", "--json"],
                           env=_env(sandbox, tmp_path))

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "ok"
    assert report["written"]["companies"] == 2
    assert value(sandbox.state, "companies", prospect, C.registration_status) == "registered"


def test_sync_dry_run_prints_the_plan_and_writes_nothing(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    prospect = _seeded(sandbox)

    result = runner.invoke(app, ["sync", "--full", "--as-of", "2024-06-01", "--dry-run"],
                           env=_env(sandbox, tmp_path))

    assert result.exit_code == 0, result.output
    assert "companies.partner_registration_status" in result.stdout
    assert "(empty) -> registered" in result.stdout
    assert result.stdout.rstrip().endswith("dry run: nothing written")
    assert value(sandbox.state, "companies", prospect, C.registration_status) is None


def test_init_creates_then_finds_everything(sandbox: RunningSandbox, tmp_path: Path) -> None:
    first = runner.invoke(app, ["init"], env=_env(sandbox, tmp_path))
    second = runner.invoke(app, ["init"], env=_env(sandbox, tmp_path))

    assert first.exit_code == 0, first.output
    assert "created 3 group(s)" in first.stdout
    assert second.exit_code == 0
    assert "created 0 group(s) and 0 propert(ies)" in second.stdout


def test_bad_setting_is_named_with_exit_2(sandbox: RunningSandbox, tmp_path: Path) -> None:
    env = {**_env(sandbox, tmp_path), "PARTNER_SYNC_HUBSPOT__BASE_URL": "ftp://nowhere"}

    result = runner.invoke(app, ["sync", "--full"], env=env)

    assert result.exit_code == 2
    assert "PARTNER_SYNC_HUBSPOT__BASE_URL" in result.output


def test_no_token_and_no_base_url_points_at_demo(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    env = {**_env(sandbox, tmp_path, token=None), "PARTNER_SYNC_HUBSPOT__BASE_URL": None}

    result = runner.invoke(app, ["sync", "--full"], env=env)

    assert result.exit_code == 3  # the documented code for a missing token
    assert "partner-sync demo" in result.output
    assert "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in result.output


def test_wrong_token_exits_3(sandbox: RunningSandbox, tmp_path: Path) -> None:
    _seeded(sandbox)

    result = runner.invoke(app, ["sync", "--full"], env=_env(sandbox, tmp_path, token="nope"))

    assert result.exit_code == 3
    assert "token" in result.output


def test_bad_as_of_is_a_usage_error(sandbox: RunningSandbox, tmp_path: Path) -> None:
    result = runner.invoke(app, ["sync", "--full", "--as-of", "June"],
                           env=_env(sandbox, tmp_path))

    assert result.exit_code == 2
    assert "--as-of" in result.output
