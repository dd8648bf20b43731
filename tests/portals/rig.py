"""A program sandbox with member portals, a program runtime and the member-portal parts.

Program data (tests.engine.seed): members ALPHA and BETA (providers, paperwork done); prospects
``shop-a.com`` (registered by ALPHA, a closed deal with a 100/month subscription: a commission),
``beta-owned.com`` (registered by BETA) and ``free-prospect.com`` (no request). Member portal
7000001 is ALPHA's, 7000002 BETA's once connected; each starts with two companies of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from starlette.applications import Starlette

from cli.portals_wiring import PortalParts, build_portal_parts
from cli.runtime import Runtime, build_runtime
from config.settings import (
    HubSpotSettings,
    PortalSettings,
    SchedulerSettings,
    Settings,
    StoreSettings,
)
from sandbox.config import FaultRule, SandboxConfig
from sandbox.oauth import OAuthConfig
from sandbox.portals import PortalsApp, PortalsConfig, serve_portals_in_thread
from sandbox.server import RunningSandbox
from sandbox.state import SandboxState
from sandbox.store import Record
from sync.clock import FixedClock
from tests.engine.seed import C, Seed

ALPHA_HUB, BETA_HUB = 7_000_001, 7_000_002
# The program's evaluation date (the data's dates are laid out around it); tokens, install states
# and jobs keep the wall clock, as the sandbox's OAuth server does.
AS_OF = datetime(2026, 12, 7, 12, tzinfo=UTC)
CLIENT_ID, CLIENT_SECRET = "sandbox-client-id", "sandbox-oauth-secret"
REDIRECT = "http://127.0.0.1:9/oauth/callback"


def program_seed() -> Seed:
    seed = Seed()
    paperwork = {C.paperwork_completed_at: "2025-01-05",
                 C.onboarding_completed_at: "2025-01-05"}
    seed.member("ALPHA", "provider", date(2025, 1, 1), "alpha-partner.com", **paperwork)
    seed.member("BETA", "provider", date(2025, 1, 1), "beta-partner.com", **paperwork)
    shop = seed.prospect("shop-a.com", by="ALPHA", at=date(2026, 1, 10), name="Shop A")
    seed.prospect("beta-owned.com", by="BETA", at=date(2026, 10, 1), name="Beta Owned")
    seed.prospect("free-prospect.com", name="Free Prospect")
    deal = seed.deal(shop, closed=date(2026, 2, 1), created=date(2026, 1, 20))
    seed.subscription(deal, "100", date(2026, 2, 1))
    return seed


@dataclass
class Rig:
    sandbox: RunningSandbox
    runtime: Runtime
    parts: PortalParts
    settings: Settings
    serve: RunningSandbox  # the OAuth routes of serve, on their own loopback server

    @property
    def portals(self) -> PortalsApp:
        assert isinstance(self.sandbox.app, PortalsApp)
        return self.sandbox.app

    def member_state(self, hub_id: int) -> SandboxState:
        return self.portals.member(hub_id).state

    def callback_client(self, url: str | None = None) -> httpx.Client:
        """A client of the serve app's OAuth routes (served on a loopback port; ``url``: the
        whole serve app's instead)."""
        return httpx.Client(base_url=url or self.serve.url, follow_redirects=False, timeout=10)

    def connect(self, code: str, hub_id: int, url: str | None = None) -> httpx.Response:
        """The whole install: invite link -> /oauth/install -> HubSpot authorize -> callback
        (on the serve app at ``url`` if given)."""
        from sync.clock import SystemClock
        from sync.portals.connect import invite

        link = invite(self.settings.portals, self.runtime.store, self.settings.contract(), code,
                      SystemClock().now())
        with self.callback_client(url) as client:
            to_hubspot = client.get("/oauth/install", params=parse_qs(urlsplit(link).query))
            assert to_hubspot.status_code == 302, to_hubspot.text
            self.portals.oauth.approve_next(hub_id)
            approved = httpx.get(to_hubspot.headers["location"], follow_redirects=False)
            assert approved.status_code == 302, approved.text
            back = urlsplit(approved.headers["location"])
            return client.get("/oauth/callback", params={k: v[0] for k, v in
                                                         parse_qs(back.query).items()})

    def companies(self, hub_id: int) -> dict[str, dict[str, str | None]]:
        """The member portal's companies by domain: every partner_* property and the name."""
        state = self.member_state(hub_id)
        store = state.types["companies"]
        found: dict[str, dict[str, str | None]] = {}
        with state.lock:
            records: list[Record] = list(store.records.values())
            for rec in records:
                domain = store.raw(rec, "domain") or f"<no domain {rec.id}>"
                found[domain] = {n: store.raw(rec, n) for n in store.props
                                 if n.startswith("partner_") or n == "name"}
        return found

    def set_company(self, hub_id: int, domain: str | None, **props: str) -> int:
        """Create (or update, by domain) a company in a member portal, as a member would."""
        state = self.member_state(hub_id)
        store = state.store("companies")
        for rec in list(store.records.values()):
            if domain is not None and store.raw(rec, "domain") == domain:
                state.update(store, rec, props)
                return rec.id
        values: dict[str, Any] = {"name": domain or "nameless", **props}
        if domain is not None:
            values["domain"] = domain
        return state.create(store, values).id

    def program_companies(self, domain: str) -> list[dict[str, str | None]]:
        state = self.sandbox.state
        store = state.types["companies"]
        with state.lock:
            return [{n: store.raw(r, n) for n in store.props}
                    for r in list(store.records.values()) if store.raw(r, "domain") == domain]


