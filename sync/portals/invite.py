"""The signed, expiring ``state`` of an install link: it names the member and nothing else.

``state = base64url(payload) + "." + base64url(HMAC-SHA256(client secret, payload))`` with
``payload = {"m": member code, "exp": unix seconds, "n": nonce}``. The callback accepts a state
only when the signature matches (constant-time compare) and ``exp`` has not passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from config.settings import PortalSettings

__all__ = ["InvalidState", "authorize_url", "install_link", "read_state", "sign_state"]


class InvalidState(ValueError):
    """The state is forged, malformed or expired (the message says which, never the secret)."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(settings: PortalSettings) -> bytes:
    if settings.client_secret is None:
        raise InvalidState("PARTNER_SYNC_PORTALS__CLIENT_SECRET is not set")
    return b"install-state:" + settings.client_secret.get_secret_value().encode()


def sign_state(settings: PortalSettings, member_code: str, now: datetime) -> str:
    expires = now + timedelta(hours=settings.invite_ttl_hours)
    payload = json.dumps({"m": member_code, "exp": int(expires.timestamp()),
                          "n": secrets.token_hex(8)}, separators=(",", ":")).encode()
    mac = hmac.new(_key(settings), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def read_state(settings: PortalSettings, state: str, now: datetime) -> str:
    """The member code a valid state names; ``InvalidState`` otherwise."""
    head, _, tail = state.partition(".")
    try:
        payload, mac = _unb64(head), _unb64(tail)
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidState("the install state is malformed") from exc
    expected = hmac.new(_key(settings), payload, hashlib.sha256).digest()
    if not tail or not hmac.compare_digest(mac, expected):
        raise InvalidState("the install state's signature does not match (forged or altered)")
    document = json.loads(payload)
    if int(document["exp"]) <= now.timestamp():
        raise InvalidState("the install link has expired: ask for a new invite")
    return str(document["m"])


def install_link(settings: PortalSettings, member_code: str, now: datetime) -> str:
    """The link a member opens to install the app (``GET /oauth/install?state=...``)."""
    if not settings.install_url:
        raise InvalidState("PARTNER_SYNC_PORTALS__INSTALL_URL is not set")
    return f"{settings.install_url}?{urlencode({'state': sign_state(settings, member_code, now)})}"


def authorize_url(settings: PortalSettings, state: str) -> str:
    """HubSpot's authorize URL for this app, carrying ``state`` through the install."""
    query = {"client_id": settings.client_id or "", "redirect_uri": settings.redirect_url or "",
             "scope": " ".join(settings.scopes), "state": state}
    return f"{settings.authorize_url}?{urlencode(query)}"
