"""Console sessions: a signed cookie holding a session id, a CSRF token and an expiry.

The cookie is signed with itsdangerous under a key derived from the admin token, so changing
the token ends every session, and replicas sharing the token accept each other's sessions.
Expiry is checked against the injected clock. A visitor gets an anonymous session (for the
login form's CSRF token); logging in issues a brand-new session id and CSRF token, so an id
planted before login is never the one that gets authenticated. Logout revokes the id in this
process and clears the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from sync.clock import Clock

__all__ = ["COOKIE", "Session", "SessionCodec", "csrf_matches", "token_matches"]

COOKIE = "partner_sync_console"
_SALT = "partner-sync console session"
_KEY_CONTEXT = b"partner-sync console session key v1"


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    csrf: str
    authenticated: bool
    expires_at: datetime


def token_matches(given: str, token: str | None) -> bool:
    """True when ``given`` is the admin token; time does not depend on where they differ."""
    if not token:
        return False
    expected = hashlib.sha256(token.encode()).digest()
    presented = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(expected, presented)


def csrf_matches(session: Session | None, given: str | None) -> bool:
    if session is None or not given:
        return False
    return hmac.compare_digest(session.csrf.encode(), given.encode("utf-8", "replace"))


class SessionCodec:
    """Issues, signs, reads and revokes sessions. ``load`` returns None for anything that is
    not a valid, unexpired, unrevoked session (tampered, foreign key, expired, logged out)."""

    def __init__(self, admin_token: str | None, clock: Clock, lifetime: timedelta) -> None:
        # Without a token there is nothing to log in with; a random key keeps the codec usable.
        secret = admin_token.encode() if admin_token else secrets.token_bytes(32)
        key = hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).hexdigest()
        self._serializer = URLSafeSerializer(key, salt=_SALT)
        self._clock = clock
        self.lifetime = lifetime
        self._revoked: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def issue(self, *, authenticated: bool) -> Session:
        """A new session with a fresh random id and CSRF token."""
        return Session(secrets.token_urlsafe(24), secrets.token_urlsafe(24), authenticated,
                       self._clock.now() + self.lifetime)

    def dump(self, session: Session) -> str:
        return str(self._serializer.dumps({
            "sid": session.sid, "csrf": session.csrf, "auth": session.authenticated,
            "exp": int(session.expires_at.timestamp()),
        }))

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie)
        except BadSignature:
            return None
        session = _session(data)
        if session is None or session.expires_at <= self._clock.now():
            return None
        with self._lock:
            if session.sid in self._revoked:
                return None
        return session

    def revoke(self, session: Session) -> None:
        now = self._clock.now()
        with self._lock:
            self._revoked = {s: t for s, t in self._revoked.items() if t > now}
            self._revoked[session.sid] = session.expires_at


def _session(data: object) -> Session | None:
    if not isinstance(data, dict):
        return None
    sid, csrf, auth, exp = (data.get(k) for k in ("sid", "csrf", "auth", "exp"))
    if not (isinstance(sid, str) and isinstance(csrf, str) and isinstance(auth, bool)
            and isinstance(exp, int)):
        return None
    try:
        expires_at = datetime.fromtimestamp(exp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return Session(sid, csrf, auth, expires_at)
