"""Which HubSpot portal the console links records into.

In order: the portal id the sync engine stored for the configured token (read from HubSpot's
account-info API on the first run, store key ``hubspot:portal_id:<token fingerprint>``), else
``PARTNER_SYNC_CONSOLE__PORTAL_ID``, else the portal the newest webhook event named. The stored
id is what the token belongs to, as HubSpot said; an event's is only what arrived last. The
stored id, once found, is remembered (a token's portal does not change); until then each call
reads that one key, so the first sync's id replaces a fallback at once. An event's id is
remembered too, as a fallback only.
"""

from __future__ import annotations

from collections.abc import Callable

from config.settings import ConsoleSettings, Settings
from sync.engine.engine import PORTAL_ID_KEY
from sync.gateway import token_fingerprint
from sync.store import Store

__all__ = ["portal_id_lookup", "stored_portal_key"]


def stored_portal_key(settings: Settings) -> str | None:
    """The store key of the configured token's portal id; None without a token."""
    token = settings.hubspot.access_token
    if token is None:
        return None
    return PORTAL_ID_KEY + token_fingerprint(token.get_secret_value())


def _stored(store: Store, key: str | None) -> int | None:
    if key is None:
        return None
    raw = store.get_checkpoint(key)
    # ASCII digits only: "²".isdigit() is True but int() refuses it.
    if raw is None or not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        return None
    return int(raw)


def portal_id_lookup(
    store: Store, settings: ConsoleSettings, stored_key: str | None
) -> Callable[[], int | None]:
    """A function giving the portal id (see module), or None while none is known."""
    stored: list[int] = []
    seen: list[int] = []

    def portal_id() -> int | None:
        if not stored and (value := _stored(store, stored_key)) is not None:
            stored.append(value)
        if stored:
            return stored[0]
        if settings.portal_id:
            return settings.portal_id
        if not seen and (newest := store.newest_portal_id()) is not None:
            seen.append(newest)
        return seen[0] if seen else None

    return portal_id
