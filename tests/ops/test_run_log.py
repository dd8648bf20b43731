"""Every run logs one line with its totals, whichever command started it, and a store that
cannot be opened is reported with exit 4, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from cli.main import app
from sandbox.server import RunningSandbox, free_port

from .conftest import TOKEN, env_for

runner = CliRunner()


def _run_lines(stderr: str) -> list[dict[str, Any]]:
    """The JSON log lines of the run logger (other lines, if any, are ignored)."""
    docs = [orjson.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [doc for doc in docs if doc.get("logger") == "partner_sync.runs"]


def test_cli_sync_logs_one_json_line_with_the_run_totals(
    portal: RunningSandbox, store_url: str
) -> None:
    result = runner.invoke(app, ["sync", "--full", "--json"], env=env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    [line] = _run_lines(result.stderr)
    assert line["level"] == "INFO"
    assert line["run"]["run_id"] == report["run_id"]
    assert (line["run"]["kind"], line["run"]["trigger"], line["run"]["status"]) == (
        "full", "cli", "ok")
    assert line["run"]["api_calls"] == report["api_calls"]
    assert f"run {report['run_id']} full (cli) ok" in line["msg"]
    assert TOKEN not in result.stderr


def test_a_failed_run_logs_its_line_at_error_without_the_token(
    portal: RunningSandbox, store_url: str
) -> None:
    wrong = "pat-na1-99999999-8888-7777-6666-555555555555"
    env = env_for(portal.url, store_url, PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN=wrong)

    result = runner.invoke(app, ["sync", "--full"], env=env)

    assert result.exit_code == 3, result.output
    [line] = _run_lines(result.stderr)
    assert (line["level"], line["run"]["status"]) == ("ERROR", "failed")
    assert line["run"]["error"]
    assert wrong not in result.stderr


def test_local_resync_logs_exactly_one_line(portal: RunningSandbox, store_url: str) -> None:
    result = runner.invoke(app, ["resync", "--all", "--json"], env=env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    [line] = _run_lines(result.stderr)
    assert line["run"]["run_id"] == orjson.loads(result.stdout)["run_id"]


def test_unopenable_store_exits_4_naming_the_setting(
    portal: RunningSandbox, tmp_path: Path
) -> None:
    store = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    for args in (["sync"], ["init"], ["resync", "--all"]):
        result = runner.invoke(app, args, env=env_for(portal.url, store))

        assert result.exit_code == 4, (args, result.output)
        assert "PARTNER_SYNC_STORE__URL" in result.stderr
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_http_requests_are_not_logged_one_line_each(portal: RunningSandbox, store_url: str) -> None:
    result = runner.invoke(app, ["sync", "--full"], env=env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    loggers = [orjson.loads(line)["logger"] for line in result.stderr.splitlines()
               if line.startswith("{")]
    assert loggers.count("partner_sync.runs") == 1
    assert not [name for name in loggers if name.startswith(("httpx", "httpcore"))]


def test_no_colour_codes_off_a_terminal_even_without_no_color(
    portal: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    env: dict[str, str | None] = {**env_for(portal.url, store_url), "NO_COLOR": None,
                                  "TERM": "xterm-256color", "PARTNER_SYNC_LOG_FORMAT": "auto"}
    for args in (["doctor"], ["sync", "--full"], ["report", "--out", str(tmp_path / "st")],
                 ["sync", "--as-of", "bad"]):
        result = runner.invoke(app, args, env=env)

        assert result.exit_code in (0, 2), (args, result.output)
        assert "\x1b[" not in result.stdout, args
        assert "\x1b[" not in result.stderr, args
