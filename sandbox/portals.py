"""Many portals behind one sandbox server: the program's portal plus N member portals.

Each member portal is a full sandbox app (``create_app``) over its own ``SandboxState``: its own
hub id, data, rate limits (public apps: 110 requests per 10 s per portal) and webhook deliveries
carrying its ``portalId``. ``PortalsApp`` sits in front of them all:

* ``/oauth/authorize``, ``/oauth/v1/token``, ``/oauth/v1/access-tokens/{token}`` go to the
  ``OAuthServer`` (``sandbox.oauth``);
* a request whose bearer is an access token the OAuth server issued goes to that token's portal
  (the token is swapped for the portal app's own one, so limits count per portal); an expired one
  gets HubSpot's 401 ``EXPIRED_AUTHENTICATION``;
* everything else (the program's static token, ``/_sandbox/*``, unknown tokens) goes to the
  program's app, which answers 401 for tokens it does not know.

Member data overlaps the program's: about half of each member portal's companies carry domains of
the program's prospect companies (seeded, so runs repeat).
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Router
from starlette.types import Receive, Scope, Send

from sandbox.app import create_app
from sandbox.config import FaultRule, RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.dataset import Dataset, SeedRecord
from sandbox.limits import json_error_messages
from sandbox.oauth import DEFAULT_SCOPES, OAuthConfig, OAuthServer, oauth_routes
from sandbox.state import SandboxState

__all__ = ["MemberPortal", "PortalsApp", "PortalsConfig", "build_portals", "portals_app",
           "prospect_domains"]

FIRST_MEMBER_HUB_ID = 7_000_001
_OAUTH_PREFIX = "/oauth/"
_BASE_MS = 1_700_000_000_000


@dataclass(slots=True)
class PortalsConfig:
    """How many member portals, their limits, their data and the OAuth app."""

    count: int = 0
    per_10s: int = 110
    rate_limits_enabled: bool = True
    companies_per_portal: int = 20
    overlap: float = 0.5  # share of a portal's companies on the program's prospect domains
    seed: int = 0
    oauth: OAuthConfig = field(default_factory=OAuthConfig)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    # hub id -> the scopes that portal grants (default ``scopes``): tests of missing scopes
    scope_overrides: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # hub id -> faults that portal injects (tests of a failing portal)
    fault_overrides: dict[int, list[FaultRule]] = field(default_factory=dict)


@dataclass(slots=True)
class MemberPortal:
    hub_id: int
    state: SandboxState
    app: Starlette
    token: str  # the portal app's internal bearer; clients never see it


def prospect_domains(state: SandboxState) -> list[str]:
    """Domains of the program's companies that are not members (its prospects)."""
    store = state.types["companies"]
    found: list[str] = []
    with state.lock:
        for rec in store.records.values():
            if store.raw(rec, "partner_program_type"):
                continue
            domain = store.raw(rec, "domain")
            if domain and rec.archived_ms is None:
                found.append(domain)
    return found


def _member_dataset(hub_id: int, config: PortalsConfig, shared: list[str],
                    rng: random.Random) -> Dataset:
    records: list[SeedRecord] = []
    for i in range(config.companies_per_portal):
        if shared and rng.random() < config.overlap:
            domain = rng.choice(shared)
        else:
            domain = f"client{i}-of-{hub_id}.example.com"
        name = domain.split(".")[0].replace("-", " ").title()
        records.append(SeedRecord("companies", str(i + 1), {"name": name, "domain": domain},
                                  _BASE_MS, _BASE_MS))
    return Dataset(records=records)


