"""The full read's two halves running at once: searches in one thread, expansion in the other.

HubSpot gives searches their own budget (5 per second) beside the general one (190 per 10 s).
``SearchFeed`` walks the searches in a producer thread and hands each page over a bounded queue;
``PageExpander`` (the caller's thread) attaches associations and batch-reads related records
page by page as pages arrive. The two budgets are then spent together, so a full read takes
about ``max(searches / 5, calls / 19)`` seconds instead of their sum.

What a reader can rely on:

- pages arrive in the order of ``searches`` (so every member/carrier company is known before the
  first contact or deal page is expanded, and is never fetched twice);
- related records are batch-read in full batches (100, or 50 with ``hs_mrr`` history), the rest
  at ``finish``, each id at most once: the calls equal ``ceil(ids / batch)`` per type;
- with ``write_mirror`` every page goes to the mirror as soon as it is expanded and only ids are
  kept; without it (a dry run) the records are kept in ``records`` instead;
- an error on either side stops both and is raised in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config.contract import CrmContract
from mappers.outbound import ObjectKey
from mappers.records import RawRecord
from sync.engine.mirror import from_crm, to_mirror
from sync.engine.properties import OBJECT_TYPES, history_properties, read_properties
from sync.engine.related import LINKS, needed, ref
from sync.gateway import Gateway
from sync.gateway.gateway import BATCH_MAX, HISTORY_BATCH_MAX
from sync.store import Store

__all__ = ["PageExpander", "Search", "SearchFeed"]

QUEUE_PAGES = 8  # pages the producer may run ahead: bounds memory, enough to never starve
PUT_POLL_S = 0.1  # how often a blocked producer checks whether the consumer gave up


@dataclass(frozen=True, slots=True)
class Search:
    """One search walk of the full read: an object type and its OR-ed filter groups."""

    object_type: str
    groups: tuple[Mapping[str, Any], ...]


_Item = tuple[str, list[RawRecord]] | BaseException | None


class SearchFeed:
    """Walks ``searches`` in a daemon thread; iterate to get ``(object_type, records)`` pages.

    Use as a context manager: leaving it (normally or by an exception) stops the walk.
    """

    def __init__(self, gateway: Gateway, contract: CrmContract, searches: Sequence[Search],
                 *, page_size: int = 200) -> None:
        self._gateway, self._contract = gateway, contract
        self._searches, self._page_size = tuple(searches), page_size
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=QUEUE_PAGES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._walk, name="full-read-search", daemon=True)

    def __enter__(self) -> SearchFeed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[tuple[str, list[RawRecord]]]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _walk(self) -> None:
        try:
            for search in self._searches:
                props = read_properties(search.object_type, self._contract)
                pages = self._gateway.search_all(search.object_type, search.groups, props,
                                                 limit=self._page_size)
                for page in pages:
                    records = [from_crm(search.object_type, r) for r in page.records]
                    if not self._put((search.object_type, records)):
                        return
            self._put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(exc)

    def _put(self, item: _Item) -> bool:
        """Queue ``item``; False when the consumer stopped listening."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=PUT_POLL_S)
                return True
            except queue.Full:
                continue
        return False


class PageExpander:
    """Expands pages of searched records (see module); ``finish()`` reads what is left."""

    def __init__(self, gateway: Gateway, store: Store, contract: CrmContract,
                 *, write_mirror: bool) -> None:
        self._gateway, self._store, self._contract = gateway, store, contract
        self._write_mirror = write_mirror
        self.seen: dict[str, set[str]] = {t: set() for t in OBJECT_TYPES}
        self.searched: dict[str, int] = dict.fromkeys(OBJECT_TYPES, 0)
        self.fetched: dict[str, int] = dict.fromkeys(OBJECT_TYPES, 0)
        self.records: dict[ObjectKey, RawRecord] = {}
        self._requested: dict[str, set[str]] = {"companies": set(), "subscriptions": set()}
        self._pending: dict[str, list[str]] = {"companies": [], "subscriptions": []}

    def add_page(self, object_type: str, records: list[RawRecord]) -> None:
        """Attach the page's associations, queue what they point at, keep or mirror the page."""
        by_id = {r.object_id: r for r in records}
        new = by_id.keys() - self.seen[object_type]
        self.searched[object_type] += len(new)
        for to_type, primary in LINKS.get(object_type, ()):
            if not by_id:
                break
            found = self._gateway.read_associations(object_type, to_type, list(by_id))
            for record_id, targets in found.items():
                refs = tuple(ref(link) for link in targets)
                if record_id in by_id:
                    by_id[record_id] = by_id[record_id].with_associations(to_type, refs)
                self._want(to_type, needed(refs, primary))
        self._keep(object_type, list(by_id.values()))
        self._flush(full_batches_only=True)

    def finish(self) -> None:
        """Batch-read every related record still pending."""
        self._flush(full_batches_only=False)

    def _want(self, to_type: str, ids: Sequence[str]) -> None:
        for record_id in ids:
            if record_id in self.seen[to_type] or record_id in self._requested[to_type]:
                continue
            self._requested[to_type].add(record_id)
            self._pending[to_type].append(record_id)

    def _flush(self, *, full_batches_only: bool) -> None:
        for to_type, pending in self._pending.items():
            size = HISTORY_BATCH_MAX if history_properties(to_type) else BATCH_MAX
            cut = len(pending) - len(pending) % size if full_batches_only else len(pending)
            if cut <= 0:
                continue
            ids, self._pending[to_type] = pending[:cut], pending[cut:]
            result = self._gateway.batch_read(
                to_type, ids, read_properties(to_type, self._contract),
                history_properties(to_type))
            fetched = [from_crm(to_type, r) for r in result.succeeded]
            self.fetched[to_type] += len({r.object_id for r in fetched} - self.seen[to_type])
            self._keep(to_type, fetched)

    def _keep(self, object_type: str, records: list[RawRecord]) -> None:
        self.seen[object_type].update(r.object_id for r in records)
        if self._write_mirror:
            self._store.upsert_records(to_mirror(r) for r in records)
        else:
            self.records.update(((r.object_type, r.object_id), r) for r in records)
