"""``GET /admin/portals``: every member portal (member, hub id, connected/disconnected, last sync,
calls used, last error), behind the admin bearer token like the rest of ``/admin``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync.portals import list_portals
from sync.store import Store
from webhooks.admin import token_matches

__all__ = ["portals_admin_routes"]


def portals_admin_routes(store: Store, token: str | None) -> list[Route]:
    async def portals(request: Request) -> Response:
        if not token_matches(request.headers.get("authorization"), token):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        rows = await run_in_threadpool(list_portals, store)
        return JSONResponse({"portals": [
            {"member": r.member_code, "hub_id": r.hub_id, "status": r.status,
             "connected_at": r.connected_at.isoformat(),
             "last_sync_at": r.last_sync_at.isoformat() if r.last_sync_at else None,
             "calls_used": r.calls_used, "last_error": r.last_error} for r in rows]})

    return [Route("/admin/portals", portals, methods=["GET"])]
