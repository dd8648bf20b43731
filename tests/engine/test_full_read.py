"""The full read's call count and its two threads: one search walk per record kind, expansion at
each batch's maximum, errors on either side stopping both."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from bench.floors import CallCounter, dataset_counts, read_floor
from config.contract import contract_for_prefix
from sandbox.gen.profiles import Counts
from sandbox.generator import generate_custom
from sync.engine import RunReport, SyncEngine, SyncError, apply, stream
from sync.engine.full import check_search_limits, full_searches
from sync.gateway import AssociationLink, Gateway, SearchPage
from sync.gateway.models import CrmRecord
from tests.engine.conftest import EngineFactory

AS_OF = date(2026, 11, 1)
COUNTS = Counts(contacts=700, companies=450, deals=450, subscriptions=450, members=12)


def _search_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "full-read-search"]


def _read_threads() -> list[threading.Thread]:
    """The full read's threads still alive: the search walk and the expansion's workers."""
    return [t for t in threading.enumerate() if t.name.startswith("full-read-")]


def _full_sync_through(base: SyncEngine, gateway: Gateway) -> RunReport:
    """A full sync of ``base``'s store through ``gateway`` (closed afterwards)."""
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)
    try:
        return engine.full_sync(as_of=AS_OF)
    finally:
        gateway.close()


def test_full_read_makes_exactly_the_minimum_read_calls(make_engine: EngineFactory) -> None:
    dataset = generate_custom(COUNTS, seed=5)
    base = make_engine(dataset)
    counter = CallCounter()
    report = _full_sync_through(base, Gateway(base.settings.hubspot, transport=counter))

    assert report.status == "ok"
    assert report.records_read["deals"] == COUNTS.deals
    counts = dataset_counts(dataset, contract_for_prefix())  # the generated data, not the mirror
    floor = read_floor(counts)
    assert floor["search"] >= 5  # several pages and batches of each kind
    assert floor["batch_read"] >= 10
    reads = {k: n for k, n in counter.by_kind().items() if k != "batch_update"}
    # beyond the records: the portal id, read once per token from the account-info API
    assert reads.pop("other", 0) == 1
    assert reads == floor
    assert not _search_threads()


def test_the_floor_counts_the_generated_records_that_matter() -> None:
    dataset = generate_custom(COUNTS, seed=5)
    counts = dataset_counts(dataset, contract_for_prefix())
    assert counts.deals == COUNTS.deals
    assert 0 < counts.member_or_carrier_companies < COUNTS.companies
    assert 0 < counts.carrier_contacts < COUNTS.contacts
    assert 0 < counts.deal_subscriptions <= COUNTS.subscriptions
    assert read_floor(counts, association_batch=50)["associations"] > read_floor(counts)[
        "associations"]


