"""The member portals the console lists.

``member_portals`` is the one place the console asks for them: until member portals can be
connected there are none, and the page says so. When the store learns them, this function
returns ``sync.portals.list_portals(store)`` mapped to ``PortalRow`` and nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.store import Store

__all__ = ["PortalRow", "member_portals"]


@dataclass(frozen=True, slots=True)
class PortalRow:
    member_code: str
    portal_id: int
    status: str  # connected | disconnected
    last_sync_at: datetime | None


def member_portals(store: Store) -> list[PortalRow]:
    """Every member portal with its connection status and last sync (none connected yet)."""
    del store  # read once member portals exist
    return []
