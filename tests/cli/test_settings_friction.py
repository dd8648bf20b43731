"""A new user's settings mistakes, each refused the same way by every command: exit 2 (3 for a
missing token) with a message naming the variable and the fix, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from sandbox.config import SandboxConfig
from sandbox.server import serve_in_thread
from tests.cli.conftest import env_for, invoke, no_traceback


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    """A sandbox that accepts its default token (``sandbox-token``)."""
    with serve_in_thread(SandboxConfig()) as running:
        yield running.url


COMMANDS = [["sync"], ["init"], ["report"], ["resync", "--all"], ["serve", "--port", "1"]]


@pytest.mark.parametrize("args", COMMANDS)
def test_a_bare_file_name_as_store_url_names_the_variable_and_the_fix(
    args: list[str], tmp_path: Path
) -> None:
    env = env_for("http://127.0.0.1:1", "partner-sync.db")

    result = invoke(args, env)

    assert result.exit_code == 2, result.output
    assert no_traceback(result)
    assert "PARTNER_SYNC_STORE__URL: 'partner-sync.db' is not a database URL" in result.stderr
    assert "sqlite:///partner-sync.db" in result.stderr
    assert len(result.stderr.splitlines()) <= 3


def test_a_dsn_without_scheme_is_refused_without_echoing_its_password() -> None:
    env = env_for("http://127.0.0.1:1", "postgres:hunter2@db/sync")

    result = invoke(["sync"], env)

    assert result.exit_code == 2
    assert "PARTNER_SYNC_STORE__URL" in result.stderr
    assert "hunter2" not in result.output


@pytest.mark.parametrize("args", [["sync"], ["init"], ["report"], ["resync", "--all"]])
def test_a_store_in_a_missing_folder_names_the_folder(args: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    env = env_for("http://127.0.0.1:1", f"sqlite:///{missing / 'store.db'}")

    result = invoke(args, env)

    assert result.exit_code == 2, result.output
    assert f"the folder {missing} of the SQLite file" in result.stderr
    assert f"mkdir -p {missing}" in result.stderr
    assert not missing.exists()


def test_doctor_fails_the_store_check_for_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    env = env_for("http://127.0.0.1:1", f"sqlite:///{missing / 'store.db'}",
                  PARTNER_SYNC_HUBSPOT__MAX_ATTEMPTS="1")

    result = invoke(["doctor", "--json", "--no-webhooks"], env)

    store = next(c for c in orjson.loads(result.stdout)["checks"] if c["name"] == "store")
    assert store["status"] == "fail"
    assert str(missing) in store["detail"]
    assert result.exit_code != 0


def test_demo_keep_store_in_a_missing_folder_names_the_option(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "demo.db"

    result = invoke(["demo", "--keep-store", str(target)])

    assert result.exit_code == 2, result.output
    assert "--keep-store" in result.stderr
    assert str(tmp_path / "nope") in result.stderr
    assert "PARTNER_SYNC_STORE__URL" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "meant"),
    [
        ("PARTNER_SYNC_STORE_URL", "PARTNER_SYNC_STORE__URL"),
        ("PARTNER_SYNC_HUBSPOT_ACCESS_TOKEN", "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"),
        ("PARTNER_SYNC_HUBSPOT__ACESS_TOKEN", "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"),
        ("PARTNER_SYNC_LOGLEVEL", "PARTNER_SYNC_LOG_LEVEL"),
    ],
)
@pytest.mark.parametrize("args", [["sync"], ["doctor"], ["serve", "--port", "1"]])
def test_an_unknown_variable_is_refused_naming_the_closest_setting(
    args: list[str], variable: str, meant: str, store_url: str
) -> None:
    env = env_for("http://127.0.0.1:1", store_url, **{variable: "x"})

    result = invoke(args, env)

    assert result.exit_code == 2, result.output
    assert f"{variable}: unknown setting; did you mean {meant}?" in result.stderr


def test_an_unknown_variable_far_from_any_setting_points_at_the_docs(store_url: str) -> None:
    result = invoke(["sync"], env_for("http://127.0.0.1:1", store_url,
                                      PARTNER_SYNC_FROBNICATE="1"))
    assert result.exit_code == 2
    assert "PARTNER_SYNC_FROBNICATE: unknown setting; see docs/configuration.md" in result.stderr


@pytest.mark.parametrize("args", [["init"], ["sync"], ["resync", "--all"],
                                  ["serve", "--port", "1"]])
def test_no_token_with_a_non_hubspot_base_url_exits_3_and_uses_no_fallback(
    args: list[str], portal_url: str, store_url: str
) -> None:
    """The sandbox would accept its default token, so a silent fallback would go unnoticed."""
    env = env_for(portal_url, store_url)
    del env["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]

    result = invoke(args, env)

    assert result.exit_code == 3, result.output
    assert "no HubSpot access token is configured" in result.stderr
    assert "fix: set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in result.stderr


def test_doctor_agrees_that_no_token_is_configured(portal_url: str, store_url: str) -> None:
    env = env_for(portal_url, store_url)
    del env["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]

    result = invoke(["doctor", "--json", "--no-webhooks"], env)

    assert result.exit_code == 3
    token = next(c for c in orjson.loads(result.stdout)["checks"] if c["name"] == "token")
    assert token["status"] == "fail"


