"""Which records matter, shared by the incremental, targeted and per-type reads.

A record matters (DESIGN.md "Data flow" 1) when it is:

- a deal (every deal is evaluated);
- a company or contact carrying any contract property (membership, a request, an output): a
  record whose request was cleared still carries the outputs to clear;
- a company or contact the mirror already holds (a deal's company, a carrier that stopped
  carrying anything: its mirror copy must be replaced so the rules stop seeing the old request);
- a subscription the mirror holds, or one linked to a deal (a new subscription of a deal).

Also here: the search filter groups of carriers and members, the window filters of incremental
reads, and the helper that links new subscriptions to the deals that need their associations
re-read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from config.contract import CrmContract
from mappers.records import RawRecord
from sync.engine.mirror import from_crm, from_mirror
from sync.engine.properties import read_properties
from sync.gateway import Gateway
from sync.store import Store

__all__ = [
    "MODIFIED_PROPERTY",
    "carrier_groups",
    "has",
    "link_subscriptions",
    "matters",
    "search_records",
    "window",
]

MODIFIED_PROPERTY: dict[str, str] = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "subscriptions": "hs_lastmodifieddate",
}
"""The last-modified property searched per type (contacts differ from everything else)."""

SEARCH_PAGE = 200


def has(name: str) -> dict[str, Any]:
    """A filter group: ``name`` has a value."""
    return {"filters": [{"propertyName": name, "operator": "HAS_PROPERTY"}]}


def carrier_groups(contract: CrmContract) -> list[dict[str, Any]]:
    """OR-ed groups matching carriers: a request, or a status still to keep or clear."""
    c = contract
    return [has(c.registration_requested_by), has(c.registration_requested_at),
            has(c.registration_status)]


def window(
    object_type: str, groups: Sequence[Mapping[str, Any]], start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    """``groups`` (or one empty group) each AND-ed with ``start_ms <= modified <= end_ms``.

    Bounds are epoch ms, inclusive both ends: a record modified exactly at a run's start is read
    by that run and again (harmlessly, the diff is empty) by the next one's lookback.
    """
    prop = MODIFIED_PROPERTY[object_type]
    bounds = [{"propertyName": prop, "operator": "GTE", "value": str(start_ms)},
              {"propertyName": prop, "operator": "LTE", "value": str(end_ms)}]
    return [{"filters": [*g.get("filters", ()), *bounds]} for g in (groups or [{}])]


def search_records(
    gateway: Gateway, object_type: str, contract: CrmContract,
    groups: Sequence[Mapping[str, Any]],
) -> dict[str, RawRecord]:
    """Every match of a search (past the 10,000 cap), by id, read with the engine's properties."""
    props = read_properties(object_type, contract)
    found: dict[str, RawRecord] = {}
    for page in gateway.search_all(object_type, groups, props, limit=SEARCH_PAGE):
        found.update((r.id, from_crm(object_type, r)) for r in page.records)
    return found


def matters(record: RawRecord, contract: CrmContract, mirrored: bool) -> bool:
    """Whether a company, contact or deal read from HubSpot belongs in the mirror (see module).

    Subscriptions are decided by ``link_subscriptions`` (they need their deals).
    """
    if record.object_type == "deals" or mirrored:
        return True
    names = _contract_names(contract, record.object_type)
    return any(record.properties.get(n) for n in names)


def _contract_names(contract: CrmContract, object_type: str) -> list[str]:
    return [s.name for s in contract.property_specs() if s.object_type == object_type]


def link_subscriptions(
    gateway: Gateway, store: Store, subscriptions: Iterable[RawRecord]
) -> tuple[list[RawRecord], list[RawRecord]]:
    """The subscriptions that matter, and the mirrored deals whose links must be re-read.

    Mirrored subscriptions matter as they are. For the others one associations call per 100
    finds their deals: a subscription linked to a mirrored deal matters, and that deal is
    returned so the expansion re-reads its associations (a new link need not bump the deal's
    last-modified time).
    """
    subs = {s.object_id: s for s in subscriptions}
    if not subs:
        return [], []
    mirrored = store.get_records("subscriptions", subs).keys()
    kept = [s for i, s in subs.items() if i in mirrored]
    new = [i for i in subs if i not in mirrored]
    if not new:
        return kept, []
    links = gateway.read_associations("subscriptions", "deals", new)
    deal_ids = {link.to_id for targets in links.values() for link in targets}
    deals = store.get_records("deals", deal_ids)
    kept += [subs[i] for i, targets in links.items()
             if any(link.to_id in deals for link in targets)]
    return kept, [from_mirror(row) for row in deals.values()]
