"""HubSpot's OAuth 2.0 endpoints for the sandbox's member portals.

``OAuthServer`` is the state (codes, access and refresh tokens, which portal each belongs to);
``oauth_routes`` exposes it the way HubSpot does:

* ``GET /oauth/authorize?client_id&redirect_uri&scope&state`` auto-approves: it picks the portal
  queued with ``approve_next`` (else the first member portal without an install), and answers 302
  to ``redirect_uri?code=...&state=...``. An unknown client id or a missing redirect URI is a 400.
* ``POST /oauth/v1/token`` (form body) with ``grant_type`` ``authorization_code`` (``code``,
  ``redirect_uri``) or ``refresh_token`` (``refresh_token``), both with ``client_id`` and
  ``client_secret``: ``{"access_token", "refresh_token", "expires_in", "token_type": "bearer",
  "token_use": "access_token", "hub_id", "scopes"}``. Errors are 400 with HubSpot's token-endpoint
  body ``{"status": "BAD_AUTH_CODE" | "BAD_REFRESH_TOKEN" | "BAD_CLIENT_ID" |
  "BAD_CLIENT_SECRET" | "BAD_REDIRECT_URI" | "BAD_GRANT_TYPE", "message", "correlationId"}``.
* ``GET /oauth/v1/access-tokens/{token}``: ``{"token", "hub_id", "app_id", "scopes",
  "expires_in", "token_type", "user_id", "hub_domain", "user"}``; 404 for unknown or expired
  tokens.

Codes are single-use and live 10 minutes; a refresh token stays valid until the portal uninstalls
the app (``revoke``); each refresh issues a new access token and keeps the refresh token.
Access tokens live ``access_token_lifetime_s`` (HubSpot: 1800 s), short in tests to see refreshes.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sandbox.http import json_response

__all__ = ["DEFAULT_SCOPES", "OAuthConfig", "OAuthError", "OAuthServer", "oauth_routes"]

DEFAULT_SCOPES = (
    "oauth",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
)
CODE_LIFETIME_S = 600


@dataclass(slots=True)
class OAuthConfig:
    """The public app as the sandbox knows it."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-oauth-secret"
    app_id: int = 1000001
    access_token_lifetime_s: int = 1800


