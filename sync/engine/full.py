"""The full read: every record that matters, then a reconcile of the mirror.

What is read (DESIGN.md "Data flow" 1):

- member companies: search ``program_type HAS_PROPERTY``;
- carriers, companies and contacts: search ``requested_by``, ``requested_at`` or
  ``registration_status HAS_PROPERTY`` (OR-ed groups). Records still carrying outputs are read so
  a cleared request gets its outputs cleared;
- every deal: one search page first (its ``total`` sizes the job), then the rest by search or by
  the list endpoint, whichever ``deal_reader`` says is cheaper under the budgets;
- then ``related.expand`` (associations, primary companies, subscriptions), re-reading related
  records the mirror already has.

A full read is a reconcile: mirror rows of a type that this read did not see (deleted, archived,
or no longer carrying anything) are removed from the mirror.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from config.contract import CrmContract
from config.settings import HubSpotSettings
from mappers.records import RawRecord
from sync.engine.mirror import from_crm
from sync.engine.properties import OBJECT_TYPES, read_properties
from sync.engine.related import Expansion, expand
from sync.gateway import Gateway, SearchPage
from sync.store import Store

__all__ = ["FullRead", "deal_reader", "read_full"]

SEARCH_PAGE = 200
LIST_PAGE = 100
Reader = Literal["search", "list"]


@dataclass(frozen=True, slots=True)
class FullRead:
    """The records of the full read and how many of each type were read; ``deleted`` counts
    mirror rows removed by the reconcile, per type; ``deal_reader`` the strategy used."""

    expansion: Expansion
    read: dict[str, int]
    deleted: dict[str, int]
    deal_reader: Reader


def deal_reader(total: int, hubspot: HubSpotSettings) -> Reader:
    """``search`` or ``list`` for reading ``total`` deals after one search page of 200.

    Cost = seconds of budget: the remaining search pages at ``search_per_s``, against every list
    page (100 each) at ``rate_limit_per_10s / 10`` per second. Ties go to search.
    """
    search_s = max(math.ceil(total / SEARCH_PAGE) - 1, 0) / hubspot.search_per_s
    list_s = math.ceil(total / LIST_PAGE) / (hubspot.rate_limit_per_10s / 10)
    return "search" if search_s <= list_s else "list"


def read_full(
    gateway: Gateway,
    store: Store,
    contract: CrmContract,
    hubspot: HubSpotSettings,
    *,
    write_mirror: bool = True,
) -> FullRead:
    """Read everything that matters, expand, mirror it and drop what was not seen.

    ``write_mirror=False`` (a dry run) leaves the mirror as it was; the records are returned.
    """
    c = contract
    companies = _search(gateway, "companies", c, [_has(c.program_type)])
    carriers = [_has(c.registration_requested_by), _has(c.registration_requested_at),
                _has(c.registration_status)]
    companies.update(_search(gateway, "companies", c, carriers))
    contacts = _search(gateway, "contacts", c, carriers)
    deals, reader = _read_deals(gateway, c, hubspot)
    read = {"companies": list(companies.values()), "contacts": list(contacts.values()),
            "deals": deals}
    expansion = expand(gateway, store, c, read, refetch=True, write_mirror=write_mirror)
    counts = {t: len(read.get(t, ())) + expansion.fetched[t] for t in OBJECT_TYPES}
    deleted = dict.fromkeys(OBJECT_TYPES, 0)
    for object_type in OBJECT_TYPES if write_mirror else ():
        gone = store.record_keys(object_type) - expansion.records[object_type].keys()
        deleted[object_type] = store.delete_records(object_type, gone) if gone else 0
    return FullRead(expansion, counts, deleted, reader)


def _has(name: str) -> dict[str, Any]:
    return {"filters": [{"propertyName": name, "operator": "HAS_PROPERTY"}]}


def _search(
    gateway: Gateway, object_type: str, contract: CrmContract, groups: Sequence[dict[str, Any]]
) -> dict[str, RawRecord]:
    props = read_properties(object_type, contract)
    found: dict[str, RawRecord] = {}
    for page in gateway.search_all(object_type, groups, props, limit=SEARCH_PAGE):
        found.update((r.id, from_crm(object_type, r)) for r in page.records)
    return found


def _read_deals(
    gateway: Gateway, contract: CrmContract, hubspot: HubSpotSettings
) -> tuple[list[RawRecord], Reader]:
    props = read_properties("deals", contract)
    pages = gateway.search_all("deals", [], props, limit=SEARCH_PAGE)
    first: SearchPage | None = next(pages, None)
    if first is None or first.next_after is None:
        return _raw("deals", [first] if first else []), "search"
    if deal_reader(first.total, hubspot) == "search":
        return _raw("deals", [first, *pages]), "search"
    listed = gateway.list_objects("deals", props, page_size=LIST_PAGE)
    return [from_crm("deals", r) for page in listed for r in page.records], "list"


def _raw(object_type: str, pages: Iterable[SearchPage]) -> list[RawRecord]:
    by_id = {r.id: from_crm(object_type, r) for page in pages for r in page.records}
    return list(by_id.values())
