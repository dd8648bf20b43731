"""The demo's member portals: two members connect their own portals through the real OAuth flow
(invite link -> ``/oauth/install`` -> the sandbox's authorize page -> ``/oauth/callback``), a
commission shows up in the first member's portal, and a registration requested there comes back
decided. Everything goes through serve (receiver, router, portal worker), as in production.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from cli.demo.events import DemoError, Waiter
from config.contract import CrmContract
from config.settings import Settings
from sandbox.portals import PortalsApp
from sandbox.server import RunningSandbox
from sync.clock import SystemClock
from sync.portals.connect import invite
from sync.portals.repo import PortalRepo
from sync.store import Store

__all__ = ["NEW_DOMAIN", "pick_members", "play_member_portals", "portal_notes"]

NEW_DOMAIN = "demo-member-request.com"  # a prospect only the member's portal knows


def pick_members(store: Store, c: CrmContract, count: int = 2) -> list[str]:
    """Members by commission earned (most first), so the first has a commission to show."""
    earned: dict[str, Decimal] = {}
    for written in store.load_outputs("deals").values():
        code = written.get(c.attributed_to)
        amount = written.get(c.commission_earned)
        if code and amount:
            earned[code] = earned.get(code, Decimal(0)) + Decimal(amount)
    codes = sorted(earned, key=lambda k: (-earned[k], k))
    for rec in store.iter_records("companies"):
        code = rec.properties.get(c.code)
        if code and rec.properties.get(c.program_type) and code not in codes:
            codes.append(code)
    if len(codes) < count:
        raise DemoError("the sandbox data has fewer than two members")
    return codes[:count]


@dataclass(slots=True)
class _Portal:
    code: str
    hub_id: int
    connect_s: float = 0.0


def _connect(settings: Settings, store: Store, sandbox: RunningSandbox, serve_url: str,
             portal: _Portal) -> None:
    link = invite(settings.portals, store, settings.contract(), portal.code, SystemClock().now())
    apps = sandbox.app
    assert isinstance(apps, PortalsApp)
    started = time.monotonic()
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        to_hubspot = client.get(link)
        if to_hubspot.status_code != 302:
            raise DemoError(f"/oauth/install answered {to_hubspot.status_code}")
        apps.oauth.approve_next(portal.hub_id)  # the member picks this portal and approves
        back = client.get(to_hubspot.headers["location"])
        callback = client.get(back.headers["location"])
        if callback.status_code != 200 or not back.headers["location"].startswith(serve_url):
            raise DemoError(f"/oauth/callback answered {callback.status_code}: {callback.text}")
    portal.connect_s = time.monotonic() - started


def _company(sandbox: RunningSandbox, hub_id: int, domain: str) -> dict[str, str | None] | None:
    apps = sandbox.app
    assert isinstance(apps, PortalsApp)
    state = apps.member(hub_id).state
    store = state.types["companies"]
    with state.lock:
        for rec in list(store.records.values()):
            if store.raw(rec, "domain") == domain:
                return {n: store.raw(rec, n) for n in store.props if n.startswith("partner_")}
    return None


def _commission(sandbox: RunningSandbox, hub_id: int, c: CrmContract) -> dict[str, Any] | None:
    apps = sandbox.app
    assert isinstance(apps, PortalsApp)
    state = apps.member(hub_id).state
    store = state.types["companies"]
    with state.lock:
        for rec in list(store.records.values()):
            if store.raw(rec, c.commission_earned):
                return {"domain": store.raw(rec, "domain"),
                        "plan": store.raw(rec, c.commission_plan),
                        "earned": store.raw(rec, c.commission_earned),
                        "paid": store.raw(rec, c.commission_paid),
                        "next_payout_date": store.raw(rec, c.member_next_payout_date),
                        "next_payout_amount": store.raw(rec, c.member_next_payout_amount)}
    return None


def play_member_portals(settings: Settings, store: Store, sandbox: RunningSandbox,
                        serve_url: str, as_of: date, waiter: Waiter) -> dict[str, Any]:
    """Connect two members' portals, show a commission, request and get a decision back."""
    apps = sandbox.app
    assert isinstance(apps, PortalsApp)
    c, repo = settings.contract(), PortalRepo(store)
    hubs = sorted(apps.members)
    portals = [_Portal(code, hub) for code, hub in zip(pick_members(store, c), hubs, strict=False)]
    for portal in portals:
        _connect(settings, store, sandbox, serve_url, portal)

    def all_synced() -> bool:
        rows = [repo.get(p.hub_id) for p in portals]
        return all(r is not None and r.last_sync_at is not None for r in rows)

    waiter.until("the first sync of the member portals", all_synced)
    first = portals[0]
    commission = _commission(sandbox, first.hub_id, c)
    state = apps.member(first.hub_id).state
    companies = state.store("companies")
    edited = time.monotonic()
    state.create(companies, {"name": "Demo Member Request", "domain": NEW_DOMAIN,
                             c.registration_requested_at: as_of.isoformat()})
    waiter.until("the member's request to come back decided",
                 lambda: bool((_company(sandbox, first.hub_id, NEW_DOMAIN) or {}).get(
                     c.registration_status)))
    decided = _company(sandbox, first.hub_id, NEW_DOMAIN) or {}
    return {
        "portals": [{"member": p.code, "hub_id": p.hub_id, "connect_s": round(p.connect_s, 2)}
                    for p in portals],
        "commission_in_member_portal": commission,
        "member_request": {
            "member": first.code, "domain": NEW_DOMAIN, "requested_at": as_of.isoformat(),
            "status": decided.get(c.registration_status),
            "reason": decided.get(c.registration_reason),
            "expires_at": decided.get(c.registration_expires_at),
            "latency_s": round(time.monotonic() - edited, 2)},
    }


def portal_notes(result: dict[str, Any]) -> list[str]:
    """The step's lines for the console."""
    lines = [f"{p['member']} connected portal {p['hub_id']} in {p['connect_s']:.2f} s"
             for p in result["portals"]]
    commission = result["commission_in_member_portal"]
    if commission:
        lines.append(f"commission in {result['portals'][0]['member']}'s portal on "
                     f"{commission['domain']}: plan {commission['plan']}, earned "
                     f"{commission['earned']}, paid {commission['paid']}, next payout "
                     f"{commission['next_payout_amount']} on {commission['next_payout_date']}")
    request = result["member_request"]
    reason = f" ({request['reason']})" if request["reason"] else ""
    lines.append(f"{request['member']} requested {request['domain']} in its own portal: "
                 f"{request['status']}{reason}, expires {request['expires_at'] or '-'}, "
                 f"back in {request['latency_s']:.2f} s")
    return lines
