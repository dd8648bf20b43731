"""The sync traps: >10,000 records on one timestamp, 429s and 5xx bursts, a killed process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.dataset import Dataset, SeedRecord
from sandbox.events import ChangeEvent
from sync.engine import SyncEngine
from sync.store import Store
from tests.engine.e2_rig import BATCH_UPDATE, SEARCH, C, Rig, rig

REPO = Path(__file__).resolve().parents[2]


def settle(r: Rig) -> None:
    r.engine.full_sync()
    r.later(30)
    r.engine.incremental_sync()
    r.later(30)


def member_code(r: Rig) -> str:
    return r.props("companies", r.ids("companies", **{C.program_type: "*"})[0])[C.code]


@pytest.mark.slow
def test_more_than_10000_records_on_one_timestamp(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        settle(r)
        code, stamp = member_code(r), int(r.clock.now().timestamp() * 1000) - 60_000
        r.state.bulk_load(Dataset(records=[
            SeedRecord("contacts", str(50_000_001 + i),
                       {"email": f"u{i}@d{i}.example", C.registration_requested_by: code,
                        C.registration_requested_at: "2026-11-01"}, stamp, stamp)
            for i in range(10_500)]))
        report = r.engine.incremental_sync()
        assert report.status == "ok"
        assert report.records_read["contacts"] == 10_500
        # 50 pages to the cap, a restart from the last id + 1, 3 more pages; 3 other windows
        assert report.api_calls[SEARCH] == 53 + 3
        assert report.written["contacts"] == 10_500
        companies = -(-report.written.get("companies", 0) // 100)  # the member's counters
        assert report.api_calls[BATCH_UPDATE] == 105 + companies
        assert len(r.ids("contacts", **{C.registration_status: "*"})) >= 10_500


def put_faults(r: Rig, rules: list[dict[str, Any]]) -> None:
    httpx.put(r.sandbox.url + "/_sandbox/faults", json=rules).raise_for_status()


def test_429_without_retry_after_and_5xx_bursts(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        put_faults(r, [
            {"kind": "429_no_retry_after", "path_regex": "/search", "count": 3},
            {"kind": "503", "path_regex": "/batch/read", "count": 2},
            {"kind": "502", "path_regex": "associations", "count": 2},
            {"kind": "504", "path_regex": "/batch/update", "count": 1},
        ])
        report = r.engine.full_sync()
        assert report.status == "ok"
        assert report.rate_limited == 3
        totals = r.engine.gateway.metrics.snapshot()["totals"]
        assert totals["retries"] == 8
        assert totals["failed_calls"] == 0
        assert sum(1 for s in r.time.slept if s >= 9.0) >= 3  # waited out the 10 s window
        put_faults(r, [])
        r.later(60)
        assert r.engine.incremental_sync().patches == []


def outputs(r: Rig) -> dict[tuple[str, str], dict[str, str]]:
    names = {s.name for s in C.property_specs() if s.output}
    found = {}
    for t in ("companies", "contacts", "deals"):
        for i in r.ids(t):
            found[(t, i)] = {k: v for k, v in r.props(t, i).items() if k in names}
    return found


def ledger(store: Store) -> list[Any]:
    return store.ledger_for_deals(store.record_keys("deals"))


def edits(r: Rig) -> None:
    """250 new requests: three batch updates of contacts."""
    code, mirrored = member_code(r), r.store.record_keys("contacts")
    noise = [i for i in r.ids("contacts") if i not in mirrored][:250]
    for i in noise:
        r.edit("contacts", i, **{C.registration_requested_by: code,
                                 C.registration_requested_at: "2026-11-02"})
    r.later(5)


@pytest.mark.slow
def test_killed_mid_sync_then_restarted_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    for twin in ("a", "b"):
        (tmp_path / twin).mkdir()
    with rig(tmp_path / "a") as a, rig(tmp_path / "b") as b:
        for r in (a, b):
            settle(r)
            edits(r)
        b.engine.incremental_sync()
        written: list[ChangeEvent] = []
        first = threading.Event()

        def seen(event: ChangeEvent) -> None:
            if event.kind == "propertyChange":
                written.append(event)
                first.set()

        a.state.bus.subscribe(seen)
        put_faults(a, [{"kind": "slow", "path_regex": "/batch/update", "slow_s": 2.0}])
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.e2_child", a.sandbox.url,
             str(tmp_path / "a" / "store.db"), a.clock.now().isoformat()], cwd=REPO)
        try:
            assert first.wait(60), "the child never wrote"
            time.sleep(0.5)  # the second batch is now waiting on the slow fault
            child.kill()
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
        partial = len({e.object_id for e in written})
        assert 0 < partial < 250
        put_faults(a, [])
        # The dead child's SQLite lock lease (60 s, no longer renewed) must expire first.
        late = Store.from_url(a.engine.settings.store.url,
                              clock=lambda: datetime.now(UTC) + timedelta(minutes=2))
        restarted = SyncEngine(a.engine.settings, gateway=a.engine.gateway, store=late,
                               clock=a.clock)
        report = restarted.incremental_sync()
        late.close()
        assert report.status == "ok"
        assert outputs(a) == outputs(b)
        assert ledger(a.store) == ledger(b.store)
        keys = [(m.deal_id, m.subscription_id, m.month_index) for m in ledger(a.store)]
        assert len(keys) == len(set(keys))
