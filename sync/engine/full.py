"""The full read: every record that matters, then a reconcile of the mirror.

What is read (DESIGN.md "Data flow" 1), with the fewest calls:

- member or carrier companies: ONE search whose OR-ed groups are ``program_type``,
  ``requested_by``, ``requested_at`` and ``registration_status`` HAS_PROPERTY (records still
  carrying a status are read so a cleared request gets its outputs cleared);
- carrier contacts: one search with the three carrier groups;
- every deal: search at 200 per page (half the calls of the list endpoint's 100);
- then, page by page as the searches arrive (``stream``): associations v4 of the page, and batch
  reads of what they point at (primary companies, subscriptions) at each batch's maximum; the
  companies only once the companies search has ended, skipping those it brought.

The searches run in their own thread on the search budget while this thread spends the general
budget on the expansion (``stream.SearchFeed``), whose calls overlap in a few worker threads
(``stream.PageExpander``), so the read takes about ``max(searches / 5 per s, calls / 19 per s)``.

A full read is a reconcile: mirror rows of a type that this read did not see (deleted, archived,
or no longer carrying anything) are removed from the mirror.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from config.contract import CrmContract
from config.settings import HubSpotSettings
from mappers.outbound import ObjectKey
from mappers.records import RawRecord
from sync.engine.properties import OBJECT_TYPES
from sync.engine.related import LINKS
from sync.engine.selection import carrier_groups, has
from sync.engine.stream import PageExpander, Search, SearchFeed
from sync.gateway import Gateway
from sync.store import Store

__all__ = ["FullRead", "check_search_limits", "deal_reader", "full_searches", "read_full"]

SEARCH_PAGE = 200
LIST_PAGE = 100
Reader = Literal["search", "list"]

# HubSpot's search limits (research/hubspot-api-facts.md): filter groups per request, filters per
# group, filters in all. ``search_all`` adds one filter per group when it restarts past 10,000.
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18


@dataclass(frozen=True, slots=True)
class FullRead:
    """What the full read did: records read per type, mirror rows removed per type (the
    reconcile), and every record read (``records``: once mirrored, as the mirror holds them;
    after the reconcile they are the whole mirror)."""

    read: dict[str, int]
    deleted: dict[str, int]
    records: dict[ObjectKey, RawRecord]


def deal_reader(total: int, hubspot: HubSpotSettings) -> Reader:
    """``search`` or ``list`` for reading ``total`` deals after one search page of 200, when the
    calls run one after another (the per-type resync does): the faster one.

    Cost = seconds of budget: the remaining search pages at ``search_per_s``, against every list
    page (100 each) at ``rate_limit_per_10s / 10`` per second. Ties go to search.
    """
    search_s = max(math.ceil(total / SEARCH_PAGE) - 1, 0) / hubspot.search_per_s
    list_s = math.ceil(total / LIST_PAGE) / (hubspot.rate_limit_per_10s / 10)
    return "search" if search_s <= list_s else "list"


def full_searches(contract: CrmContract) -> list[Search]:
    """The full read's searches: deals and contacts lead (their pages lead to expansion calls),
    the member/carrier companies fill the search budget beside them (``stream.SearchFeed``)."""
    carriers = carrier_groups(contract)
    companies = (has(contract.program_type), *carriers)
    searches = [Search("deals", ()), Search("contacts", tuple(carriers)),
                Search("companies", companies, lead=False)]
    for search in searches:
        check_search_limits(search.groups)
    return searches


def check_search_limits(groups: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``ValueError`` when ``groups`` plus ``search_all``'s restart filter (one more per
    group) would break HubSpot's limits of 5 groups, 6 filters per group, 18 filters in all."""
    sizes = [len(g.get("filters", ())) + 1 for g in groups or [{}]]
    if len(sizes) > MAX_GROUPS or max(sizes) > MAX_FILTERS_PER_GROUP or sum(sizes) > MAX_FILTERS:
        raise ValueError(f"search of {len(sizes)} groups {sizes} exceeds HubSpot's limits")


def read_full(
    gateway: Gateway,
    store: Store,
    contract: CrmContract,
    *,
    write_mirror: bool = True,
    page_size: int = SEARCH_PAGE,
) -> FullRead:
    """Read everything that matters (see module), mirror it and drop what was not seen.

    ``write_mirror=False`` (a dry run) leaves the mirror as it was; the records are returned.
    """
    searches = full_searches(contract)
    # A searched type that the expansion also batch-reads waits for its walk's end, so nothing
    # the search brings is read twice.
    held = {s.object_type for s in searches} & {t for ls in LINKS.values() for t, _ in ls}
    with PageExpander(gateway, store, contract, write_mirror=write_mirror,
                      held=held) as expander:
        with SearchFeed(gateway, contract, searches, page_size=page_size) as feed:
            for object_type, records in feed:
                if records is None:
                    expander.release(object_type)
                else:
                    expander.add_page(object_type, records)
        expander.finish()
    counts = {t: expander.searched[t] + expander.fetched[t] for t in OBJECT_TYPES}
    deleted = dict.fromkeys(OBJECT_TYPES, 0)
    for object_type in OBJECT_TYPES if write_mirror else ():
        gone = store.record_keys(object_type) - expander.seen[object_type]
        deleted[object_type] = store.delete_records(object_type, gone) if gone else 0
    return FullRead(counts, deleted, expander.records)
