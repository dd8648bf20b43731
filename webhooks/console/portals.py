"""The member portals the console lists.

``member_portals`` is the one place the console asks for them: ``sync.portals.list_portals``
mapped to ``PortalRow`` (none connected: the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.portals import list_portals
from sync.store import Store

__all__ = ["PortalRow", "member_portals"]


@dataclass(frozen=True, slots=True)
class PortalRow:
    member_code: str
    portal_id: int
    status: str  # connected | disconnected
    last_sync_at: datetime | None


def member_portals(store: Store) -> list[PortalRow]:
    """Every member portal with its connection status and last sync."""
    return [PortalRow(p.member_code, p.hub_id, p.status, p.last_sync_at)
            for p in list_portals(store)]
