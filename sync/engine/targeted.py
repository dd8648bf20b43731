"""Targeted reads: named records (webhooks), one member, one object type (admin resyncs).

- ``targeted_sync(records)``: batch-reads exactly the named ``(object_type, id)`` records (an
  event is a hint, the current state is re-read), keeps those that matter
  (``selection.matters``; new subscriptions only when linked to a mirrored deal), drops from
  the mirror the ones HubSpot no longer has (archived or 404), re-reads the mirrored records
  linked to those (``related.reread_partners``: a merge or archive announces no association
  change), expands related records, applies.
- ``resync_member(code or company id)``: the member company, the companies and contacts whose
  request names it or that are registered to it, the deals it shared, is attributed or
  overridden to, their primary companies when the mirror lacks them, and their subscriptions
  (always re-read). Nothing else is read.
- ``resync_type(object_type)``: a full read of one type (``resync.read_type``).

Each is one run of ``SyncEngine.execute`` (lock, run log, one commit). No checkpoint moves:
these reads do not cover a time window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from mappers.records import RawRecord
from sync.engine.mirror import associated_ids, to_mirror
from sync.engine.outcome import ReadOutcome
from sync.engine.properties import OBJECT_TYPES
from sync.engine.related import Expansion, expand, fetch_records, reread_partners
from sync.engine.report import RunReport
from sync.engine.selection import link_subscriptions, matters, search_records
from sync.engine.type_read import read_type
from sync.gateway import Gateway
from sync.store import Store

if TYPE_CHECKING:
    from sync.engine.engine import SyncEngine

__all__ = ["MemberNotFound", "resync_member", "resync_type", "targeted_sync"]


class MemberNotFound(LookupError):
    """No member company has that partner code or company id."""


def targeted_sync(
    engine: SyncEngine, records: Sequence[tuple[str, str]], *, as_of: date | None = None,
    trigger: str = "webhook",
) -> RunReport:
    """Re-read the named records and apply (see module). Unknown object types are refused."""
    wanted: dict[str, list[str]] = {}
    for object_type, object_id in records:
        if object_type not in OBJECT_TYPES:
            raise ValueError(f"object type {object_type!r} is not one of {OBJECT_TYPES}")
        wanted.setdefault(object_type, []).append(str(object_id))

    def read(started_at: datetime, dry: bool) -> ReadOutcome:
        return _read_named(engine, wanted, dry)

    return engine.execute("targeted", trigger=trigger, as_of=as_of, read=read)


def _read_named(engine: SyncEngine, wanted: dict[str, list[str]], dry: bool) -> ReadOutcome:
    e, c = engine, engine.contract
    read: dict[str, list[RawRecord]] = {}
    linked: list[RawRecord] = []  # mirrored deals of new subscriptions: links to re-read
    gone: dict[str, set[str]] = {}
    for object_type, ids in wanted.items():
        found = {r.object_id: r for r in fetch_records(e.gateway, c, object_type, ids)}
        gone[object_type] = set(ids) - found.keys()
        if object_type == "subscriptions":
            read["subscriptions"], linked = link_subscriptions(e.gateway, e.store, found.values())
            continue
        mirrored = e.store.get_records(object_type, found).keys()
        read[object_type] = [r for i, r in found.items() if matters(r, c, i in mirrored)]
    fresh = {r.object_id for r in read.get("deals", ())}
    read.setdefault("deals", []).extend(d for d in linked if d.object_id not in fresh)
    partners, lost = reread_partners(e.gateway, e.store, c, gone, read)
    for object_type, records in partners.items():
        read.setdefault(object_type, []).extend(records)
    for object_type, lost_ids in lost.items():
        gone.setdefault(object_type, set()).update(lost_ids)
    expansion = expand(e.gateway, e.store, c, read, write_mirror=not dry)
    if not dry:
        for object_type, missing in gone.items():
            e.store.delete_records(object_type, missing)
    return _outcome(read, expansion, dry)


def resync_member(engine: SyncEngine, member: str, *, trigger: str = "admin") -> RunReport:
    """Re-read one member's records and apply (see module).

    Raises ``MemberNotFound`` before any run starts (the lookup, 1-2 calls, is not in the
    run's ``api_calls``).
    """
    company = _find_member(engine.gateway, engine, member)

    def read(started_at: datetime, dry: bool) -> ReadOutcome:
        return _read_member(engine, company, dry)

    return engine.execute("member", trigger=trigger, read=read)


def _read_member(engine: SyncEngine, company: RawRecord, dry: bool) -> ReadOutcome:
    e, c = engine, engine.contract
    code = company.properties.get(c.code) or company.object_id
    carriers = [_eq(c.registration_requested_by, code), _eq(c.registered_to, code)]
    companies = search_records(e.gateway, "companies", c, carriers)
    companies[company.object_id] = company
    contacts = search_records(e.gateway, "contacts", c, carriers)
    deal_groups = [_eq(c.shared_by, code), _eq(c.attributed_to, code),
                   _eq(c.attribution_override, code)]
    deals = search_records(e.gateway, "deals", c, deal_groups)
    read = {"companies": list(companies.values()), "contacts": list(contacts.values()),
            "deals": list(deals.values())}
    expansion = expand(e.gateway, e.store, c, read, write_mirror=not dry)
    _refresh_subscriptions(e.gateway, e.store, engine, expansion, dry)
    return _outcome(read, expansion, dry)


def _find_member(gateway: Gateway, engine: SyncEngine, member: str) -> RawRecord:
    """The member company by id (all digits) or by partner code."""
    c = engine.contract
    if member.isascii() and member.isdigit():
        found = fetch_records(gateway, c, "companies", [member])
        if found and found[0].properties.get(c.program_type):
            return found[0]
    by_code = search_records(gateway, "companies", c, [_eq(c.code, member)])
    members = [r for r in by_code.values() if r.properties.get(c.program_type)]
    if not members:
        raise MemberNotFound(f"no member company has partner code or id {member!r}")
    return members[0]


def _refresh_subscriptions(
    gateway: Gateway, store: Store, engine: SyncEngine, expansion: Expansion, dry: bool
) -> None:
    """Re-read the deals' subscriptions the expansion skipped because the mirror had them."""
    deals = expansion.records["deals"].values()
    held = expansion.records["subscriptions"].keys()
    stale = associated_ids(deals, "subscriptions") - held
    fresh = fetch_records(gateway, engine.contract, "subscriptions", stale)
    expansion.records["subscriptions"].update((r.object_id, r) for r in fresh)
    expansion.fetched["subscriptions"] += len(fresh)
    if fresh and not dry:
        store.upsert_records(to_mirror(r) for r in fresh)


def resync_type(engine: SyncEngine, object_type: str, *, trigger: str = "admin") -> RunReport:
    """A full read of one object type, reconciling the mirror's rows of that type."""
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"object type {object_type!r} is not one of {OBJECT_TYPES}")

    def read(started_at: datetime, dry: bool) -> ReadOutcome:
        done = read_type(engine, object_type, write_mirror=not dry)
        overlay = {(r.object_type, r.object_id): r for r in done.all_records()}
        return ReadOutcome(done.counts(), {}, overlay if dry else None)

    return engine.execute(f"type:{object_type}", trigger=trigger, read=read)


def _eq(name: str, value: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


def _outcome(read: dict[str, list[RawRecord]], expansion: Expansion, dry: bool) -> ReadOutcome:
    counts = {t: len(read.get(t, ())) + expansion.fetched[t] for t in OBJECT_TYPES}
    overlay = {(r.object_type, r.object_id): r for r in expansion.all_records()}
    return ReadOutcome(counts, {}, overlay if dry else None)