def test_dry_run_reads_the_same_records_and_leaves_the_mirror_empty(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine(generate_custom(COUNTS, seed=5))

    dry = engine.full_sync(as_of=AS_OF, dry_run=True)

    assert engine.store.count_records("deals") == 0
    real = engine.full_sync(as_of=AS_OF)
    assert dry.records_read == real.records_read
    assert sorted(p.object_id for p in dry.patches) == sorted(p.object_id for p in real.patches)


LATENCY_S = 0.08  # an artificial round trip far above the loopback sandbox's own


class _SlowExpansion(Gateway):
    """Every expansion call (association read, batch read) takes ``LATENCY_S`` more; notes how
    many were made and the most in flight at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = self.calls = 0

    def _slowly(self, call: Any) -> Any:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(LATENCY_S)
            return call()
        finally:
            with self.lock:
                self.in_flight -= 1

    def read_associations(self, from_type: str, to_type: str,
                          ids: Sequence[str]) -> dict[str, list[AssociationLink]]:
        return self._slowly(lambda: super(_SlowExpansion, self).read_associations(
            from_type, to_type, ids))

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
                   with_history: Sequence[str] = (), *, archived: bool = False) -> Any:
        return self._slowly(lambda: super(_SlowExpansion, self).batch_read(
            object_type, ids, properties, with_history, archived=archived))


def _slow_full_read(base: SyncEngine, monkeypatch: pytest.MonkeyPatch,
                    workers: int) -> tuple[float, _SlowExpansion, dict[str, int]]:
    """A dry-run full sync through ``_SlowExpansion`` with ``workers`` expansion workers: its
    seconds, the gateway, and the read calls counted below the gateway."""
    monkeypatch.setattr(stream, "EXPAND_WORKERS", workers)
    counter = CallCounter()
    gateway = _SlowExpansion(base.settings.hubspot, transport=counter)
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)
    try:
        started = time.monotonic()
        report = engine.full_sync(as_of=AS_OF, dry_run=True)  # the mirror stays empty
        elapsed = time.monotonic() - started
    finally:
        gateway.close()
    assert report.status == "ok"
    assert not _read_threads()
    reads = {k: n for k, n in counter.by_kind().items() if k not in ("batch_update", "other")}
    return elapsed, gateway, reads


def test_expansion_calls_overlap_and_the_read_takes_less_time(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = generate_custom(COUNTS, seed=5)
    base = make_engine(dataset)
    one_s, one, one_reads = _slow_full_read(base, monkeypatch, workers=1)
    three_s, three, three_reads = _slow_full_read(base, monkeypatch, workers=3)

    floor = read_floor(dataset_counts(dataset, contract_for_prefix()))
    assert one_reads == three_reads == floor  # the same calls, full batches, whichever pool
    assert one.most_in_flight == 1
    assert three.most_in_flight >= 2
    assert one.calls == three.calls
    assert one_s >= one.calls * LATENCY_S  # one after another: every delay in turn
    assert three_s < one_s  # overlapping calls (the bound is loose: CI machines are shared)


class _OverlapProbe(Gateway):
    """Holds the companies search (walked after the deals' pages here) until the expansion has
    made a call, and notes search threads."""

    expanded: threading.Event
    overlapped: bool = False
    search_threads: set[str]

    def search_all(self, object_type: str, filter_groups: Sequence[Mapping[str, Any]],
                   properties: Sequence[str], *, limit: int = 200) -> Iterator[SearchPage]:
        self.search_threads.add(threading.current_thread().name)
        if object_type == "companies":  # a read searching everything first would time out here
            self.overlapped = self.expanded.wait(5)
        return super().search_all(object_type, filter_groups, properties, limit=limit)

    def read_associations(self, from_type: str, to_type: str,
                          ids: Sequence[str]) -> dict[str, list[AssociationLink]]:
        self.expanded.set()
        return super().read_associations(from_type, to_type, ids)


def test_expansion_runs_while_the_searches_are_still_walking(make_engine: EngineFactory) -> None:
    base = make_engine(generate_custom(COUNTS, seed=5))
    gateway = _OverlapProbe(base.settings.hubspot)
    gateway.expanded, gateway.search_threads = threading.Event(), set()
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)
    try:
        report = engine.full_sync(as_of=AS_OF)
    finally:
        gateway.close()
    assert report.status == "ok"
    assert gateway.overlapped
    assert gateway.search_threads == {"full-read-search"}


class _OrderProbe(Gateway):
    """Notes, in order, each search page answered and each expansion call sent, and the ids of
    every batch read of companies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.events: list[str] = []
        self.searched_companies: set[str] = set()
        self.fetched_companies: set[str] = set()

    def search_all(self, object_type: str, filter_groups: Sequence[Mapping[str, Any]],
                   properties: Sequence[str], *, limit: int = 200) -> Iterator[SearchPage]:
        for page in super().search_all(object_type, filter_groups, properties, limit=limit):
            with self.lock:
                self.events.append(f"search {object_type}")
                if object_type == "companies":
                    self.searched_companies.update(r.id for r in page.records)
            yield page

    def read_associations(self, from_type: str, to_type: str,
                          ids: Sequence[str]) -> dict[str, list[AssociationLink]]:
        with self.lock:
            self.events.append(f"associations {from_type}")
        return super().read_associations(from_type, to_type, ids)

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
                   with_history: Sequence[str] = (), *, archived: bool = False) -> Any:
        with self.lock:
            self.events.append(f"batch {object_type}")
            if object_type == "companies":
                self.fetched_companies.update(ids)
        return super().batch_read(object_type, ids, properties, with_history, archived=archived)


def test_expansion_starts_with_the_first_deal_page_and_never_reads_a_searched_company(
    make_engine: EngineFactory,
) -> None:
    """The general budget is spent from the first search page on (deals lead); companies are
    batch-read only after the companies search has ended, none that it brought."""
    dataset = generate_custom(COUNTS, seed=5)
    base = make_engine(dataset)
    counter = CallCounter()
    gateway = _OrderProbe(base.settings.hubspot, transport=counter)
    report = _full_sync_through(base, gateway)

    assert report.status == "ok"
    events = gateway.events
    assert events[0] == "search deals"  # (that the expansion does not wait for the companies
    # walk is test_expansion_runs_while_the_searches_are_still_walking's)
    last_company_page = max(i for i, e in enumerate(events) if e == "search companies")
    company_reads = [i for i, e in enumerate(events) if e == "batch companies"]
    assert company_reads
    assert min(company_reads) > last_company_page
    assert gateway.searched_companies
    assert gateway.fetched_companies
    assert not gateway.searched_companies & gateway.fetched_companies
    reads = {k: n for k, n in counter.by_kind().items() if k not in ("batch_update", "other")}
    assert reads == read_floor(dataset_counts(dataset, contract_for_prefix()))


class _PagedSearches(Gateway):
    """Searches answered from memory: ``pages[type]`` pages of one record each; counts pages."""

    def __init__(self, pages: Mapping[str, int], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages = dict(pages)

    def search_all(self, object_type: str, filter_groups: Sequence[Mapping[str, Any]],
                   properties: Sequence[str], *, limit: int = 200) -> Iterator[SearchPage]:
        for n in range(self.pages[object_type]):
            record = CrmRecord(id=f"{object_type}-{n}", properties={})
            yield SearchPage([record], total=self.pages[object_type], next_after=None)


def test_other_walks_fill_the_search_budget_while_the_lead_pages_wait(
    make_engine: EngineFactory,
) -> None:
    """A slow consumer: the lead walk's pages handed over stay within QUEUE_PAGES, and the
    companies walk (not lead) is walked meanwhile, so it ends long before the deals walk."""
    base = make_engine(generate_custom(COUNTS, seed=5))
    gateway = _PagedSearches({"deals": 60, "companies": 5}, base.settings.hubspot)
    searches = [stream.Search("deals", ()), stream.Search("companies", (), lead=False)]
    order: list[str] = []
    most_waiting = 0
    try:
        with stream.SearchFeed(gateway, base.contract, searches) as feed:
            for object_type, records in feed:
                order.append(f"{object_type} {'end' if records is None else 'page'}")
                most_waiting = max(most_waiting, feed._waiting[True])
                time.sleep(0.01)  # the consumer is the slower side
    finally:
        gateway.close()

    assert order.count("deals page") == 60
    assert order.count("companies page") == 5
    assert order[0] == "deals page"
    # the producer ran QUEUE_PAGES deal pages ahead, then walked the companies while it waited
    assert order.index("companies end") < 3 * stream.QUEUE_PAGES < order.index("deals end")
    assert most_waiting <= stream.QUEUE_PAGES
    assert not _search_threads()


class _FailingSearch(Gateway):
    """The deals search fails on its first page."""

    def search_all(self, object_type: str, filter_groups: Sequence[Mapping[str, Any]],
                   properties: Sequence[str], *, limit: int = 200) -> Iterator[SearchPage]:
        if object_type == "deals":
            raise RuntimeError("search broke")
        return super().search_all(object_type, filter_groups, properties, limit=limit)


class _FailingExpansion(Gateway):
    """Reading associations fails: the consumer side of the full read."""

    def read_associations(self, from_type: str, to_type: str,
                          ids: Sequence[str]) -> dict[str, list[AssociationLink]]:
        raise RuntimeError("associations broke")


class _FailingBatchRead(Gateway):
    """The second batch read fails in a worker while others are in flight (a slow answer each)."""

    lock = threading.Lock()
    batch_reads = 0

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
                   with_history: Sequence[str] = (), *, archived: bool = False) -> Any:
        with self.lock:
            self.batch_reads += 1
            number = self.batch_reads
        time.sleep(0.05)
        if number == 2:
            raise RuntimeError("batch read broke")
        return super().batch_read(object_type, ids, properties, with_history, archived=archived)


@pytest.mark.parametrize("gateway_type", [_FailingSearch, _FailingExpansion, _FailingBatchRead])
def test_a_failure_on_either_side_fails_the_run_and_stops_the_search_thread(
    make_engine: EngineFactory, gateway_type: type[Gateway]
) -> None:
    base = make_engine(generate_custom(COUNTS, seed=5))
    gateway = gateway_type(base.settings.hubspot)
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)
    try:
        with pytest.raises(SyncError, match="broke"):
            engine.full_sync(as_of=AS_OF)
    finally:
        gateway.close()
    assert not _read_threads()  # no search thread, no expansion worker left running
    assert engine.store.try_lock(engine.lock_name, "next", 60)  # the lock was released


