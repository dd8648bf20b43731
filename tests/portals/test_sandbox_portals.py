"""The multi-portal sandbox: member portals with their own data, limits and HubSpot's OAuth."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.config import SandboxConfig, WebhookConfig
from sandbox.dataset import Dataset, SeedRecord
from sandbox.oauth import OAuthConfig
from sandbox.portals import PortalsApp, PortalsConfig, serve_portals_in_thread
from sandbox.server import RunningSandbox
from sandbox.state import SandboxState

CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-oauth-secret"}
REDIRECT = "http://127.0.0.1:1/oauth/callback"


def program_state() -> SandboxState:
    state = SandboxState()
    rows = [SeedRecord("companies", str(i), {"name": f"P{i}", "domain": f"prospect{i}.com"},
                       1_700_000_000_000, 1_700_000_000_000) for i in range(1, 6)]
    state.bulk_load(Dataset(records=rows))
    return state


@pytest.fixture
def running() -> Iterator[RunningSandbox]:
    config = PortalsConfig(count=2, companies_per_portal=6, overlap=1.0, per_10s=110,
                           oauth=OAuthConfig(access_token_lifetime_s=60),
                           scope_overrides={7_000_002: ("oauth",)})
    with serve_portals_in_thread(SandboxConfig(), program_state(), config) as server:
        yield server


def portals(server: RunningSandbox) -> PortalsApp:
    assert isinstance(server.app, PortalsApp)
    return server.app


def install(server: RunningSandbox, hub_id: int) -> dict[str, object]:
    portals(server).oauth.approve_next(hub_id)
    answer = httpx.get(f"{server.url}/oauth/authorize", params={
        "client_id": CLIENT["client_id"], "redirect_uri": REDIRECT,
        "scope": "oauth crm.objects.companies.read crm.objects.companies.write",
        "state": "s1"})
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s1"]
    token = httpx.post(f"{server.url}/oauth/v1/token", data={
        **CLIENT, "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT})
    assert token.status_code == 200, token.text
    body: dict[str, object] = token.json()
    return body


def test_install_gives_tokens_for_the_approved_portal_and_its_own_data(
        running: RunningSandbox) -> None:
    tokens = install(running, 7_000_001)
    assert tokens["hub_id"] == 7_000_001
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 60
    info = httpx.get(f"{running.url}/oauth/v1/access-tokens/{tokens['access_token']}").json()
    assert info["hub_id"] == 7_000_001
    assert "crm.objects.companies.write" in info["scopes"]
    page = httpx.get(f"{running.url}/crm/v3/objects/companies",
                     params={"properties": "domain"},
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert page.status_code == 200
    domains = {r["properties"]["domain"] for r in page.json()["results"]}
    assert domains
    assert domains <= {f"prospect{i}.com" for i in range(1, 6)}
    assert page.headers["x-hubspot-ratelimit-max"] == "110"
    program = httpx.get(f"{running.url}/crm/v3/objects/companies",
                        headers={"Authorization": "Bearer sandbox-token"})
    assert len(program.json()["results"]) == 5


def test_a_portal_grants_only_its_scopes(running: RunningSandbox) -> None:
    tokens = install(running, 7_000_002)
    assert tokens["scopes"] == ["oauth"]


def test_expired_access_token_is_401_and_refresh_gives_a_new_one(
        running: RunningSandbox) -> None:
    tokens = install(running, 7_000_001)
    portals(running).oauth.expire_access_tokens(7_000_001)
    url = f"{running.url}/crm/v3/objects/companies"
    stale = httpx.get(url, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert stale.status_code == 401
    assert stale.json()["category"] == "EXPIRED_AUTHENTICATION"
    fresh = httpx.post(f"{running.url}/oauth/v1/token", data={
        **CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert fresh["access_token"] != tokens["access_token"]
    ok = httpx.get(url, headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert ok.status_code == 200


def test_token_endpoint_errors_have_hubspots_shape(running: RunningSandbox) -> None:
    tokens = install(running, 7_000_001)
    url = f"{running.url}/oauth/v1/token"
    reused = httpx.post(url, data={**CLIENT, "grant_type": "authorization_code",
                                   "code": "nope", "redirect_uri": REDIRECT})
    assert reused.status_code == 400
    assert reused.json()["status"] == "BAD_AUTH_CODE"
    bad_secret = httpx.post(url, data={**CLIENT, "client_secret": "x",
                                       "grant_type": "refresh_token",
                                       "refresh_token": tokens["refresh_token"]})
    assert bad_secret.json()["status"] == "BAD_CLIENT_SECRET"
    portals(running).oauth.revoke(7_000_001)
    revoked = httpx.post(url, data={**CLIENT, "grant_type": "refresh_token",
                                    "refresh_token": tokens["refresh_token"]})
    assert revoked.status_code == 400
    assert revoked.json()["status"] == "BAD_REFRESH_TOKEN"
    gone = httpx.get(f"{running.url}/oauth/v1/access-tokens/{tokens['access_token']}")
    assert gone.status_code == 404


def test_member_portal_webhooks_carry_that_portals_id() -> None:
    received: list[dict[str, object]] = []

    async def collect(request: Request) -> Response:
        received.extend(orjson.loads(await request.body()))
        return Response(status_code=204)

    with RunningSandbox(SandboxConfig(), SandboxState(), 10.0,
                        app=Starlette(routes=[Route("/hook", collect, methods=["POST"])])) as sink:
        config = SandboxConfig(webhooks=WebhookConfig(url=f"{sink.url}/hook"))
        with serve_portals_in_thread(config, program_state(),
                                     PortalsConfig(count=2, companies_per_portal=1)) as server:
            state = portals(server).member(7_000_002).state
            state.create(state.store("companies"), {"name": "x", "domain": "x-corp.com"})
            server.drain_webhooks()
    assert received
    assert {e["portalId"] for e in received} == {7_000_002}
