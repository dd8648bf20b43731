"""Every read path mirrors a subscription the same way: with its ``hs_mrr`` history (R7.3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from tests.engine.e2_rig import Rig, VirtualTime, rig, settings_for
from tests.engine.seed import C, Seed


def _program() -> tuple[Seed, str, str]:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com",
                **{C.paperwork_completed_at: "2026-01-05"})
    prospect = seed.prospect("acme.com", by="P1", at=date(2026, 1, 10))
    deal = seed.deal(prospect, date(2026, 2, 1), date(2026, 1, 20))
    sub = seed.subscription(deal, "65", date(2026, 2, 1))
    return seed, deal, sub


@pytest.fixture
def program_rig(tmp_path: Path) -> Iterator[tuple[Rig, str, str]]:
    seed, deal, sub = _program()
    with rig(tmp_path, seed.dataset()) as r:
        yield r, deal, sub


def _engine(r: Rig, tmp_path: Path, name: str, stack: ExitStack) -> SyncEngine:
    settings = settings_for(r.sandbox.url, tmp_path / f"{name}.db")
    store = Store.from_url(settings.store.url)
    store.migrate()
    stack.callback(store.close)
    vt = VirtualTime()
    gateway = Gateway(settings.hubspot, clock=vt.monotonic, sleep=vt.sleep)
    stack.callback(gateway.close)
    return SyncEngine(settings, gateway=gateway, store=store, clock=r.clock)


def _row(engine: SyncEngine, object_type: str, object_id: str) -> dict[str, Any]:
    row = engine.store.get_records(object_type, [object_id])[object_id]
    return {"properties": dict(row.properties), "history": dict(row.history),
            "associations": dict(row.associations), "updated_at": row.updated_at}


def test_incremental_sync_keeps_the_mrr_history(program_rig: tuple[Rig, str, str]) -> None:
    r, deal, sub = program_rig
    assert r.engine.full_sync().status == "ok"
    earned = r.props("deals", deal)[C.commission_earned]
    assert earned == "130.00"  # Feb..Nov 2026 at 65 x 20%
    r.later(30)
    r.edit("subscriptions", sub, hs_mrr="650")  # an upgrade from today: later months only
    r.later(5)

    report = r.engine.incremental_sync()

    assert report.kind == "incremental"
    assert report.records_read["subscriptions"] == 1
    assert r.props("deals", deal)[C.commission_earned] == "130.00"
    fresh = r.engine.full_sync(dry_run=True)
    assert [p for p in fresh.patches if p.object_type == "deals"] == []


ReadPath = Callable[[SyncEngine], object]
# Every path that reads the subscription (a deal-only resync keeps the mirrored copy).
PATHS: dict[str, ReadPath] = {
    "incremental": lambda e: e.incremental_sync(),
    "admin records": lambda e: e.targeted_sync([("subscriptions", SUB[0])], trigger="admin"),
    "webhook": lambda e: e.targeted_sync([("subscriptions", SUB[0])], trigger="webhook"),
    "member": lambda e: e.resync_member("P1"),
    "type subscriptions": lambda e: e.resync_type("subscriptions"),
    "full": lambda e: e.full_sync(),
}
SUB: list[str] = []


def test_every_read_path_mirrors_the_same_rows(
    program_rig: tuple[Rig, str, str], tmp_path: Path
) -> None:
    r, deal, sub = program_rig
    SUB[:] = [sub]
    with ExitStack() as stack:
        engines = {name: _engine(r, tmp_path, name.replace(" ", "_"), stack) for name in PATHS}
        for engine in engines.values():
            assert engine.full_sync().status == "ok"
        r.later(30)
        r.edit("subscriptions", sub, hs_mrr="650")
        r.later(5)
        fresh = _engine(r, tmp_path, "fresh", stack)
        assert fresh.full_sync().status == "ok"
        want = {"sub": _row(fresh, "subscriptions", sub), "deal": _row(fresh, "deals", deal)}

        for name, run in PATHS.items():
            run(engines[name])
            got = {"sub": _row(engines[name], "subscriptions", sub),
                   "deal": _row(engines[name], "deals", deal)}
            assert got == want, name
    assert len(want["sub"]["history"]["hs_mrr"]) == 2
