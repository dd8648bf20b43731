"""The expansion every read strategy shares: what the records just read need, in batches.

``expand(gateway, store, contract, read)`` takes the records a strategy just read (full search,
incremental window, webhook targets) and:

0. re-reads with history the records read without it (subscriptions found by search: the
   search answers no ``hs_mrr`` history), so every path mirrors a subscription the same way;
1. reads the associations v4 of the deals read (to companies, to subscriptions) and of the
   contacts read (to companies), 100 ids per call, and attaches them (type ids included, so the
   mappers can tell the primary company);
2. batch-reads the companies those deals and contacts point at (the primary one when the link
   says which, every linked one otherwise) and every subscription of the deals (``hs_mrr`` with
   history, 50 per call), skipping records read in this pass and, unless ``refetch``, records
   the mirror already holds;
3. upserts everything (read and fetched) into the store's mirror.

Records HubSpot no longer finds are simply not fetched (a deal pointing at a deleted company
maps as a deal without company, which the rules report).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from config.contract import CrmContract
from mappers.fields import CONTACT_TO_COMPANY_PRIMARY, DEAL_TO_COMPANY_PRIMARY
from mappers.records import AssociationRef, RawRecord
from sync.engine.mirror import from_crm, to_mirror
from sync.engine.properties import OBJECT_TYPES, history_properties, read_properties
from sync.gateway import AssociationLink, Gateway
from sync.store import Store

__all__ = ["LINKS", "Expansion", "expand", "fetch_records", "linked_to", "needed", "ref"]

# (from type, to type, the primary type id of the pair or None)
LINKS: dict[str, tuple[tuple[str, int | None], ...]] = {
    "deals": (("companies", DEAL_TO_COMPANY_PRIMARY), ("subscriptions", None)),
    "contacts": (("companies", CONTACT_TO_COMPANY_PRIMARY),),
}


@dataclass(slots=True)
class Expansion:
    """Everything one pass holds, by type and id (read and fetched, associations attached)."""

    records: dict[str, dict[str, RawRecord]] = field(
        default_factory=lambda: {t: {} for t in OBJECT_TYPES}
    )
    fetched: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OBJECT_TYPES, 0))

    def all_records(self) -> Iterable[RawRecord]:
        for by_id in self.records.values():
            yield from by_id.values()


def expand(
    gateway: Gateway,
    store: Store,
    contract: CrmContract,
    read: Mapping[str, Iterable[RawRecord]],
    *,
    refetch: bool = False,
    write_mirror: bool = True,
) -> Expansion:
    """Attach associations to ``read``, fetch what they point at, mirror it all (see module).

    ``read`` maps an object type to the records just read of it. ``refetch=True`` (a full sync)
    re-reads related records even when the mirror has them, so stale copies are refreshed.
    ``write_mirror=False`` (a dry run) leaves the mirror untouched.
    Returns every record of the pass; ``fetched`` counts the records step 2 read.
    """
    out = Expansion()
    for object_type, records in read.items():
        out.records.setdefault(object_type, {}).update((r.object_id, r) for r in records)
        _with_history(gateway, contract, object_type, out.records[object_type])
    wanted: dict[str, set[str]] = {"companies": set(), "subscriptions": set()}
    for from_type, links in LINKS.items():
        by_id = out.records.get(from_type, {})
        for to_type, primary in links:
            if not by_id:
                continue
            found = gateway.read_associations(from_type, to_type, list(by_id))
            for record_id, targets in found.items():
                refs = tuple(ref(link) for link in targets)
                if record_id in by_id:
                    by_id[record_id] = by_id[record_id].with_associations(to_type, refs)
                wanted[to_type].update(needed(refs, primary))
    for to_type, ids in wanted.items():
        missing = ids - out.records[to_type].keys()
        if not refetch and missing:
            missing -= store.get_records(to_type, missing).keys()
        fetched = fetch_records(gateway, contract, to_type, missing)
        out.records[to_type].update((r.object_id, r) for r in fetched)
        out.fetched[to_type] += len(fetched)
    if write_mirror:
        store.upsert_records(to_mirror(r) for r in out.all_records())
    return out


def _with_history(
    gateway: Gateway, contract: CrmContract, object_type: str, by_id: dict[str, RawRecord]
) -> None:
    """Re-read, with history, the records of ``by_id`` read without it (a search returns no
    property history): a subscription is always mirrored with its ``hs_mrr`` history (R7.3),
    whichever path read it. A record HubSpot no longer has is dropped from ``by_id``."""
    wanted = history_properties(object_type)
    bare = [i for i, r in by_id.items() if any(name not in r.history for name in wanted)]
    if not bare:
        return
    fresh = {r.object_id: r for r in fetch_records(gateway, contract, object_type, bare)}
    for object_id in bare:
        record = fresh.get(object_id)
        if record is None:
            del by_id[object_id]
        else:
            by_id[object_id] = record


def fetch_records(
    gateway: Gateway, contract: CrmContract, object_type: str, ids: Iterable[str]
) -> list[RawRecord]:
    """Batch-read ``ids`` with the engine's properties (and history); unknown ids are skipped."""
    wanted = sorted(set(ids), key=lambda i: (len(i), i))
    if not wanted:
        return []
    result = gateway.batch_read(
        object_type, wanted, read_properties(object_type, contract),
        history_properties(object_type),
    )
    return [from_crm(object_type, r) for r in result.succeeded]