class OAuthError(Exception):
    """A token-endpoint refusal: HTTP 400 with HubSpot's ``status`` code."""

    def __init__(self, status: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status

    def body(self) -> dict[str, str]:
        return {"status": self.status, "message": self.message,
                "correlationId": str(uuid.uuid4())}


@dataclass(slots=True)
class _Grant:
    hub_id: int
    scopes: tuple[str, ...]
    expires_at: float = 0.0
    redirect_uri: str = ""


@dataclass(slots=True)
class _Portal:
    hub_id: int
    internal_token: str  # the bearer the portal's own app accepts
    grantable: tuple[str, ...]
    refresh_tokens: set[str] = field(default_factory=set)


class OAuthServer:
    """Codes and tokens of every member portal; thread-safe. ``now_s`` is the clock (seconds)."""

    def __init__(self, config: OAuthConfig | None = None,
                 now_s: Callable[[], float] = time.time) -> None:
        self.config = config or OAuthConfig()
        self.now_s = now_s
        self._lock = threading.Lock()
        self._portals: dict[int, _Portal] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._queued: deque[int] = deque()
        self.token_requests = 0  # POST /oauth/v1/token calls answered (any outcome)

    # -- portals ------------------------------------------------------------------------------
    def add_portal(self, hub_id: int, internal_token: str,
                   grantable: Sequence[str] = DEFAULT_SCOPES) -> None:
        """Make ``hub_id`` installable; it grants at most ``grantable`` scopes."""
        with self._lock:
            self._portals[hub_id] = _Portal(hub_id, internal_token, tuple(grantable))

    def hub_ids(self) -> list[int]:
        with self._lock:
            return list(self._portals)

    def approve_next(self, hub_id: int) -> None:
        """The next authorize request installs the app in ``hub_id`` (tests, demo)."""
        with self._lock:
            if hub_id not in self._portals:
                raise KeyError(hub_id)
            self._queued.append(hub_id)

    def revoke(self, hub_id: int) -> None:
        """The portal uninstalled the app: its refresh and access tokens stop working."""
        with self._lock:
            portal = self._portals[hub_id]
            for token in portal.refresh_tokens:
                self._refresh.pop(token, None)
            portal.refresh_tokens.clear()
            for token in [t for t, g in self._access.items() if g.hub_id == hub_id]:
                del self._access[token]

    def expire_access_tokens(self, hub_id: int) -> None:
        """Age every access token of ``hub_id`` past its expiry (tests of refresh)."""
        with self._lock:
            for grant in self._access.values():
                if grant.hub_id == hub_id:
                    grant.expires_at = self.now_s() - 1

    # -- the flows ----------------------------------------------------------------------------
    def authorize(self, client_id: str, redirect_uri: str, scope: str) -> str:
        """Approve an install; returns the single-use code."""
        if client_id != self.config.client_id:
            raise OAuthError("BAD_CLIENT_ID", "unknown client_id")
        if not redirect_uri:
            raise OAuthError("BAD_REDIRECT_URI", "redirect_uri is required")
        with self._lock:
            hub_id = self._pick_portal()
            grantable = self._portals[hub_id].grantable
            scopes = tuple(s for s in scope.split() if s in grantable)
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Grant(hub_id, scopes, self.now_s() + CODE_LIFETIME_S,
                                       redirect_uri)
            return code

    def _pick_portal(self) -> int:
        if self._queued:
            return self._queued.popleft()
        for hub_id, portal in self._portals.items():
            if not portal.refresh_tokens:
                return hub_id
        raise OAuthError("NO_PORTAL", "every sandbox member portal has installed the app")

    def token(self, form: dict[str, str]) -> dict[str, object]:
        """``POST /oauth/v1/token``: a new access token (and the refresh token)."""
        with self._lock:
            self.token_requests += 1
            self._check_client(form)
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                grant, refresh = self._redeem_code(form), secrets.token_urlsafe(32)
                self._refresh[refresh] = _Grant(grant.hub_id, grant.scopes)
                self._portals[grant.hub_id].refresh_tokens.add(refresh)
            elif grant_type == "refresh_token":
                refresh = form.get("refresh_token", "")
                found = self._refresh.get(refresh)
                if found is None:
                    raise OAuthError("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
                grant = found
            else:
                raise OAuthError("BAD_GRANT_TYPE", f"unsupported grant_type {grant_type!r}")
            access = secrets.token_urlsafe(32)
            lifetime = self.config.access_token_lifetime_s
            self._access[access] = _Grant(grant.hub_id, grant.scopes, self.now_s() + lifetime)
            return {"access_token": access, "refresh_token": refresh, "expires_in": lifetime,
                    "token_type": "bearer", "token_use": "access_token", "hub_id": grant.hub_id,
                    "scopes": list(grant.scopes)}

    def _check_client(self, form: dict[str, str]) -> None:
        if form.get("client_id") != self.config.client_id:
            raise OAuthError("BAD_CLIENT_ID", "missing or unknown client_id")
        if not secrets.compare_digest(form.get("client_secret", ""), self.config.client_secret):
            raise OAuthError("BAD_CLIENT_SECRET", "missing or invalid client_secret")

    def _redeem_code(self, form: dict[str, str]) -> _Grant:
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires_at <= self.now_s():
            raise OAuthError("BAD_AUTH_CODE", "missing or unknown auth code")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("BAD_REDIRECT_URI", "redirect_uri does not match the authorize one")
        return grant

    def token_info(self, token: str) -> dict[str, object] | None:
        """``GET /oauth/v1/access-tokens/{token}``; None when unknown or expired."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.expires_at <= self.now_s():
                return None
            return {"token": token, "hub_id": grant.hub_id, "app_id": self.config.app_id,
                    "scopes": list(grant.scopes), "token_type": "access",
                    "expires_in": int(grant.expires_at - self.now_s()), "user_id": 1,
                    "user": "member@example.com", "hub_domain": f"portal-{grant.hub_id}.example"}

    def resolve(self, token: str) -> tuple[str, bool] | None:
        """The internal token of the portal an access token belongs to, and whether it is still
        valid; None for a token this server never issued (or revoked)."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None:
                return None
            return self._portals[grant.hub_id].internal_token, grant.expires_at > self.now_s()


def oauth_routes(server: OAuthServer) -> list[Route]:
    """The three HubSpot OAuth endpoints over ``server``."""

    async def authorize(request: Request) -> Response:
        query = request.query_params
        try:
            code = server.authorize(query.get("client_id", ""), query.get("redirect_uri", ""),
                                    query.get("scope", ""))
        except OAuthError as error:
            return json_response(error.body(), error.http_status)
        params = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode(params)}", status_code=302)

    async def token(request: Request) -> Response:
        # HubSpot reads the form body and, for client_secret and refresh_token, the query too.
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        for name in ("client_secret", "refresh_token"):
            if name in request.query_params and name not in fields:
                fields[name] = request.query_params[name]
        try:
            return json_response(server.token(fields))
        except OAuthError as error:
            return json_response(error.body(), error.http_status)

    async def token_info(request: Request) -> Response:
        info = server.token_info(request.path_params["token"])
        if info is None:
            body = {"status": "error", "message": "The OAuth token used to make this call "
                    "expired or does not exist", "correlationId": str(uuid.uuid4()),
                    "category": "EXPIRED_AUTHENTICATION"}
            return json_response(body, 404)
        return json_response(info)

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/v1/token", token, methods=["POST"]),
        Route("/oauth/v1/access-tokens/{token}", token_info, methods=["GET"]),
    ]