def test_the_searches_fit_hubspot_limits_with_room_for_the_restart_filter(
    make_engine: EngineFactory,
) -> None:
    engine = make_engine()
    searches = full_searches(engine.contract)
    assert [(s.object_type, s.lead) for s in searches] == [
        ("deals", True), ("contacts", True), ("companies", False)]
    assert len(searches[2].groups) == 4  # members and carriers in one walk


@pytest.mark.parametrize(
    ("groups", "ok"),
    [
        ([{"filters": [{}] * 5}], True),  # 5 + the restart filter = 6
        ([{"filters": [{}] * 6}], False),  # 7 in one group
        ([{"filters": [{}]}] * 5, True),
        ([{"filters": [{}]}] * 6, False),  # 6 groups
        ([{"filters": [{}] * 3}] * 4 + [{"filters": [{}]}], True),  # 4 x 4 + 2 = 18
        ([{"filters": [{}] * 3}] * 4 + [{"filters": [{}] * 2}], False),  # 4 x 4 + 3 = 19
    ],
)
def test_check_search_limits(groups: list[dict[str, Any]], ok: bool) -> None:
    if ok:
        check_search_limits(groups)
    else:
        with pytest.raises(ValueError, match="limits"):
            check_search_limits(groups)


def test_a_full_sync_evaluates_what_it_read_exactly_as_the_mirror_gives_it_back(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The full sync evaluates the records its read kept (no second read of the whole
    mirror), and that evaluation equals one loaded from the mirror at the same moment."""
    engine = make_engine(generate_custom(COUNTS, seed=5))
    original = apply.evaluate
    seen: list[tuple[apply.Evaluation, apply.Evaluation, bool]] = []

    def evaluate(store: Any, contract: Any, terms: Any, as_of: date,
                 overlay: Any = None, *, complete: bool = False) -> apply.Evaluation:
        used = original(store, contract, terms, as_of, overlay, complete=complete)
        from_mirror = original(store, contract, terms, as_of)  # every row read back
        seen.append((used, from_mirror, overlay is not None and complete))
        return used

    monkeypatch.setattr(apply, "evaluate", evaluate)
    report = engine.full_sync(as_of=AS_OF)

    assert report.status == "ok"
    [(used, from_mirror, kept)] = seen
    assert kept  # the read's records, not a second pass over the mirror
    assert used.records == from_mirror.records
    assert len(used.records) > 1000
    assert used.patches == from_mirror.patches
    assert used.problems == from_mirror.problems
    assert used.result.ledger == from_mirror.result.ledger
    assert used.result.decisions == from_mirror.result.decisions
