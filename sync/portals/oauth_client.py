"""HubSpot's OAuth token endpoints, as the worker calls them (one ``httpx.Client`` injected).

Failures are classified once:

* ``RefreshRevoked``: 400 ``BAD_REFRESH_TOKEN`` on a refresh (app uninstalled, token revoked);
  the portal is then disconnected;
* ``OAuthRefused``: any other 4xx (bad code, client id, secret, redirect URI, unknown token);
* ``OAuthUnavailable``: 5xx, 429, a timeout or a connection failure; worth retrying later.

No message carries a token or the client secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from config.settings import PortalSettings

__all__ = ["OAuthClient", "OAuthError", "OAuthRefused", "OAuthUnavailable", "RefreshRevoked",
           "TokenGrant", "TokenInfo"]


class OAuthError(Exception):
    """Base of the token endpoints' failures."""


class OAuthRefused(OAuthError):
    """HubSpot refused the request (4xx); ``status`` is HubSpot's code, e.g. BAD_AUTH_CODE."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class RefreshRevoked(OAuthRefused):
    """The refresh token is no longer valid: the portal must be connected again."""


class OAuthUnavailable(OAuthError):
    """The token endpoint did not answer usefully (5xx, 429, timeout); try again later."""


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in_s: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    hub_id: int
    scopes: tuple[str, ...]
    expires_in_s: int


class OAuthClient:
    """``exchange_code``, ``refresh``, ``token_info`` against ``base_url`` (HubSpot's API)."""

    def __init__(self, settings: PortalSettings, base_url: str, http: httpx.Client) -> None:
        self._settings = settings
        self._base = base_url.rstrip("/")
        self._http = http

    def _client_fields(self) -> dict[str, str]:
        secret = self._settings.client_secret
        return {"client_id": self._settings.client_id or "",
                "client_secret": secret.get_secret_value() if secret else ""}

    def exchange_code(self, code: str) -> TokenGrant:
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self._settings.redirect_url or "", **self._client_fields()}
        return _grant(self._post(form, refreshing=False))

    def refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                **self._client_fields()}
        return _grant(self._post(form, refreshing=True))

    def token_info(self, access_token: str) -> TokenInfo:
        data = self._send("GET", f"/oauth/v1/access-tokens/{access_token}", refreshing=False)
        try:
            return TokenInfo(int(data["hub_id"]), tuple(str(s) for s in data.get("scopes", ())),
                             int(data.get("expires_in", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise OAuthUnavailable("token info answer without hub_id") from exc

    def _post(self, form: dict[str, str], *, refreshing: bool) -> dict[str, Any]:
        return self._send("POST", "/oauth/v1/token", refreshing=refreshing, data=form)

    def _send(self, method: str, path: str, *, refreshing: bool,
              data: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            answer = self._http.request(method, self._base + path, data=data)
        except httpx.TransportError as exc:
            raise OAuthUnavailable(f"{path.split('/')[3]} endpoint unreachable: "
                                   f"{type(exc).__name__}") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise OAuthUnavailable(f"token endpoint answered {answer.status_code}")
        body = _json(answer)
        if answer.status_code >= 400:
            status = str(body.get("status") or body.get("category") or answer.status_code)
            message = str(body.get("message") or "refused")
            if refreshing and status == "BAD_REFRESH_TOKEN":
                raise RefreshRevoked(status, message)
            raise OAuthRefused(status, message)
        return body


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _grant(data: dict[str, Any]) -> TokenGrant:
    try:
        return TokenGrant(str(data["access_token"]), str(data["refresh_token"]),
                          int(data["expires_in"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise OAuthUnavailable("token answer without access_token/refresh_token") from exc
