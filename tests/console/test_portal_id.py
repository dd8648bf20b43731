"""The console links records into the portal the sync engine stored for the token (read from
HubSpot's account-info API), else the configured portal id, else the newest webhook event's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from pydantic import SecretStr

from config.settings import ConsoleSettings, Settings
from policies.model import Problem
from sandbox.config import SandboxConfig
from sandbox.server import serve_in_thread
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import InboxEvent, Store
from tests.console.conftest import log_in
from tests.webhooks.conftest import FakeEngine, event, serve_app
from webhooks.app import ServeParts, create_app
from webhooks.console.portal_id import portal_id_lookup, stored_portal_key

TOKEN = "pat-na1-00000000-1111-2222-3333-555555555555"
ACCOUNT_PORTAL = 4_242_001  # what HubSpot's account-info API says the token belongs to
CONFIGURED = 7_777  # PARTNER_SYNC_CONSOLE__PORTAL_ID
EVENT_PORTAL = 62515  # the portal ``event()`` names


def _with_token(settings: Settings, base_url: str, configured: int | None) -> Settings:
    return settings.model_copy(update={
        "hubspot": settings.hubspot.model_copy(
            update={"access_token": SecretStr(TOKEN), "base_url": base_url}),
        "console": settings.console.model_copy(update={"portal_id": configured}),
    })


def _problem_run(store: Store) -> int:
    run_id = store.start_run("full", date(2025, 2, 15), "cli")
    store.add_run_problems(run_id, [Problem("deal", "42", "unknown_partner_code", "NOPE")])
    store.finish_run(run_id, "ok", {})
    return run_id


@pytest.fixture
async def console_over_stored_id(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    """A console whose store holds the portal id the real engine read from the sandbox, with
    another id configured and a third named by a webhook event."""
    config = SandboxConfig(token=TOKEN, portal_id=ACCOUNT_PORTAL)
    with serve_in_thread(config) as portal:
        full = _with_token(settings, portal.url, CONFIGURED)
        gateway = Gateway(full.hubspot)
        try:
            assert SyncEngine(full, gateway=gateway, store=store).portal_id() == ACCOUNT_PORTAL
        finally:
            gateway.close()
    store.inbox_insert([InboxEvent("k1", event(42))])
    async with serve_app(create_app(ServeParts(full, store, engine, clock=clock))) as client:
        assert (await log_in(client)).status_code == 303
        yield client


async def test_run_page_links_into_the_portal_the_engine_stored(
    console_over_stored_id: httpx.AsyncClient, store: Store
) -> None:
    run_id = _problem_run(store)

    page = (await console_over_stored_id.get(f"/console/runs/{run_id}")).text

    assert f'href="https://app.hubspot.com/contacts/{ACCOUNT_PORTAL}/record/0-3/42"' in page
    assert f"/contacts/{CONFIGURED}/" not in page
    assert f"/contacts/{EVENT_PORTAL}/" not in page


def _store_portal(store: Store, key: str, value: str) -> None:
    with store.transaction() as tx:
        tx.set_checkpoint(key, value)


def test_stored_id_then_setting_then_inbox(settings: Settings, store: Store) -> None:
    key = stored_portal_key(_with_token(settings, "http://127.0.0.1:1", None))
    assert key is not None
    configured = portal_id_lookup(store, ConsoleSettings(portal_id=CONFIGURED), key)
    unconfigured = portal_id_lookup(store, ConsoleSettings(), key)

    assert (configured(), unconfigured()) == (CONFIGURED, None)
    store.inbox_insert([InboxEvent("k1", event(42))])
    assert (configured(), unconfigured()) == (CONFIGURED, EVENT_PORTAL)
    _store_portal(store, key, str(ACCOUNT_PORTAL))  # the first sync reads the account info
    assert (configured(), unconfigured()) == (ACCOUNT_PORTAL, ACCOUNT_PORTAL)


def test_another_tokens_or_a_malformed_stored_id_is_not_used(
    settings: Settings, store: Store
) -> None:
    key = stored_portal_key(_with_token(settings, "http://127.0.0.1:1", None))
    assert key is not None
    _store_portal(store, key.replace(key.rsplit(":", 1)[1], "tok:00000000"), "999")
    _store_portal(store, key, "4²")

    assert portal_id_lookup(store, ConsoleSettings(portal_id=CONFIGURED), key)() == CONFIGURED
    assert stored_portal_key(settings) is None  # no token configured: no stored id to read