def portal_settings(url: str, **overrides: Any) -> PortalSettings:
    values: dict[str, Any] = {
        "client_id": CLIENT_ID, "client_secret": SecretStr(CLIENT_SECRET),
        "redirect_url": REDIRECT, "install_url": "http://serve.test/oauth/install",
        "authorize_url": f"{url}/oauth/authorize",
        "token_key": SecretStr(Fernet.generate_key().decode()), "workers": 4,
        "job_backoff_s": 0.0, **overrides}
    return PortalSettings(**values)


@contextmanager
def portal_rig(tmp_path: Path, *, lifetime_s: int = 1800,
               scope_overrides: dict[int, tuple[str, ...]] | None = None,
               settings_overrides: dict[str, Any] | None = None,
               faults: dict[int, list[FaultRule]] | None = None,
               store_url: str | None = None,
               **portal_overrides: Any) -> Iterator[Rig]:
    state = SandboxState()
    state.bulk_load(program_seed().dataset())
    config = PortalsConfig(count=2, companies_per_portal=2, overlap=0.0,
                           oauth=OAuthConfig(access_token_lifetime_s=lifetime_s),
                           scope_overrides=scope_overrides or {}, fault_overrides=faults or {})
    with serve_portals_in_thread(SandboxConfig(), state, config) as sandbox:
        settings = Settings(
            hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"),
                                    base_url=sandbox.url),
            store=StoreSettings(url=store_url or f"sqlite:///{tmp_path / 'store.db'}"),
            scheduler=SchedulerSettings(enabled=False),
            portals=portal_settings(sandbox.url, **portal_overrides),
            **(settings_overrides or {}))
        runtime = build_runtime(settings, clock=FixedClock(AS_OF))
        runtime.engine.full_sync(trigger="test")
        parts = build_portal_parts(runtime, http=httpx.Client(timeout=10))
        routes = Starlette(routes=parts.oauth_routes.routes())
        serve = RunningSandbox(SandboxConfig(), SandboxState(), 10.0, app=routes)
        try:
            yield Rig(sandbox, runtime, parts, runtime.settings, serve)
        finally:
            serve.stop()
            parts.close()
            runtime.close()
