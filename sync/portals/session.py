"""A member portal's API access: a valid access token (refreshed before it expires) and a
``Gateway`` paced by that portal's own budget.

Budgets are per portal (public apps: 110 requests per 10 s per installing account), so each portal
gets its own ``RateLimiter``, kept for the life of the process so consecutive jobs share it.
A refresh HubSpot refuses with ``BAD_REFRESH_TOKEN`` disconnects the portal (``Disconnected``).

Building a gateway (the SDK's API clients, their configurations) took about a tenth of a portal
job's CPU, so the gateway built for a portal's access token is kept (for the ``max_gateways``
most recently used portals) and each job gets a ``fork`` of it with its own metrics. A kept
gateway is used only while the portal row still holds the very sealed access token it was built
with, that token is valid for the refresh margin, and the settings and token vault are the ones
it was built with: a refresh, a 401 (``expire_access``), a reconnection or a disconnection
changes or clears the row's token, and ``forget`` drops the gateway at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings
from sync.clock import Clock
from sync.gateway import Gateway, GatewayMetrics, RateLimiter
from sync.portals.oauth_client import OAuthClient, RefreshRevoked
from sync.portals.repo import CONNECTED, PortalRepo, PortalRow
from sync.portals.vault import TokenVault, VaultError

__all__ = ["MAX_GATEWAYS", "Disconnected", "PortalSessions"]

MAX_GATEWAYS = 1024
"""Gateways kept by default (about 30 KB each): one per portal for the 1,000-portal load."""


class Disconnected(RuntimeError):
    """The portal is (now) disconnected: nothing can be done until it is connected again."""


@dataclass(frozen=True, slots=True)
class _Kept:
    """A portal's gateway and what it is valid for."""

    sealed: str  # the sealed access token it was built with, as the portal row holds it
    settings: Settings
    vault: TokenVault
    gateway: Gateway


class PortalSessions:
    """Hands out gateways for member portals (see module). Thread-safe."""

    def __init__(self, settings: Settings, repo: PortalRepo, http: httpx.Client, clock: Clock,
                 *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 max_gateways: int = MAX_GATEWAYS) -> None:
        self.settings = settings
        self.repo = repo
        self.http = http
        self.clock = clock
        self.vault = TokenVault(settings.portals)
        self.oauth = OAuthClient(settings.portals, settings.hubspot.base_url, http)
        self._monotonic = monotonic
        self._sleep = sleep
        self._limiters: dict[int, RateLimiter] = {}
        self._gateways: OrderedDict[int, _Kept] = OrderedDict()
        self._max_gateways = max_gateways
        self._guard = threading.Lock()

    def hubspot_settings(self, access_token: str) -> HubSpotSettings:
        per_10s = self.settings.portals.rate_limit_per_10s
        return self.settings.hubspot.model_copy(
            update={"access_token": SecretStr(access_token), "rate_limit_per_10s": per_10s})

    def limiter(self, hub_id: int) -> RateLimiter:
        with self._guard:
            if hub_id not in self._limiters:
                self._limiters[hub_id] = RateLimiter(
                    per_window=self.settings.portals.rate_limit_per_10s,
                    search_per_s=self.settings.hubspot.search_per_s,
                    search_in_window=self.settings.hubspot.search_in_window,
                    daily=self.settings.hubspot.daily_limit,
                    clock=self._monotonic, sleep=self._sleep)
            return self._limiters[hub_id]

    def gateway(self, hub_id: int, portal: PortalRow | None = None) -> Gateway:
        """A gateway for a connected portal (``portal``: its row, when just read), its token
        valid for at least the refresh margin; its metrics count this caller's calls only."""
        portal = portal if portal is not None else self.repo.get(hub_id)
        if portal is None or portal.status != CONNECTED:
            self.forget(hub_id)
            raise Disconnected(f"portal {hub_id} is not connected")
        settings, vault = self.settings, self.vault
        with self._guard:
            kept = self._gateways.get(hub_id)
            if kept is not None:
                self._gateways.move_to_end(hub_id)
        if (kept is not None and kept.sealed == portal.access_token
                and kept.settings is settings and kept.vault is vault
                and self._valid(portal, self.clock.now())):
            return kept.gateway.fork()
        token, sealed = self._open_or_refresh(portal)
        gateway = Gateway(self.hubspot_settings(token), http=self.http,
                          limiter=self.limiter(hub_id), metrics=GatewayMetrics(),
                          sleep=self._sleep)
        with self._guard:
            self._gateways[hub_id] = _Kept(sealed, settings, vault, gateway)
            self._gateways.move_to_end(hub_id)
            while len(self._gateways) > self._max_gateways:
                self._gateways.popitem(last=False)
        return gateway.fork()

    def forget(self, hub_id: int) -> None:
        """Drop the portal's kept gateway (its token was refused, or the portal is gone)."""
        with self._guard:
            self._gateways.pop(hub_id, None)

    def kept_gateways(self) -> int:
        """How many gateways are kept."""
        with self._guard:
            return len(self._gateways)

    def access_token(self, portal: PortalRow) -> str:
        return self._open_or_refresh(portal)[0]

    def _open_or_refresh(self, portal: PortalRow) -> tuple[str, str]:
        """The access token, and its sealed form as the portal row now holds it."""
        try:
            return self._access_token(portal)
        except VaultError as exc:
            self.forget(portal.hub_id)
            self.repo.mark_disconnected(portal.hub_id, str(exc))
            raise Disconnected(f"portal {portal.hub_id}: {exc}") from None

    def _valid(self, portal: PortalRow, now: datetime) -> bool:
        """Whether the row's access token is valid for at least the refresh margin."""
        margin = timedelta(seconds=self.settings.portals.refresh_margin_s)
        expires = portal.access_expires_at
        return bool(portal.access_token) and expires is not None and expires - margin > now

    def _access_token(self, portal: PortalRow) -> tuple[str, str]:
        now = self.clock.now()
        if portal.access_token and self._valid(portal, now):
            return self.vault.open(portal.access_token), portal.access_token
        self.forget(portal.hub_id)
        try:
            grant = self.oauth.refresh(self.vault.open(portal.refresh_token))
        except RefreshRevoked as exc:
            self.repo.mark_disconnected(portal.hub_id, f"refresh refused: {exc.status}")
            raise Disconnected(f"portal {portal.hub_id} refused the refresh ({exc.status}): "
                               "the member must install the app again") from None
        sealed = self.vault.seal(grant.access_token)
        self.repo.save_access(portal.hub_id, sealed, _expiry(now, grant.expires_in_s))
        return grant.access_token, sealed


def _expiry(now: datetime, expires_in_s: int) -> datetime:
    return now + timedelta(seconds=expires_in_s)
