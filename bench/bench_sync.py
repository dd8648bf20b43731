"""Sync engine benchmark: full sync, no-change incremental, no-op full sync, a baseline, each
against a floor computed without the engine.

Usage (repository root): ``python -m bench.bench_sync --profile S [--out bench/out/sync_S.json]``

The sandbox runs in a child process (so the peak RSS reported is the engine's alone) and
enforces HubSpot's limits (190 requests per rolling 10 s, search 5/s); our gateway paces to the
same budgets. Requests are counted below the gateway by ``bench.floors.CallCounter`` (an httpx
transport), never by the engine's metrics. Floors (``bench.floors``): the read floor from the
generated dataset's counts (counted in another child process from the same profile and seed)
at HubSpot's published per-call maxima; the write floor ceil(records written / 100) per type,
the records counted in the batch-update request bodies; the wall floor of those calls at the
budgets (rolling windows, as HubSpot's and the sandbox's are: 190 calls in any 10 s, 5 searches
in any second; ``bench.floors.wall_floor_s``). Then: an
incremental sync right after the full sync with nothing changed (floor: one window search page
per 200 records the full sync wrote, per type, and nothing else); a second full sync (must write
nothing); the baseline "read every record" (list endpoints over all four types, what general
connectors do). ``os.getloadavg()`` is recorded before and after every phase.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from bench.floors import CallCounter, DatasetCounts, dataset_counts, read_floor, wall_floor_s
from config.contract import contract_for_prefix
from config.settings import HubSpotSettings, Settings, StoreSettings
from sandbox.app import create_app
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.generator import generate
from sandbox.server import free_port
from sandbox.state import SandboxState
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store

TYPES = ("companies", "contacts", "deals", "subscriptions")


def baseline(gateway: Gateway) -> float:
    """List every record of every type (100 per page); seconds (the counter has the calls)."""
    started = time.monotonic()
    for object_type in TYPES:
        for _page in gateway.list_objects(object_type, ["hs_object_id"]):
            pass
    return time.monotonic() - started


def count_dataset(profile: str, seed: int) -> DatasetCounts:
    """In a child process: the floor's counts from the generated profile itself, read with the
    contract the generator wrote its properties with."""
    contract = contract_for_prefix()
    return dataset_counts(generate(profile, seed, contract=contract), contract)


def serve_sandbox(profile: str, seed: int, port: int, rate_limited: bool = True) -> None:
    """The child process: load the generated profile, serve it (with HubSpot's rate limits
    unless ``rate_limited`` is false)."""
    state = SandboxState()
    state.bulk_load(generate(profile, seed))
    limits = (RateLimitConfig(enabled=True, per_10s=190, search_per_s=5) if rate_limited
              else RateLimitConfig(enabled=False))
    uvicorn.run(create_app(SandboxConfig(rate_limits=limits), state), host="127.0.0.1",
                port=port, log_level="warning")


@contextmanager
def sandbox_process(
    profile: str, seed: int, timeout_s: float = 300.0, *, rate_limited: bool = True
) -> Iterator[str]:
    """Run the sandbox in a child process (forked before this process loads anything big, so
    this process's peak RSS is the engine's); yields its URL."""
    port = free_port()
    child = multiprocessing.get_context("fork").Process(
        target=serve_sandbox, args=(profile, seed, port, rate_limited), daemon=True)
    child.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if not child.is_alive():
                raise RuntimeError(f"the sandbox exited with code {child.exitcode}")
            try:
                if httpx.get(url + "/_sandbox/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not answer in time")
            time.sleep(0.2)
        yield url
    finally:
        child.terminate()
        child.join(10)


def run(profile: str, seed: int, with_baseline: bool,
        association_batch: int | None = None) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        counting = pool.apply_async(count_dataset, (profile, seed))
        with sandbox_process(profile, seed) as url, tempfile.TemporaryDirectory() as tmp:
            result = _measure(url, Path(tmp), counting.get, with_baseline, association_batch)
    result.update(profile=profile, seed=seed, peak_rss_mb=_peak_rss_mb())
    return result


def _measure(url: str, tmp: Path, counts: Any, with_baseline: bool,
             association_batch: int | None) -> dict[str, Any]:
    settings = Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=url),
        store=StoreSettings(url=f"sqlite:///{tmp / 'bench.db'}"),
    )
    store = Store.from_url(settings.store.url)
    store.migrate()
    counter = CallCounter()
    gateway = Gateway(settings.hubspot, transport=counter)
    engine = SyncEngine(settings, gateway=gateway, store=store)  # the system clock
    out: dict[str, Any] = {"peak_rss_mb_before_sync": _peak_rss_mb()}
    try:
        full = _phase(counter, lambda: engine.full_sync())
        out["peak_rss_mb_after_full_sync"] = _peak_rss_mb()
        out["full"] = full | _full_floors(counts(), full, association_batch)
        incremental = _phase(counter, lambda: engine.incremental_sync())
        out["incremental_no_change"] = incremental | _incremental_floor(full["updated"],
                                                                        incremental)
        out["noop_full"] = _phase(counter, lambda: engine.full_sync())
        if with_baseline:
            out["baseline"] = _phase(counter, lambda: baseline(gateway))
            out["baseline"]["ratio_to_full_read_calls"] = round(
                out["baseline"]["calls_total"] / max(full["read_calls"], 1), 2)
    finally:
        gateway.close()
        store.close()
    return out


def _phase(counter: CallCounter, action: Any) -> dict[str, Any]:
    """Run ``action`` from a fresh counter: calls by kind, records updated, 429s, wall, load."""
    counter.reset()
    load_before = os.getloadavg()
    started = time.monotonic()
    report = action()
    wall = time.monotonic() - started
    calls = counter.by_kind()
    reads = sum(n for k, n in calls.items() if k != "batch_update")
    out: dict[str, Any] = {
        "calls": calls, "calls_total": sum(calls.values()), "read_calls": reads,
        "write_calls": calls.get("batch_update", 0), "updated": dict(counter.updated),
        "rate_limited_429": counter.rate_limited, "wall_s": round(wall, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        # seconds from the phase's start to the first request and the last answer of each kind
        "spans_s": {k: [round(a - started, 1), round(b - started, 1)]
                    for k, (a, b) in counter.spans.items()},
    }
    if hasattr(report, "status"):
        out.update(status=report.status, kind=report.kind, records_read=report.records_read,
                   patches=len(report.patches))
    return out


def _full_floors(counts: DatasetCounts, full: dict[str, Any],
                 association_batch: int | None) -> dict[str, Any]:
    floor = read_floor(counts, association_batch=association_batch)
    writes = {t: math.ceil(n / 100) for t, n in full["updated"].items()}
    general = floor["associations"] + floor["batch_read"] + sum(writes.values())
    wall = wall_floor_s(general, floor["search"])
    calls = full["calls"]
    return {
        "dataset_counts": {k: getattr(counts, k) for k in counts.__dataclass_fields__},
        "read_floor": floor,
        "read_floor_total": sum(floor.values()),
        "read_ratio": round(full["read_calls"] / max(sum(floor.values()), 1), 3),
        "read_ratio_by_kind": {k: round(calls.get(k, 0) / n, 3) for k, n in floor.items() if n},
        "write_floor": writes,
        "write_ratio": round(full["write_calls"] / max(sum(writes.values()), 1), 3),
        "wall_floor_s": round(wall, 1),
        "wall_ratio": round(full["wall_s"] / max(wall, 1e-9), 2),
    }


def _incremental_floor(written: dict[str, int], run: dict[str, Any]) -> dict[str, Any]:
    """Nothing changed: one window search per type, a page per 200 records we wrote to it."""
    searches = sum(max(1, math.ceil(written.get(t, 0) / 200)) for t in TYPES)
    return {"floor_calls": {"search": searches},
            "wall_floor_s": round(wall_floor_s(0, searches), 1),
            "extra_calls": run["calls_total"] - searches}


def _peak_rss_mb() -> int:
    """This process's peak resident set (Linux reports KiB); the sandbox child is not in it."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the list-everything baseline (about 3 minutes on M)")
    parser.add_argument("--association-batch", type=int, default=None,
                        help="ids per associations v4 batch read in the floor (default 100)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = run(args.profile, args.seed, with_baseline=not args.no_baseline,
                 association_batch=args.association_batch)
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
