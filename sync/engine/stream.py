"""The full read's two halves running at once: searches in one thread, expansion beside them.

HubSpot gives searches their own budget (5 per second) beside the general one (190 per 10 s).
``SearchFeed`` walks the searches in a producer thread and hands each page over a bounded queue;
``PageExpander`` (the caller's thread) attaches associations and batch-reads related records
page by page as pages arrive. The two budgets are then spent together, so a full read takes
about ``max(searches / 5, calls / 19)`` seconds instead of their sum.

The expansion's own calls overlap too, so they are paced by the general budget rather than by
one round trip after another: ``PageExpander`` sends them through a small pool of worker
threads (``EXPAND_WORKERS``). A page's association reads (one per target type) go out together
and are waited for; the batch reads they lead to are sent without waiting (at most
``BATCHES_IN_FLIGHT_PER_WORKER`` per worker outstanding) and taken in later, while the caller's
thread writes pages to the mirror. Workers only call the gateway and convert its answer; every
piece of bookkeeping (``seen``, ``fetched``, what is requested) and every mirror write happens
in the caller's thread.

Which page is searched next: the walks whose pages lead to expansion calls (``Search.lead``:
deals, then contacts) go first, so the general budget is spent from the first second; the other
walks (the member/carrier companies) take the search budget the consumer leaves unused, a page
whenever the lead pages already handed over are enough to keep it busy, and after the lead walks
have ended. Each class has its own bound of pages handed over and not yet taken
(``QUEUE_PAGES``), which bounds memory.

What a reader can rely on:

- a type that the searches bring and the expansion also batch-reads (companies) is batch-read
  only after its walk has ended (``SearchFeed`` says so with an end-of-walk item, and
  ``PageExpander.release`` lets its batch reads go), skipping every id the walk brought: no
  record is read twice;
- related records are batch-read in full batches (100, or 50 with ``hs_mrr`` history), the rest
  at ``finish``, each id at most once: the calls equal ``ceil(ids / batch)`` per type;
- with ``write_mirror`` every page goes to the mirror as soon as it is expanded, every batch
  read as soon as it is taken in, and ``records`` keeps each record as the mirror row gives it
  back (``from_mirror(to_mirror(r))``), so the run evaluates them without reading the mirror
  again; without it (a dry run) the records are kept in ``records`` as read;
- an error on any side (the search thread, an association read, a batch read) stops everything
  and is raised in the caller's thread: leaving ``PageExpander``'s context cancels the calls not
  yet started and waits for the running ones, and leaving ``SearchFeed``'s stops its thread.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from config.contract import CrmContract
from mappers.outbound import ObjectKey
from mappers.records import RawRecord
from sync.engine.mirror import from_crm, from_mirror, to_mirror
from sync.engine.properties import OBJECT_TYPES, history_properties, read_properties
from sync.engine.related import LINKS, needed, ref
from sync.gateway import Gateway, SearchPage
from sync.gateway.gateway import BATCH_MAX, HISTORY_BATCH_MAX
from sync.store import Store

__all__ = ["Page", "PageExpander", "Search", "SearchFeed"]

QUEUE_PAGES = 8  # pages of each class the producer may run ahead: bounds memory, never starves
PUT_POLL_S = 0.1  # how often a blocked producer checks whether the consumer gave up
# Expansion calls in flight at once. Three keep the general budget (19/s) busy at a round trip
# of 50-150 ms; more would only queue behind the pacer.
EXPAND_WORKERS = 3
BATCHES_IN_FLIGHT_PER_WORKER = 2  # batch reads sent and not yet taken in: bounds memory
EXPAND_THREAD = "full-read-expand"


@dataclass(frozen=True, slots=True)
class Search:
    """One search walk of the full read: an object type and its OR-ed filter groups.

    ``lead``: its pages lead to expansion calls, so it is walked before the others (module)."""

    object_type: str
    groups: tuple[Mapping[str, Any], ...]
    lead: bool = True


# A page, or (type, None) when that type's walk has ended.
Page = tuple[str, list[RawRecord] | None]
_Item = tuple[bool, Page] | BaseException | None


class SearchFeed:
    """Walks ``searches`` in a daemon thread; iterate to get ``(object_type, records)`` pages,
    and ``(object_type, None)`` once that type's walk has ended.

    Use as a context manager: leaving it (normally or by an exception) stops the walk.
    """

    def __init__(self, gateway: Gateway, contract: CrmContract, searches: Sequence[Search],
                 *, page_size: int = 200) -> None:
        self._gateway, self._contract = gateway, contract
        self._searches, self._page_size = tuple(searches), page_size
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._room = threading.Condition()
        self._waiting = {True: 0, False: 0}  # pages handed over, not yet taken: lead, other
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._walk, name="full-read-search", daemon=True)

    def __enter__(self) -> SearchFeed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[Page]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            lead, page = item
            if page[1] is not None:
                with self._room:
                    self._waiting[lead] -= 1
                    self._room.notify()
            yield page

    def _walk(self) -> None:
        try:
            walks = {lead: deque(s for s in self._searches if s.lead is lead)
                     for lead in (True, False)}
            pages: dict[str, Iterator[SearchPage]] = {}
            while (lead := self._next_class(walks)) is not None:
                search = walks[lead][0]
                if search.object_type not in pages:
                    props = read_properties(search.object_type, self._contract)
                    pages[search.object_type] = self._gateway.search_all(
                        search.object_type, search.groups, props, limit=self._page_size)
                page = next(pages[search.object_type], None)
                if page is None:
                    walks[lead].popleft()
                    self._queue.put((lead, (search.object_type, None)))
                    continue
                records = [from_crm(search.object_type, r) for r in page.records]
                with self._room:
                    self._waiting[lead] += 1
                self._queue.put((lead, (search.object_type, records)))
            if not self._stop.is_set():
                self._queue.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._queue.put(exc)

    def _next_class(self, walks: Mapping[bool, deque[Search]]) -> bool | None:
        """The class whose walk gives the next page: a lead walk while fewer than
        ``QUEUE_PAGES`` lead pages wait, otherwise another walk while fewer than that of its
        pages wait; blocks until one may go. None when every walk has ended or the consumer
        stopped listening."""
        with self._room:
            while not self._stop.is_set():
                if not walks[True] and not walks[False]:
                    return None
                for lead in (True, False):
                    if walks[lead] and self._waiting[lead] < QUEUE_PAGES:
                        return lead
                self._room.wait(PUT_POLL_S)
        return None


class PageExpander:
    """Expands pages of searched records (see module); ``finish()`` reads what is left.

    Use as a context manager: leaving it (normally or by an exception) cancels the calls not yet
    started and waits for those running, so no worker thread outlives the read.
    """

    def __init__(self, gateway: Gateway, store: Store, contract: CrmContract,
                 *, write_mirror: bool, workers: int | None = None,
                 held: Collection[str] = ()) -> None:
        self._gateway, self._store, self._contract = gateway, store, contract
        self._write_mirror = write_mirror
        # Types whose batch reads wait for ``release``: the searches still bring such records.
        self._held = set(held)
        self.seen: dict[str, set[str]] = {t: set() for t in OBJECT_TYPES}
        self.searched: dict[str, int] = dict.fromkeys(OBJECT_TYPES, 0)
        self.fetched: dict[str, int] = dict.fromkeys(OBJECT_TYPES, 0)
        self.records: dict[ObjectKey, RawRecord] = {}
        self._requested: dict[str, set[str]] = {"companies": set(), "subscriptions": set()}
        self._pending: dict[str, list[str]] = {"companies": [], "subscriptions": []}
        workers = workers or EXPAND_WORKERS
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=EXPAND_THREAD)
        self._in_flight: deque[Future[tuple[str, list[RawRecord]]]] = deque()
        self._max_in_flight = BATCHES_IN_FLIGHT_PER_WORKER * workers

    def __enter__(self) -> PageExpander:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add_page(self, object_type: str, records: list[RawRecord]) -> None:
        """Attach the page's associations, queue what they point at, keep or mirror the page."""
        by_id = {r.object_id: r for r in records}
        new = by_id.keys() - self.seen[object_type]
        self.searched[object_type] += len(new)
        links = LINKS.get(object_type, ()) if by_id else ()
        # One association read per target type, all at once; harvested here in LINKS order.
        reads = [self._pool.submit(self._gateway.read_associations, object_type, to_type,
                                   list(by_id)) for to_type, _ in links]
        self._harvest()  # batch reads of earlier pages meanwhile (errors surface)
        for (to_type, primary), read in zip(links, reads, strict=True):
            for record_id, targets in read.result().items():
                refs = tuple(ref(link) for link in targets)
                if record_id in by_id:
                    by_id[record_id] = by_id[record_id].with_associations(to_type, refs)
                self._want(to_type, needed(refs, primary))
        self._flush(full_batches_only=True)
        self._keep(object_type, list(by_id.values()))  # runs while the batch reads are sent
        self._harvest()

    def release(self, object_type: str) -> None:
        """The search walk of ``object_type`` has ended: batch-read the ones the expansion
        wants that the walk did not bring."""
        if object_type in self._held:
            self._held.discard(object_type)
            seen = self.seen[object_type]
            self._pending[object_type] = [i for i in self._pending[object_type] if i not in seen]
            self._flush(full_batches_only=True)

    def finish(self) -> None:
        """Batch-read every related record still pending and take in every answer."""
        for object_type in list(self._held):
            self.release(object_type)
        self._flush(full_batches_only=False)
        while self._in_flight:
            self._take(self._in_flight.popleft())

    def _want(self, to_type: str, ids: Sequence[str]) -> None:
        for record_id in ids:
            if record_id in self.seen[to_type] or record_id in self._requested[to_type]:
                continue
            self._requested[to_type].add(record_id)
            self._pending[to_type].append(record_id)

    def _flush(self, *, full_batches_only: bool) -> None:
        """Send the pending ids' batch reads (one call per full batch) without waiting for them;
        at most ``_max_in_flight`` are outstanding (the oldest is taken in first)."""
        for to_type, pending in self._pending.items():
            if to_type in self._held:
                continue
            size = HISTORY_BATCH_MAX if history_properties(to_type) else BATCH_MAX
            cut = len(pending) - len(pending) % size if full_batches_only else len(pending)
            if cut <= 0:
                continue
            ids, self._pending[to_type] = pending[:cut], pending[cut:]
            for start in range(0, len(ids), size):
                while len(self._in_flight) >= self._max_in_flight:
                    self._take(self._in_flight.popleft())
                self._in_flight.append(
                    self._pool.submit(self._batch_read, to_type, ids[start:start + size]))

    def _batch_read(self, to_type: str, ids: list[str]) -> tuple[str, list[RawRecord]]:
        """One batch read (a worker thread): the records found, nothing else touched."""
        result = self._gateway.batch_read(
            to_type, ids, read_properties(to_type, self._contract), history_properties(to_type))
        return to_type, [from_crm(to_type, r) for r in result.succeeded]

    def _harvest(self) -> None:
        """Take in the batch reads that have answered, oldest first, without waiting; raise the
        error of any that failed at once."""
        for future in self._in_flight:
            if future.done() and future.exception() is not None:
                future.result()
        while self._in_flight and self._in_flight[0].done():
            self._take(self._in_flight.popleft())

    def _take(self, future: Future[tuple[str, list[RawRecord]]]) -> None:
        to_type, fetched = future.result()
        self.fetched[to_type] += len({r.object_id for r in fetched} - self.seen[to_type])
        self._keep(to_type, fetched)

    def _keep(self, object_type: str, records: list[RawRecord]) -> None:
        self.seen[object_type].update(r.object_id for r in records)
        if self._write_mirror:
            rows = [to_mirror(r) for r in records]
            self._store.upsert_records(rows)
            # As the evaluation would load them back from the mirror: the run's evaluation
            # takes these instead of reading every row again.
            self.records.update(((m.object_type, m.object_id), from_mirror(m)) for m in rows)
        else:
            self.records.update(((r.object_type, r.object_id), r) for r in records)
