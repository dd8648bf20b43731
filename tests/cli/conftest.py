"""Fixtures for the CLI friction tests: a clean ``PARTNER_SYNC_*`` environment, a sandbox
portal seeded with a small program (one member, registrations, one request naming an unknown
partner code), and a complete settings environment pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from tests.engine.seed import Seed

TOKEN = "pat-na1-00000000-1111-2222-3333-444444444444"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("PARTNER_SYNC_") and key != "PARTNER_SYNC_TEST_PG_DSN":
            monkeypatch.delenv(key)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningSandbox]:
    """A portal with the contract properties and a small program; shared by a module."""
    with seeded_portal() as running:
        yield running


@contextmanager
def seeded_portal() -> Iterator[RunningSandbox]:
    """A new portal with the contract properties and the small program of ``portal``."""
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    acme = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    seed.prospect("globex.com", by="P1", at=date(2024, 2, 10))
    seed.prospect("initech.com", by="NOPE", at=date(2024, 2, 10))  # a data problem
    seed.deal(acme, closed=date(2024, 3, 1), created=date(2024, 2, 1))
    state = SandboxState()
    state.bulk_load(seed.dataset())
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(enabled=False))
    with serve_in_thread(config, state) as running:
        yield running


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def env_for(url: str, store_url: str, **extra: str) -> dict[str, str]:
    """A complete, healthy configuration pointing at ``url``."""
    env = {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": TOKEN,
        "PARTNER_SYNC_HUBSPOT__BASE_URL": url,
        "PARTNER_SYNC_STORE__URL": store_url,
        "PARTNER_SYNC_LOG_FORMAT": "json",
    }
    env.update(extra)
    return env


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, args, env=env or {})


def no_traceback(result: Result) -> bool:
    return "Traceback" not in result.output and (
        result.exception is None or isinstance(result.exception, SystemExit))
