"""Member portals: each partner's own HubSpot portal kept in sync, both ways.

Connect (``connect``: invite, install, OAuth callback; ``session``: tokens refreshed, gateways
per portal), out (``view`` + ``outbound``), in (``inbound``), one portal's run
(``portal_sync``), jobs (``worker``), routing of webhook events (``routing``) and the store
tables (``repo``). ``list_portals(store)`` is the read the admin API and console use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sync.store import Store

__all__ = ["PortalSummary", "list_portals"]


@dataclass(frozen=True, slots=True)
class PortalSummary:
    """What an operator sees of one member portal (no token, ever)."""

    hub_id: int
    member_code: str
    status: str  # connected | disconnected
    connected_at: datetime
    last_sync_at: datetime | None
    calls_used: int
    last_error: str | None


def list_portals(store: Store) -> list[PortalSummary]:
    """Every member portal, by member code."""
    from sync.portals.repo import PortalRepo

    return [PortalSummary(p.hub_id, p.member_code, p.status, p.connected_at, p.last_sync_at,
                          p.calls_used, p.last_error) for p in PortalRepo(store).all()]
