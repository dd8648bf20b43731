"""Choosing the records the demo's live events act on, from the mirror after the full sync.

Pure functions over ``MirrorRecord``s (what the engine knows and what the records show). What a
reader can rely on: ``usable_members`` are members that could register a domain at ``as_of``
(joined, not exited, below capacity), those with paperwork done first; ``pick_prospect`` is a
plain company (not a member, no request, no registration, not a customer, not owned by direct
sales) whose domain no other record uses; ``pick_open_deal`` is an open deal shared by a usable
member that registered its domain (R4.1) recently enough to be active, with no subscription
yet, so closing it qualifies under R5.1. Every choice is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from config.contract import CrmContract
from sync.store import MirrorRecord

__all__ = ["ACTIVE_STATUSES", "DealChoice", "pick_open_deal", "pick_prospect", "usable_members"]

ACTIVE_STATUSES = frozenset({"registered", "expiring_soon", "reregistered"})
CLOSED_STAGES = frozenset({"closedwon", "closedlost"})


@dataclass(frozen=True, slots=True)
class DealChoice:
    deal_id: str
    member: str
    company_id: str


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def usable_members(companies: Iterable[MirrorRecord], c: CrmContract, as_of: date) -> list[str]:
    """Codes of members able to register at ``as_of`` (see module), best first."""
    found: list[tuple[bool, str]] = []
    for rec in companies:
        p = rec.properties
        code, joined = p.get(c.code), _date(p.get(c.joined_at))
        limit, used = _int(p.get(c.capacity_limit)), _int(p.get(c.capacity_used)) or 0
        if not p.get(c.program_type) or not code or p.get(c.program_exit):
            continue
        if joined is None or joined > as_of or limit is None or used >= limit:
            continue
        found.append((not p.get(c.paperwork_completed_at), code))
    return [code for _, code in sorted(found)]


def _domain(rec: MirrorRecord) -> str | None:
    raw = rec.properties.get("domain") or ""
    return raw.strip().lower() or None


def pick_prospect(
    companies: Sequence[MirrorRecord], contacts: Iterable[MirrorRecord], c: CrmContract,
    direct_sales_owner_ids: Iterable[str],
) -> MirrorRecord | None:
    """A plain company whose domain is used by no other company or contact (see module)."""
    direct = set(direct_sales_owner_ids)
    uses = Counter(d for rec in companies if (d := _domain(rec)))
    for rec in contacts:
        email = rec.properties.get("email") or ""
        if "@" in email:
            uses[email.rsplit("@", 1)[1].strip().lower()] += 1
    for rec in sorted(companies, key=lambda r: int(r.object_id)):
        p, domain = rec.properties, _domain(rec)
        if domain is None or uses[domain] != 1 or "." not in domain:
            continue
        if any(p.get(n) for n in (c.program_type, c.registration_requested_by,
                                  c.registration_status, c.registered_domain)):
            continue
        if p.get("lifecyclestage") == "customer" or p.get("hubspot_owner_id") in direct:
            continue
        return rec
    return None


def primary_company(deal: MirrorRecord, primary_type_ids: Iterable[int]) -> str | None:
    """The deal's primary company id: the ref carrying a primary type id, else the only one."""
    refs = deal.associations.get("companies", [])
    primary = {str(t) for t in primary_type_ids}
    for ref in refs:
        ref_id, _, types = ref.partition(":")
        if primary & set(types.split(",")):
            return ref_id
    return refs[0].partition(":")[0] if len(refs) == 1 else None


def pick_open_deal(
    deals: Iterable[MirrorRecord], c: CrmContract, members: Sequence[str], *, as_of: date,
    expiry_days: int, primary_type_ids: Iterable[int],
) -> DealChoice | None:
    """An open shared deal that closing at ``as_of`` would attribute to its member (see
    module): its R4 type is ``registered`` and the registration it made (at the deal's create
    date, R4.1) has not expired. The best member (``members`` order) first, then the lowest id."""
    rank = {code: i for i, code in enumerate(members)}
    type_ids = tuple(primary_type_ids)
    found: list[tuple[int, int, DealChoice]] = []
    for deal in deals:
        p = deal.properties
        member, created = p.get(c.shared_by), _date(p.get("createdate"))
        if member not in rank or p.get("dealstage") in CLOSED_STAGES or created is None:
            continue
        if p.get(c.deal_type) != "registered" or (as_of - created).days >= expiry_days:
            continue
        if deal.associations.get("subscriptions") or p.get(c.attribution_override):
            continue
        if (company_id := primary_company(deal, type_ids)) is not None:
            found.append((rank[member], int(deal.object_id),
                          DealChoice(deal.object_id, member, company_id)))
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None
