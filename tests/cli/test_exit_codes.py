"""Exit codes: one table (cli/exits.py), the same in `--help` and docs/troubleshooting.md, and
the friction points that exited with the wrong code: a port in use, a pipe closed early."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import policies
from cli.exits import EXIT_CODES, ExitCode
from tests.cli.conftest import env_for, invoke

ROOT = Path(__file__).resolve().parents[2]
RUN_CLI = "import sys; from cli.main import run; sys.argv[0] = 'partner-sync'; run()"


def test_the_docs_table_is_the_code_table() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| (.+?) \|$", text, flags=re.MULTILINE))
    assert {int(k): v for k, v in rows.items()} == {int(c): m for c, m in EXIT_CODES.items()}


def test_help_shows_every_exit_code() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "Exit codes:" in flat
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code)} {' '.join(meaning.split())}" in flat


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    found = re.fullmatch(r"partner-sync \d+\.\d+\.\d+\S* \(rules engine: (.+)\)\n", result.stdout)
    assert found, result.stdout
    assert found.group(1) == ("compiled with mypyc" if policies.COMPILED else "pure Python")


def test_a_port_in_use_exits_2_naming_it(store_url: str) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        env = env_for("http://127.0.0.1:1", store_url)

        result = invoke(["serve", "--port", str(port)], env)

    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr
    assert "--port" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"]])
def test_a_reader_that_stops_early_is_no_error(args: list[str]) -> None:
    """`partner-sync --help | head -1`: the pipe closes before the output is written."""
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, *args], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the first write
    _, err = process.communicate(timeout=60)

    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err


def _commands() -> list[str]:
    import typer

    from cli.main import app

    group = typer.main.get_command(app)
    names: list[str] = group.list_commands(typer.Context(group))  # type: ignore[attr-defined]
    return names


def test_there_are_subcommands_to_check() -> None:
    assert {"sync", "resync", "report", "doctor", "serve", "demo", "init"} <= set(_commands())


@pytest.mark.parametrize("command", _commands())
def test_every_subcommand_help_shows_every_exit_code(command: str) -> None:
    result = invoke([command, "--help"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.replace("│", " ").split())
    assert "Exit codes:" in flat
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code)} {' '.join(meaning.split())}" in flat