def build_portals(program: SandboxConfig, program_state: SandboxState,
                  config: PortalsConfig) -> tuple[OAuthServer, dict[int, MemberPortal]]:
    """The OAuth server and ``config.count`` seeded member portals."""
    oauth = OAuthServer(config.oauth)
    rng = random.Random(config.seed)
    shared = prospect_domains(program_state)
    members: dict[int, MemberPortal] = {}
    for n in range(config.count):
        hub_id = FIRST_MEMBER_HUB_ID + n
        token = f"member-portal-{hub_id}-{rng.getrandbits(64):x}"
        sandbox_config = SandboxConfig(
            token=token, portal_id=hub_id,
            rate_limits=RateLimitConfig(enabled=config.rate_limits_enabled,
                                        per_10s=config.per_10s,
                                        search_per_s=program.rate_limits.search_per_s),
            webhooks=WebhookConfig(url=program.webhooks.url,
                                   client_secret=config.oauth.client_secret,
                                   app_id=config.oauth.app_id),
            search_lag_s=program.search_lag_s,
            faults=list(config.fault_overrides.get(hub_id, [])))
        state = SandboxState(portal_id=hub_id)
        state.bulk_load(_member_dataset(hub_id, config, shared, rng))
        members[hub_id] = MemberPortal(hub_id, state, create_app(sandbox_config, state), token)
        oauth.add_portal(hub_id, token, config.scope_overrides.get(hub_id, config.scopes))
    return oauth, members


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = bytes(value).decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


def _with_bearer(scope: Scope, token: str) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
    headers.append((b"authorization", f"Bearer {token}".encode()))
    return {**scope, "headers": headers}


class _AppState:
    """``app.state`` look-alike: ``webhooks`` drains every portal's dispatcher."""

    def __init__(self, owner: PortalsApp) -> None:
        self.webhooks = _AllDispatchers(owner)


class _AllDispatchers:
    def __init__(self, owner: PortalsApp) -> None:
        self._owner = owner

    def drain_blocking(self, timeout_s: float) -> None:
        for app in self._owner.apps():
            dispatcher = getattr(app.state, "webhooks", None)
            if dispatcher is not None:
                dispatcher.drain_blocking(timeout_s)


class PortalsApp:
    """The ASGI front of the program app, the member apps and the OAuth endpoints."""

    def __init__(self, program: Starlette, oauth: OAuthServer,
                 members: dict[int, MemberPortal]) -> None:
        self.program = program
        self.oauth = oauth
        self.members = members
        self._by_token = {m.token: m for m in members.values()}
        self.state = _AppState(self)
        self._oauth_router = Router(routes=oauth_routes(oauth))
        self._stack: contextlib.AsyncExitStack | None = None

    def apps(self) -> Iterator[Starlette]:
        yield self.program
        for member in self.members.values():
            yield member.app

    def member(self, hub_id: int) -> MemberPortal:
        return self.members[hub_id]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.program(scope, receive, send)
            return
        if scope["path"].startswith(_OAUTH_PREFIX):
            await self._oauth_router(scope, receive, send)
            return
        token = _bearer(scope)
        resolved = self.oauth.resolve(token) if token else None
        if resolved is None:
            await self.program(scope, receive, send)
            return
        internal, valid = resolved
        if not valid:
            await _expired(send)
            return
        member = self._by_token[internal]
        await member.app(_with_bearer(scope, internal), receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._stack = contextlib.AsyncExitStack()
                for app in self.apps():
                    await self._stack.enter_async_context(app.router.lifespan_context(app))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._stack is not None:
                    await self._stack.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _expired(send: Send) -> None:
    body: dict[str, Any] = {
        "status": "error", "category": "EXPIRED_AUTHENTICATION",
        "message": "The OAuth token used to make this call expired.",
        "correlationId": str(uuid.uuid4()),
    }
    for message in json_error_messages(401, body):
        await send(message)


def portals_app(program: SandboxConfig, state: SandboxState, config: PortalsConfig) -> PortalsApp:
    """The whole multi-portal sandbox app over the program's ``state``."""
    oauth, members = build_portals(program, state, config)
    return PortalsApp(create_app(program, state), oauth, members)



def serve_portals_in_thread(config: SandboxConfig, state: SandboxState,
                            portals: PortalsConfig, timeout_s: float = 10.0) -> Any:
    """A ``RunningSandbox`` serving the program and member portals; ``.app`` is the
    ``PortalsApp`` (its ``oauth`` and ``members`` are the handles tests use)."""
    from sandbox.server import RunningSandbox

    return RunningSandbox(config, state, timeout_s, app=portals_app(config, state, portals))
