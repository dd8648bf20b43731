"""``doctor``'s member-portal check: with the public app configured, every member portal should
be connected; a disconnected one (app uninstalled, token revoked, key changed) is a warning with
the fix (a new invite)."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from cli.doctor_checks import Check
from cli.portals_wiring import portals_enabled
from config.settings import Settings
from sync.portals import list_portals
from sync.store import Store

__all__ = ["member_portal_checks"]

NAME = "member portals"


def member_portal_checks(settings: Settings, store_ok: bool) -> list[Check]:
    """No check when member portals are off or the store is not usable (reported already)."""
    if not portals_enabled(settings) or not store_ok:
        return []
    store = Store.from_url(settings.store.url)
    try:
        rows = list_portals(store)
    except SQLAlchemyError:
        return [Check(NAME, "warn", "the store has no member-portal tables yet",
                      "run `partner-sync init`: it brings the store schema to the newest revision")]
    finally:
        store.close()
    down = [r for r in rows if r.status != "connected"]
    if not down:
        return [Check(NAME, "ok", f"{len(rows)} connected")]
    names = ", ".join(f"{r.member_code} ({r.last_error or 'disconnected'})" for r in down)
    return [Check(NAME, "warn", f"{len(down)} of {len(rows)} disconnected: {names}",
                  "send each of them a new install link: partner-sync portals invite CODE")]
