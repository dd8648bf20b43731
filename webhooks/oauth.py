"""The public app's install routes: ``GET /oauth/install`` and ``GET /oauth/callback``.

``/oauth/install?state=...`` (the invite link) checks the signed state and redirects to HubSpot's
authorize page. ``/oauth/callback?code=...&state=...`` completes the install
(``sync.portals.connect.complete_install``: state, code exchange, token info, scopes, tokens
stored encrypted, first job queued) and answers a short page; every refusal is a 4xx (502 when
HubSpot's token endpoint is down) with a one-line reason and nothing stored. The blocking work
runs in a worker thread.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from config.settings import Settings
from sync.clock import Clock
from sync.portals.connect import ConnectError, complete_install, install_redirect
from sync.portals.oauth_client import OAuthClient
from sync.portals.repo import PortalRow
from sync.portals.vault import TokenVault
from sync.store import Store

__all__ = ["OAuthRoutes"]


def _page(title: str, text: str, status: int) -> HTMLResponse:
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title></head><body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
            "</body></html>")
    return HTMLResponse(body, status_code=status)


class OAuthRoutes:
    """The two routes over the program's settings and store (see module)."""

    def __init__(self, settings: Settings, store: Store, oauth: OAuthClient, vault: TokenVault,
                 clock: Clock, on_connected: Callable[[PortalRow], None] | None = None) -> None:
        self._settings = settings
        self._store = store
        self._oauth = oauth
        self._vault = vault
        self._clock = clock
        self._on_connected = on_connected

    def routes(self) -> list[Route]:
        return [Route("/oauth/install", self.install, methods=["GET"]),
                Route("/oauth/callback", self.callback, methods=["GET"])]

    async def install(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        try:
            target = install_redirect(self._settings.portals, state, self._clock.now())
        except ConnectError as exc:
            return _page("Install link not valid", str(exc), exc.http_status)
        return RedirectResponse(target, status_code=302)

    async def callback(self, request: Request) -> Response:
        query = request.query_params
        if "error" in query:
            reason = query.get("error_description") or query["error"]
            return _page("Install cancelled", f"HubSpot reported: {reason}", 400)
        code, state = query.get("code", ""), query.get("state", "")
        if not code or not state:
            return _page("Install failed", "the callback needs both code and state", 400)
        try:
            row = await run_in_threadpool(self._complete, state, code)
        except ConnectError as exc:
            return _page("Install failed", str(exc), exc.http_status)
        return _page("Portal connected",
                     f"HubSpot portal {row.hub_id} is now connected for partner "
                     f"{row.member_code}; the first sync is under way.", 200)

    def _complete(self, state: str, code: str) -> PortalRow:
        row = complete_install(self._settings.portals, self._store, self._settings.contract(),
                               self._oauth, self._vault, state=state, code=code,
                               now=self._clock.now())
        if self._on_connected is not None:
            self._on_connected(row)
        return row