def ref(link: AssociationLink) -> AssociationRef:
    return AssociationRef(link.to_id, tuple(sorted(set(link.type_ids))))


def needed(refs: tuple[AssociationRef, ...], primary: int | None) -> list[str]:
    """The linked ids to fetch: the primary one when a link says so, else all of them."""
    if primary is not None:
        primaries = [r.to_id for r in refs if primary in r.type_ids]
        if primaries:
            return primaries
    return [r.to_id for r in refs]


def linked_to(store: Store, gone: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The mirrored records associated with the ``gone`` ones (by type), in both directions:
    what the gone rows link to, and the rows whose links name a gone record (a deal whose
    primary company was merged away). Read before the gone rows leave the mirror; the gone
    records themselves are left out.

    A record leaving the mirror takes nothing of its partners' links with it, and HubSpot
    announces no association change when it archives or merges a record, so these partners
    are re-read in the same run to carry their current associations."""
    wanted = {t: set(ids) for t, ids in gone.items() if ids}
    out: dict[str, set[str]] = {t: set() for t in OBJECT_TYPES}
    for object_type, ids in wanted.items():
        for row in store.get_records(object_type, ids).values():
            for to_type, refs in row.associations.items():
                if to_type in out:
                    out[to_type].update(text.partition(":")[0] for text in refs)
    for from_type, links in LINKS.items():
        targets = [(t, wanted[t]) for t, _ in links if wanted.get(t)]
        if not targets:
            continue
        for row in store.iter_records(from_type, include_archived=True):
            if any(text.partition(":")[0] in ids
                   for to_type, ids in targets for text in row.associations.get(to_type, ())):
                out[from_type].add(row.object_id)
    for object_type, ids in wanted.items():
        out[object_type] -= ids
    return {t: ids for t, ids in out.items() if ids}


def reread_partners(
    gateway: Gateway,
    store: Store,
    contract: CrmContract,
    gone: Mapping[str, Iterable[str]],
    read: Mapping[str, Iterable[RawRecord]],
) -> tuple[dict[str, list[RawRecord]], dict[str, set[str]]]:
    """Re-read the mirrored partners of the ``gone`` records (``linked_to``) that ``read``
    does not already hold. Returns the partners found, by type (to be expanded with the
    rest, so their associations are read again), and those HubSpot no longer has."""
    held = {t: {r.object_id for r in rs} for t, rs in read.items()}
    found: dict[str, list[RawRecord]] = {}
    missing: dict[str, set[str]] = {}
    for object_type, linked in linked_to(store, gone).items():
        ids = set(store.get_records(object_type, linked - held.get(object_type, set())))
        if not ids:
            continue
        fresh = fetch_records(gateway, contract, object_type, ids)
        found[object_type] = fresh
        missing[object_type] = ids - {r.object_id for r in fresh}
    return found, missing
