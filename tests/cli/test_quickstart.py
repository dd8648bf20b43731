"""docs/quickstart.md "Run the service against the sandbox" stays pasteable: every command and
option exists, every exported variable is a setting, and the sandbox and serve halves agree
(ports, webhook URL and secret, token) so the sandbox's signed webhooks verify in serve."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer

from cli.doctor import webhook_checks
from cli.main import app
from config.settings import load_settings, setting_names
from sandbox.config import SandboxConfig

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
TITLE = "## Run the service against the sandbox"


def _blocks(section: str) -> list[str]:
    return [re.sub(r"^ {3}", "", b, flags=re.MULTILINE)
            for b in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)]


def _commands(block: str) -> list[list[str]]:
    """Each ``partner-sync ...`` command line of a block, continuation lines joined."""
    joined = block.replace("\\\n", " ")
    return [shlex.split(line, comments=True)[1:] for line in joined.splitlines()
            if line.strip().startswith("partner-sync")]


SECTION = QUICKSTART.split(TITLE, 1)[1].split("\n## ", 1)[0] if TITLE in QUICKSTART else ""
BLOCKS = _blocks(SECTION)
EXPORTS = dict(re.findall(r"^export (PARTNER_SYNC_\w+)=(\S+)", "\n".join(BLOCKS),
                          flags=re.MULTILINE))


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_the_section_is_there_with_its_three_steps() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("args", [a for b in _blocks(QUICKSTART) for a in _commands(b)],
                         ids=lambda a: " ".join(a[:2]))
def test_every_command_and_option_exists(args: list[str]) -> None:
    group: Any = typer.main.get_command(app)
    name, rest = args[0], args[1:]
    parent = group.make_context("partner-sync", [name], resilient_parsing=True)
    command = group.get_command(parent, name)
    assert command is not None, name
    command.make_context(name, list(rest), parent=parent)  # raises on an unknown option


def test_every_exported_variable_is_a_setting_and_they_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert set(EXPORTS) <= set(setting_names())
    for key, value in EXPORTS.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert [c.status for c in webhook_checks(settings)] == ["ok"]  # doctor: loopback http ok


def test_the_sandbox_and_serve_agree() -> None:
    [sandbox] = [c for c in _commands(BLOCKS[0]) if c[0] == "sandbox"]
    [serve] = [c for b in BLOCKS for c in _commands(b) if c[0] == "serve"]
    webhook_url = _option(sandbox, "--webhook-url")
    assert EXPORTS["PARTNER_SYNC_WEBHOOKS__PUBLIC_URL"] == webhook_url
    assert EXPORTS["PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET"] == _option(sandbox, "--webhook-secret")
    assert urlsplit(webhook_url).port == int(_option(serve, "--port"))
    assert urlsplit(EXPORTS["PARTNER_SYNC_HUBSPOT__BASE_URL"]).port == int(
        _option(sandbox, "--port"))
    token = EXPORTS["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]
    assert token == SandboxConfig().token  # the sandbox's default --token
    assert f"Bearer {token}" in SECTION  # the record edit uses the same token


@pytest.mark.parametrize("args", [["sync", "--bogus"], ["nope"], ["serve", "--port", "x"]])
def test_the_command_check_catches_a_stale_line(args: list[str]) -> None:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - click's error types, checked below
        test_every_command_and_option_exists(args)
    assert type(caught.value).__name__ in {"AssertionError", "NoSuchOption", "BadParameter"}
