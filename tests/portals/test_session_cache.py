"""A portal's gateway is built once and kept across jobs, and never outlives what made it valid:
the access token it carries (refresh, 401, reconnection, disconnection), the settings and the
token vault. The kept gateways are bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from config.settings import Settings
from sync.clock import FixedClock
from sync.portals.repo import PortalRepo
from sync.portals.session import Disconnected, PortalSessions
from sync.portals.vault import TokenVault
from sync.store import Store

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
LIFETIME = timedelta(minutes=30)


@dataclass
class FakeHubSpot:
    """API calls answer an empty search, naming the bearer token each was sent with; the token
    endpoint grants ``fresh-<n>`` access tokens."""

    bearers: list[tuple[str, str]] = field(default_factory=list)  # (host, token) per API call
    refreshes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            if request.url.path == "/oauth/v1/token":
                self.refreshes += 1
                return httpx.Response(200, json={
                    "access_token": f"fresh-{self.refreshes}", "refresh_token": "refresh",
                    "expires_in": int(LIFETIME.total_seconds())})
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            self.bearers.append((request.url.host, token))
        return httpx.Response(200, json={"total": 0, "results": []})

    def last_bearer(self) -> str:
        return self.bearers[-1][1]


@dataclass
class Env:
    settings: Settings
    store: Store
    repo: PortalRepo
    vault: TokenVault
    clock: FixedClock
    hubspot: FakeHubSpot
    http: httpx.Client

    def sessions(self, **kwargs: int) -> PortalSessions:
        return PortalSessions(self.settings, self.repo, self.http, self.clock,
                              sleep=lambda _s: None, **kwargs)

    def connect(self, hub_id: int, access: str, *, code: str | None = None) -> None:
        self.repo.save_connection(hub_id, code or f"M{hub_id}", ("oauth",),
                                  self.vault.seal("refresh"), self.vault.seal(access),
                                  NOW + LIFETIME)


def _settings(base_url: str = "http://hubspot.test") -> Settings:
    return Settings(hubspot={"base_url": base_url},
                    portals={"client_id": "id", "client_secret": SecretStr("s"),
                             "token_key": SecretStr(Fernet.generate_key().decode())})


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = _settings()
    store = Store.from_url(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    hubspot = FakeHubSpot()
    with httpx.Client(transport=httpx.MockTransport(hubspot.handle)) as http:
        yield Env(settings, store, PortalRepo(store), TokenVault(settings.portals),
                  FixedClock(NOW), hubspot, http)
    store.close()


def _call(sessions: PortalSessions, hub_id: int) -> str:
    """One API call through the portal's gateway; the bearer token it was sent with."""
    gateway = sessions.gateway(hub_id)
    gateway.search("companies", [], ["domain"])
    token = gateway.settings.access_token
    assert token is not None
    return token.get_secret_value()


def test_a_portal_gateway_is_built_once_and_each_job_counts_only_its_own_calls(
        env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    one, two = sessions.gateway(5), sessions.gateway(5)
    assert one.objects_search is two.objects_search  # the SDK clients were not built again
    one.search("companies", [], ["domain"])
    one.search("companies", [], ["domain"])
    two.search("companies", [], ["domain"])
    assert one.metrics.snapshot()["totals"]["calls"] == 2
    assert two.metrics.snapshot()["totals"]["calls"] == 1
    assert sessions.kept_gateways() == 1
    assert [t for _h, t in env.hubspot.bearers] == ["first"] * 3


def test_a_token_about_to_expire_is_refreshed_and_the_kept_gateway_replaced(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    assert _call(sessions, 5) == "first"
    env.clock.advance(LIFETIME - timedelta(seconds=env.settings.portals.refresh_margin_s - 1))
    assert _call(sessions, 5) == "fresh-1"
    assert env.hubspot.last_bearer() == "fresh-1"
    assert _call(sessions, 5) == "fresh-1"  # the new token's gateway is kept in turn
    assert env.hubspot.refreshes == 1


def test_an_access_token_forgotten_after_a_401_is_not_used_again(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    _call(sessions, 5)
    env.repo.expire_access(5)  # what the worker does when HubSpot answers 401
    assert _call(sessions, 5) == "fresh-1"
    assert env.hubspot.last_bearer() == "fresh-1"


def test_a_reconnected_portal_gets_a_gateway_for_its_new_token(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    _call(sessions, 5)
    env.connect(5, "after-reinstall")
    assert _call(sessions, 5) == "after-reinstall"
    assert env.hubspot.last_bearer() == "after-reinstall"


def test_a_disconnected_portal_gets_no_gateway_and_its_kept_one_is_dropped(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    _call(sessions, 5)
    env.repo.mark_disconnected(5, "uninstalled")
    with pytest.raises(Disconnected):
        sessions.gateway(5)
    assert sessions.kept_gateways() == 0


def test_forget_drops_the_kept_gateway(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    kept = sessions.gateway(5)
    sessions.forget(5)
    assert sessions.kept_gateways() == 0
    assert sessions.gateway(5).objects_search is not kept.objects_search


def test_changed_settings_or_token_vault_build_a_new_gateway(env: Env) -> None:
    env.connect(5, "first")
    sessions = env.sessions()
    _call(sessions, 5)
    sessions.settings = env.settings.model_copy(update={"hubspot": env.settings.hubspot.model_copy(
        update={"base_url": "http://other-hubspot.test"})})
    _call(sessions, 5)
    assert [h for h, _t in env.hubspot.bearers] == ["hubspot.test", "other-hubspot.test"]
    sessions.vault = TokenVault(env.settings.portals.model_copy(
        update={"token_key": SecretStr(Fernet.generate_key().decode())}))
    with pytest.raises(Disconnected, match="decrypt"):  # the stored token is opened again
        sessions.gateway(5)


def test_kept_gateways_are_bounded_least_recently_used_first(env: Env) -> None:
    for hub_id in (1, 2, 3):
        env.connect(hub_id, f"token-{hub_id}")
    sessions = env.sessions(max_gateways=2)
    one = sessions.gateway(1)
    two = sessions.gateway(2)
    sessions.gateway(1)  # 1 is now more recently used than 2
    sessions.gateway(3)
    assert sessions.kept_gateways() == 2
    assert sessions.gateway(1).objects_search is one.objects_search
    assert sessions.gateway(2).objects_search is not two.objects_search  # 2 was dropped
