"""A sandbox and an engine sharing one hand-driven clock, for incremental/targeted/trap tests.

The sandbox stamps every write with the engine's ``FixedClock``, so windows are exact: a record
edited at ``clock + 1 s`` is "changed during the run" of a run started at ``clock``. The
gateway's pacing and retries run on ``VirtualTime``: waits are recorded, never slept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from config.contract import CrmContract
from config.settings import HubSpotSettings, Settings, StoreSettings, SyncSettings
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.dataset import Dataset
from sandbox.generator import Counts, generate_custom
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sandbox.store import Record
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store

C = CrmContract()
START = datetime(2026, 11, 2, 12, tzinfo=UTC)
SMALL = Counts(contacts=1500, companies=400, deals=150, subscriptions=120, members=5)
SEARCH = "POST /crm/v3/objects/{type}/search"
LIST = "GET /crm/v3/objects/{type}"
BATCH_READ = "POST /crm/v3/objects/{type}/batch/read"
BATCH_UPDATE = "POST /crm/v3/objects/{type}/batch/update"
ASSOC_READ = "POST /crm/v4/associations/{from}/{to}/batch/read"


@dataclass
class VirtualTime:
    """A monotonic clock that only moves when something sleeps on it."""

    now_s: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now_s += seconds


def settings_for(url: str, db: Path, **sync: Any) -> Settings:
    """Settings of a test engine: sandbox URL, a SQLite file, budgets far above our load."""
    return Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=url,
                                search_per_s=50, rate_limit_per_10s=1000),
        store=StoreSettings(url=f"sqlite:///{db}"),
        sync=SyncSettings(**sync),
    )


@dataclass
class Rig:
    """One sandbox, one store, one engine, one clock."""

    sandbox: RunningSandbox
    clock: FixedClock
    engine: SyncEngine
    store: Store
    time: VirtualTime

    @property
    def state(self) -> SandboxState:
        return self.sandbox.state

    def later(self, minutes: float) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def record(self, object_type: str, object_id: str) -> Record:
        return self.state.types[object_type].records[int(object_id)]

    def props(self, object_type: str, object_id: str) -> dict[str, str]:
        """The record's non-empty property values as the sandbox holds them."""
        store = self.state.types[object_type]
        rec = self.record(object_type, object_id)
        return {n: v for n in store.props if (v := store.raw(rec, n))}

    def edit(self, object_type: str, object_id: str, **values: str) -> None:
        """A user's edit in HubSpot, stamped with the clock."""
        store = self.state.types[object_type]
        self.state.update(store, self.record(object_type, object_id), values)

    def archive(self, object_type: str, object_id: str) -> None:
        store = self.state.types[object_type]
        self.state.archive(store, self.record(object_type, object_id))

    def ids(self, object_type: str, **where: str) -> list[str]:
        """Ids of live records whose properties equal ``where`` (``"*"``: has a value)."""
        store = self.state.types[object_type]
        found = []
        for rec in store.records.values():
            if rec.archived_ms is not None:
                continue
            if all((store.raw(rec, n) or "") == v if v != "*" else store.raw(rec, n)
                   for n, v in where.items()):
                found.append(str(rec.id))
        return sorted(found, key=int)


def sandbox_state(clock: FixedClock, dataset: Dataset | None) -> SandboxState:
    state = SandboxState(lambda: int(clock.now().timestamp() * 1000))
    state.bulk_load(dataset if dataset is not None else generate_custom(SMALL, seed=7))
    return state


@contextmanager
def rig(
    tmp_path: Path, dataset: Dataset | None = None, *, name: str = "store",
    config: SandboxConfig | None = None, lag_ms: int = 0, **sync: Any,
) -> Iterator[Rig]:
    """A running rig over ``dataset`` (a small generated program by default)."""
    clock = FixedClock(START)
    state = sandbox_state(clock, dataset)
    cfg = config or SandboxConfig(rate_limits=RateLimitConfig(enabled=False))
    cfg.search_lag_s = lag_ms / 1000  # the app applies it to the state
    with serve_in_thread(cfg, state) as running:
        settings = settings_for(running.url, tmp_path / f"{name}.db", **sync)
        store = Store.from_url(settings.store.url)
        store.migrate()
        vt = VirtualTime()
        gateway = Gateway(settings.hubspot, clock=vt.monotonic, sleep=vt.sleep)
        try:
            engine = SyncEngine(settings, gateway=gateway, store=store, clock=clock)
            yield Rig(running, clock, engine, store, vt)
        finally:
            gateway.close()
            store.close()
