"""A member portal's API access: a valid access token (refreshed before it expires) and a
``Gateway`` paced by that portal's own budget.

Budgets are per portal (public apps: 110 requests per 10 s per installing account), so each portal
gets its own ``RateLimiter``, kept for the life of the process so consecutive jobs share it.
A refresh HubSpot refuses with ``BAD_REFRESH_TOKEN`` disconnects the portal (``Disconnected``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings
from sync.clock import Clock
from sync.gateway import Gateway, GatewayMetrics, RateLimiter
from sync.portals.oauth_client import OAuthClient, RefreshRevoked
from sync.portals.repo import CONNECTED, PortalRepo, PortalRow
from sync.portals.vault import TokenVault, VaultError

__all__ = ["Disconnected", "PortalSessions"]


class Disconnected(RuntimeError):
    """The portal is (now) disconnected: nothing can be done until it is connected again."""


class PortalSessions:
    """Hands out gateways for member portals (see module). Thread-safe."""

    def __init__(self, settings: Settings, repo: PortalRepo, http: httpx.Client, clock: Clock,
                 *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.repo = repo
        self.http = http
        self.clock = clock
        self.vault = TokenVault(settings.portals)
        self.oauth = OAuthClient(settings.portals, settings.hubspot.base_url, http)
        self._monotonic = monotonic
        self._sleep = sleep
        self._limiters: dict[int, RateLimiter] = {}
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
        valid for at least the refresh margin."""
        portal = portal if portal is not None else self.repo.get(hub_id)
        if portal is None or portal.status != CONNECTED:
            raise Disconnected(f"portal {hub_id} is not connected")
        token = self.access_token(portal)
        return Gateway(self.hubspot_settings(token), http=self.http, limiter=self.limiter(hub_id),
                       metrics=GatewayMetrics(), sleep=self._sleep)

    def access_token(self, portal: PortalRow) -> str:
        try:
            return self._access_token(portal)
        except VaultError as exc:
            self.repo.mark_disconnected(portal.hub_id, str(exc))
            raise Disconnected(f"portal {portal.hub_id}: {exc}") from None

    def _access_token(self, portal: PortalRow) -> str:
        margin = timedelta(seconds=self.settings.portals.refresh_margin_s)
        now = self.clock.now()
        expires = portal.access_expires_at
        if portal.access_token and expires is not None and expires - margin > now:
            return self.vault.open(portal.access_token)
        try:
            grant = self.oauth.refresh(self.vault.open(portal.refresh_token))
        except RefreshRevoked as exc:
            self.repo.mark_disconnected(portal.hub_id, f"refresh refused: {exc.status}")
            raise Disconnected(f"portal {portal.hub_id} refused the refresh ({exc.status}): "
                               "the member must install the app again") from None
        self.repo.save_access(portal.hub_id, self.vault.seal(grant.access_token),
                              _expiry(now, grant.expires_in_s))
        return grant.access_token


def _expiry(now: datetime, expires_in_s: int) -> datetime:
    return now + timedelta(seconds=expires_in_s)
