"""A full read of one object type (the admin's "resync deals"), reconciling that type's mirror.

What is read per type (the same records the full sync reads of it):

- ``companies``: members and carriers by search, and every other company the mirror holds (the
  companies deals and contacts point at) by batch read;
- ``contacts``: carriers by search, with their companies when the mirror lacks them;
- ``deals``: every deal (search, or the list endpoint when cheaper: ``full.deal_reader``), with
  their companies when the mirror lacks them and their subscriptions;
- ``subscriptions``: the subscription links of every mirrored deal (associations v4), then every
  linked subscription with ``hs_mrr`` history; the deals' links are updated in the mirror.

Mirror rows of the type that the read did not see are removed (deleted, archived, or no longer
carrying anything), after the mirrored records linked to them are re-read with their links (a
merge or archive announces no association change). Other types' rows are only added to, except
partners HubSpot no longer has either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mappers.records import AssociationRef, RawRecord
from sync.engine.full import LIST_PAGE, deal_reader
from sync.engine.mirror import from_crm, from_mirror, to_mirror
from sync.engine.properties import OBJECT_TYPES, read_properties
from sync.engine.related import Expansion, expand, fetch_records, reread_partners
from sync.engine.selection import carrier_groups, has, search_records

if TYPE_CHECKING:
    from sync.engine.engine import SyncEngine

__all__ = ["TypeRead", "read_type"]


@dataclass(frozen=True, slots=True)
class TypeRead:
    """The records of the pass (``expansion``) and how many mirror rows were removed."""

    object_type: str
    expansion: Expansion
    read: int
    deleted: int

    def all_records(self) -> list[RawRecord]:
        return list(self.expansion.all_records())

    def counts(self) -> dict[str, int]:
        out = {t: self.expansion.fetched[t] for t in OBJECT_TYPES}
        out[self.object_type] += self.read
        return out


def read_type(engine: SyncEngine, object_type: str, *, write_mirror: bool = True) -> TypeRead:
    """Read every record of ``object_type`` that matters (see module) and reconcile."""
    reader = {"companies": _companies, "contacts": _contacts, "deals": _deals,
              "subscriptions": _subscriptions}[object_type]
    records = reader(engine)
    if object_type == "subscriptions":
        expansion = _subscription_pass(engine, records, write_mirror)
        records = []  # the deals were not read, only their links: the count is ``fetched``
    else:
        expansion = expand(engine.gateway, engine.store, engine.contract,
                           {object_type: records}, write_mirror=write_mirror)
    seen = expansion.records[object_type].keys()
    deleted = 0
    if write_mirror:
        gone = engine.store.record_keys(object_type) - seen
        if gone:
            _reread_partners(engine, object_type, gone, expansion)
            deleted = engine.store.delete_records(object_type, gone)
    return TypeRead(object_type, expansion, len(records), deleted)


def _reread_partners(
    engine: SyncEngine, object_type: str, gone: set[str], expansion: Expansion
) -> None:
    """Re-read the mirrored records linked to the ``gone`` ones, with their associations, into
    the mirror: HubSpot announces no link change when it archives or merges a record away."""
    read = {t: list(by_id.values()) for t, by_id in expansion.records.items()}
    partners, lost = reread_partners(
        engine.gateway, engine.store, engine.contract, {object_type: gone}, read)
    if partners:
        expand(engine.gateway, engine.store, engine.contract, partners, write_mirror=True)
    for partner_type, ids in lost.items():
        if ids:
            engine.store.delete_records(partner_type, ids)


def _companies(engine: SyncEngine) -> list[RawRecord]:
    e, c = engine, engine.contract
    found = search_records(e.gateway, "companies", c, [has(c.program_type), *carrier_groups(c)])
    others = e.store.record_keys("companies") - found.keys()
    found.update((r.object_id, r) for r in fetch_records(e.gateway, c, "companies", others))
    return list(found.values())


def _contacts(engine: SyncEngine) -> list[RawRecord]:
    e = engine
    return list(search_records(e.gateway, "contacts", e.contract, carrier_groups(e.contract))
                .values())


def _deals(engine: SyncEngine) -> list[RawRecord]:
    e, c = engine, engine.contract
    props = read_properties("deals", c)
    pages = e.gateway.search_all("deals", [], props, limit=e.settings.sync.search_page_size)
    first = next(pages, None)
    if first is None:
        return []
    if first.next_after is None or deal_reader(first.total, e.settings.hubspot) == "search":
        return [from_crm("deals", r) for page in (first, *pages) for r in page.records]
    listed = e.gateway.list_objects("deals", props, page_size=LIST_PAGE)
    return [from_crm("deals", r) for page in listed for r in page.records]


def _subscriptions(engine: SyncEngine) -> list[RawRecord]:
    """The mirrored deals, with their subscription links re-read (one call per 100 deals)."""
    e = engine
    deals = {row.object_id: from_mirror(row) for row in e.store.iter_records("deals")}
    links = e.gateway.read_associations("deals", "subscriptions", list(deals))
    return [
        deals[i].with_associations(
            "subscriptions", tuple(AssociationRef(link.to_id, tuple(sorted(set(link.type_ids))))
                                   for link in targets))
        for i, targets in links.items() if i in deals
    ]


def _subscription_pass(
    engine: SyncEngine, deals: list[RawRecord], write_mirror: bool
) -> Expansion:
    """Fetch every subscription the deals link to; mirror the subscriptions and the deals."""
    e = engine
    ids = {ref.to_id for d in deals for ref in d.associations.get("subscriptions", ())}
    subs = fetch_records(e.gateway, e.contract, "subscriptions", ids)
    out = Expansion()
    out.records["deals"].update((d.object_id, d) for d in deals)
    out.records["subscriptions"].update((s.object_id, s) for s in subs)
    out.fetched["subscriptions"] = len(subs)
    if write_mirror:
        e.store.upsert_records(to_mirror(r) for r in out.all_records())
    return out
