"""`init` and `sync` failures through typer's runner: the exit code and a `fix:` line that
names what to change (no token, bad token, unreachable portal, bad settings)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from cli.main import app
from sandbox.config import SandboxConfig
from sandbox.server import RunningSandbox, free_port, serve_in_thread

from .conftest import TOKEN, env_for

runner = CliRunner()
WRONG = "pat-na1-99999999-8888-7777-6666-555555555555"


@pytest.mark.parametrize("args", [["init"], ["sync", "--full"]])
def test_rejected_token_exits_3_naming_the_token_setting(
    args: list[str], portal: RunningSandbox, store_url: str
) -> None:
    env = env_for(portal.url, store_url, PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN=WRONG)

    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 3, result.output
    assert "fix: set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in result.stderr
    assert WRONG not in result.output


@pytest.mark.parametrize("args", [["init"], ["sync"]])
def test_unreachable_portal_exits_4_naming_the_base_url(args: list[str], store_url: str) -> None:
    env = env_for(f"http://127.0.0.1:{free_port()}", store_url,
                  PARTNER_SYNC_HUBSPOT__MAX_ATTEMPTS="1")

    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 4, result.output
    assert "fix: check PARTNER_SYNC_HUBSPOT__BASE_URL" in result.stderr


@pytest.mark.parametrize("args", [["init"], ["sync"]])
def test_bad_setting_exits_2_naming_it(args: list[str], store_url: str) -> None:
    env = env_for("http://127.0.0.1:1", store_url, PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S="x")

    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 2, result.output
    assert "PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S" in result.stderr


def test_no_token_for_init_points_at_the_demo_and_the_setting(store_url: str) -> None:
    env = env_for("https://api.hubapi.com", store_url)
    del env["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]

    result = runner.invoke(app, ["init"], env=env)

    assert result.exit_code == 3, result.output  # the auth code, as documented
    assert "partner-sync demo" in result.stderr
    assert "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in result.stderr


def test_init_json_lists_what_it_created_then_nothing(store_url: str) -> None:
    with serve_in_thread(SandboxConfig(token=TOKEN)) as bare:
        env = env_for(bare.url, store_url)
        first = runner.invoke(app, ["init", "--json"], env=env)
        second = runner.invoke(app, ["init", "--json"], env=env)

    assert first.exit_code == 0, first.output
    created = orjson.loads(first.stdout)
    assert created["groups_created"]
    assert created["properties_created"]
    again = orjson.loads(second.stdout)
    assert (again["groups_created"], again["properties_created"]) == ([], [])
    assert again["properties_existing"] == len(created["properties_created"])


def test_serve_refuses_bad_settings_no_token_and_an_unopenable_store(
    store_url: str, tmp_path: Path
) -> None:
    """Each refusal happens before anything listens, with the code the other commands use."""
    bad = env_for("http://127.0.0.1:1", store_url, PARTNER_SYNC_HUBSPOT__BASE_URL="ftp://x")
    no_token = env_for("https://api.hubapi.com", store_url)
    del no_token["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]
    no_store = env_for("http://127.0.0.1:1", f"sqlite:///{tmp_path / 'no-dir' / 's.db'}")

    results = [runner.invoke(app, ["serve", "--port", "1"], env=env)
               for env in (bad, no_token, no_store)]

    assert [r.exit_code for r in results] == [2, 3, 2], [r.output for r in results]
    assert "PARTNER_SYNC_HUBSPOT__BASE_URL" in results[0].stderr
    assert "partner-sync demo" in results[1].stderr
    assert "PARTNER_SYNC_STORE__URL" in results[2].stderr
    assert "no-dir" in results[2].stderr  # the missing folder is named
