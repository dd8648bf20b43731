"""Generated small programs for the path-independence tests (§0, R7.6), and their runs.

A ``World`` is a sandbox with one program loaded and a store of its own: ``sync`` runs a real
full sync (engine, store, sandbox) at a date; ``snapshot`` gives every output written on the
records, the store's decisions and its ledger, to compare two worlds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings, StoreSettings
from sandbox.associations import AssociationStore
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.dataset import Dataset, SeedAssociation
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sandbox.store import TypeStore
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from tests.engine.seed import C, Seed

D0 = date(2024, 1, 1)
OUTPUT_TYPES = ("companies", "contacts", "deals")


def day(offset: int) -> date:
    return D0 + timedelta(days=offset)


offsets = st.integers(min_value=0, max_value=300)


@st.composite
def programs(draw: st.DrawFn) -> Dataset:
    """Two members, a few requests (some with re- or deregistration dates), deals (some
    shared) and subscriptions; any fact may lie in the future of some evaluation date:
    requests, shared deals' creation, closes, paperwork, exits."""
    seed = Seed()
    paperwork = draw(st.one_of(st.none(), offsets))
    exit_at = draw(st.one_of(st.none(), offsets))
    extra = {C.paperwork_completed_at: day(paperwork).isoformat()} if paperwork is not None else {}
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com", **extra)
    exit_extra: dict[str, str] = {}
    if exit_at is not None:
        exit_extra = {C.program_exit: draw(st.sampled_from(["left", "downgraded_to_provider"])),
                      C.program_exit_at: day(exit_at).isoformat()}
    seed.member("P2", "partner", date(2023, 6, 1), "p2.example.com", **exit_extra)
    prospects: list[str] = []
    for i in range(draw(st.integers(1, 3))):
        by = draw(st.sampled_from(["P1", "P2"]))
        later: dict[str, str] = {}
        for name in (C.reregistration_requested_at, C.deregistration_requested_at):
            if draw(st.integers(0, 3)) == 0:
                later[name] = day(draw(offsets)).isoformat()
        prospects.append(seed.prospect(f"d{i}.com", by=by, at=day(draw(offsets)), **later))
    subs: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        company = draw(st.sampled_from(prospects))
        close = draw(st.one_of(st.none(), offsets))
        shared = draw(st.sampled_from([{}, {C.shared_by: "P1"}, {C.shared_by: "P2"}]))
        created = day(draw(st.integers(0, 120)))
        deal = seed.deal(company, day(close) if close is not None else None, created, **shared)
        if subs and draw(st.booleans()):  # R7.6: a subscription on two deals
            seed.links.append(SeedAssociation("deals", deal, "subscriptions", subs[-1]))
        else:
            start = day(close if close is not None else draw(offsets))
            subs.append(seed.subscription(deal, draw(st.sampled_from(["50", "100"])), start))
    return seed.dataset()


@st.composite
def ascending_dates(draw: st.DrawFn) -> list[tuple[date, str]]:
    """One to three evaluation dates, strictly ascending, across the facts' range, each with
    the kind of run taken at it (the first is a full sync: a new store has no checkpoint)."""
    picked = draw(st.lists(st.integers(0, 330), min_size=1, max_size=3, unique=True))
    kinds = ["full", *(draw(st.sampled_from(["full", "incremental", "reevaluate"]))
                       for _ in picked[1:])]
    return [(day(o), k) for o, k in zip(sorted(picked), kinds, strict=True)]


@dataclass
class World:
    sandbox: RunningSandbox
    engine: SyncEngine

    def sync(self, as_of: date, kind: str = "full") -> None:
        """A writing run at ``as_of``: ``full``, ``incremental`` or ``reevaluate``."""
        runs = {"full": self.engine.full_sync, "incremental": self.engine.incremental_sync,
                "reevaluate": self.engine.reevaluate}
        report = runs[kind](as_of=as_of)
        assert report.status == "ok", report.write_failures

    def snapshot(self) -> dict[str, Any]:
        """Outputs on every record, stored decisions, the ledger."""
        names = {t: C.output_names(t) for t in OUTPUT_TYPES}
        outputs = {}
        for object_type in OUTPUT_TYPES:
            store = self.sandbox.state.types[object_type]
            for rec in store.records.values():
                values = {n: store.raw(rec, n) or "" for n in names[object_type]}
                outputs[(object_type, rec.id)] = {n: v for n, v in values.items() if v}
        deals = [str(i) for i in self.sandbox.state.types["deals"].records]
        return {"outputs": outputs, "decisions": self.engine.store.load_decisions(),
                "ledger": self.engine.store.ledger_for_deals(deals)}


def _settings(url: str, db: Path) -> Settings:
    return Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=url,
                                search_per_s=50, rate_limit_per_10s=1000, max_attempts=2,
                                max_retry_wait_s=0),
        store=StoreSettings(url=f"sqlite:///{db}"),
    )


def reload(state: SandboxState, dataset: Dataset) -> None:
    """Empty a served sandbox and load ``dataset`` (ids are the dataset's), so one server
    serves example after example."""
    with state.lock:
        state.types = {name: TypeStore(name) for name in state.types}
        state.associations = AssociationStore()
        state.owners = []
        state.version += 1  # search caches key on it
    state.bulk_load(dataset)


@contextmanager
def sandboxes(n: int) -> Iterator[list[RunningSandbox]]:
    """``n`` sandbox servers (no rate limits), to ``reload`` with a program each."""
    config = SandboxConfig(rate_limits=RateLimitConfig(enabled=False))
    with ExitStack() as stack:
        yield [stack.enter_context(serve_in_thread(config, SandboxState())) for _ in range(n)]


@contextmanager
def world(
    running: RunningSandbox, dataset: Dataset | None, store_url: str | None, db: Path
) -> Iterator[World]:
    """``running`` reloaded with ``dataset`` (None: as it is), and a migrated store
    (``store_url``, else the SQLite file ``db``) with an engine over both."""
    if dataset is not None:
        reload(running.state, dataset)
    settings = _settings(running.url, db)
    with ExitStack() as stack:
        store = Store.from_url(store_url or settings.store.url)
        store.migrate()
        stack.callback(store.close)
        gateway = Gateway(settings.hubspot)
        stack.callback(gateway.close)
        clock = FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
        yield World(running, SyncEngine(settings, gateway=gateway, store=store, clock=clock))
