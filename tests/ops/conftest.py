"""Fixtures for the operator commands: a clean PARTNER_SYNC_* environment, a migrated store,
a sandbox portal (with or without the contract properties), and the settings env pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.contract import contract_for_prefix
from config.settings import HubSpotSettings
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import RunningSandbox, serve_in_thread
from sync.engine.setup import init_portal
from sync.gateway import Gateway
from sync.store import Store

TOKEN = "pat-na1-00000000-1111-2222-3333-444444444444"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("PARTNER_SYNC_") and key != "PARTNER_SYNC_TEST_PG_DSN":
            monkeypatch.delenv(key)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.from_url(url)
    store.migrate()
    store.close()
    return url


@pytest.fixture
def bare_portal() -> Iterator[RunningSandbox]:
    """A sandbox portal without the contract properties (190/10 s, like a private app)."""
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(per_10s=190))
    with serve_in_thread(config) as running:
        yield running


def init_contract(url: str) -> None:
    """What `partner-sync init` does, straight through the gateway."""
    settings = HubSpotSettings(access_token=TOKEN, base_url=url)
    gateway = Gateway(settings)
    try:
        init_portal(gateway, contract_for_prefix("partner_"))
    finally:
        gateway.close()


@pytest.fixture(scope="module")
def portal() -> Iterator[RunningSandbox]:
    """A portal with the contract, shared by a module's read-only tests (init costs ~2 s)."""
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(per_10s=190))
    with serve_in_thread(config) as running:
        init_contract(running.url)
        yield running


def env_for(url: str, store_url: str, **extra: str) -> dict[str, str]:
    """A complete, healthy configuration pointing at ``url``."""
    env = {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": TOKEN,
        "PARTNER_SYNC_HUBSPOT__BASE_URL": url,
        "PARTNER_SYNC_STORE__URL": store_url,
        "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET": "client-secret-for-tests",
        "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL": "https://sync.example.com/webhooks/hubspot",
        "PARTNER_SYNC_ADMIN__TOKEN": "admin-token-for-tests",
        "PARTNER_SYNC_LOG_FORMAT": "json",
    }
    env.update(extra)
    return env
