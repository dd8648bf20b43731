"""Sync engine benchmark: a full sync against a rate-limited sandbox, its floors, a baseline.

Usage (repository root): ``python bench/bench_sync.py --profile S [--out bench/out/sync_S.json]``

The sandbox runs in a child process (so the peak RSS reported is the engine's alone) and
enforces HubSpot's limits (190 requests per rolling 10 s, search 5/s); our gateway paces to the
same budgets. Measured: API calls per endpoint of a full sync; the minimum
read calls for the records that matter (formula in ``read_floor``) and our ratio to it; write
calls against ceil(changed / 100) per type; wall time against the floor the budget sets; 429s
from our own pacing; a second full sync that must write nothing; peak RSS; and the baseline
"read every record" (list endpoints over all four types, what general connectors do).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings, StoreSettings
from sandbox.app import create_app
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.generator import generate
from sandbox.server import free_port
from sandbox.state import SandboxState
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.engine.report import RunReport
from sync.gateway import Gateway
from sync.store import Store

TYPES = ("companies", "contacts", "deals", "subscriptions")


def read_floor(store: Store, settings: Settings) -> dict[str, int]:
    """Fewest read calls that fetch the records that matter, from the mirror's contents.

    searches: ceil(companies with a program property / 200) + ceil(carrier contacts / 200)
              + ceil(deals / 200)
    associations: 2 * ceil(deals / 100) (companies, subscriptions) + ceil(contacts / 100)
    batch reads: ceil(other companies the deals/contacts point at / 100)
                 + ceil(subscriptions / 50) (hs_mrr history: 50 per call)
    """
    c = settings.contract()
    names = [s.name for s in c.property_specs() if s.object_type == "companies"]
    own = other = 0
    for row in store.iter_records("companies"):
        if any(row.properties.get(n) for n in names):
            own += 1
        else:
            other += 1
    contacts = store.count_records("contacts")
    deals = store.count_records("deals")
    subs = store.count_records("subscriptions")
    return {
        "search": math.ceil(own / 200) + math.ceil(contacts / 200) + math.ceil(deals / 200),
        "associations": 2 * math.ceil(deals / 100) + math.ceil(contacts / 100),
        "batch_read": math.ceil(other / 100) + math.ceil(subs / 50),
    }


def wall_floor_s(calls: dict[str, int], per_10s: int, search_per_s: int) -> float:
    """The budget's floor: every call within 190/10 s, searches also within 5/s."""
    total = sum(calls.values())
    searches = sum(n for label, n in calls.items() if label.endswith("/search"))
    return max(total / (per_10s / 10), searches / search_per_s)


def baseline(gateway: Gateway) -> tuple[int, float]:
    """List every record of every type (100 per page): calls and seconds."""
    before = gateway.metrics.snapshot()["totals"]["calls"]
    started = time.monotonic()
    for object_type in TYPES:
        for _page in gateway.list_objects(object_type, ["hs_object_id"]):
            pass
    return gateway.metrics.snapshot()["totals"]["calls"] - before, time.monotonic() - started


def serve_sandbox(profile: str, seed: int, port: int) -> None:
    """The child process: load the generated profile, serve it with HubSpot's rate limits."""
    state = SandboxState()
    state.bulk_load(generate(profile, seed))
    limits = RateLimitConfig(enabled=True, per_10s=190, search_per_s=5)
    uvicorn.run(create_app(SandboxConfig(rate_limits=limits), state), host="127.0.0.1",
                port=port, log_level="warning")


@contextmanager
def sandbox_process(profile: str, seed: int, timeout_s: float = 300.0) -> Iterator[str]:
    """Run the sandbox in a child process (forked before this process loads anything big, so
    this process's peak RSS is the engine's); yields its URL."""
    port = free_port()
    child = multiprocessing.get_context("fork").Process(
        target=serve_sandbox, args=(profile, seed, port), daemon=True)
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


def run(profile: str, seed: int) -> dict[str, Any]:
    with sandbox_process(profile, seed) as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=url),
            store=StoreSettings(url=f"sqlite:///{Path(tmp) / 'bench.db'}"),
        )
        store = Store.from_url(settings.store.url)
        store.migrate()
        gateway = Gateway(settings.hubspot)
        engine = SyncEngine(settings, gateway=gateway, store=store,
                            clock=FixedClock(datetime.now(UTC)))
        rss_before = _peak_rss_mb()
        started = time.monotonic()
        full = engine.full_sync()
        full_s = time.monotonic() - started
        rss_full = _peak_rss_mb()
        floor = read_floor(store, settings)
        started = time.monotonic()
        noop = engine.full_sync()
        noop_s = time.monotonic() - started
        base_calls, base_s = baseline(gateway)
        result = summary(full, full_s, floor, noop, settings)
        result.update(profile=profile, baseline_calls=base_calls, baseline_s=round(base_s, 1),
                      baseline_ratio=round(base_calls / max(result["read_calls"], 1), 2),
                      noop_s=round(noop_s, 1), records_read=full.records_read,
                      pacing_waited_s=round(gateway.limiter.waited_s, 1),
                      peak_rss_mb_before_sync=rss_before, peak_rss_mb_after_full_sync=rss_full)
        gateway.close()
        store.close()
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def _peak_rss_mb() -> int:
    """This process's peak resident set (Linux reports KiB); the sandbox child is not in it."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def summary(full: RunReport, full_s: float, floor: dict[str, int], noop: RunReport,
            settings: Settings) -> dict[str, Any]:
    hub = settings.hubspot
    min_reads = sum(floor.values())
    wall_floor = wall_floor_s(full.api_calls, hub.rate_limit_per_10s, hub.search_per_s)
    write_floor = {t: math.ceil(n / 100) for t, n in full.written.items()}
    return {
        "status": full.status,
        "api_calls": full.api_calls,
        "read_calls": full.read_calls,
        "read_floor": floor,
        "read_ratio": round(full.read_calls / max(min_reads, 1), 3),
        "write_calls": full.write_calls,
        "write_floor": write_floor,
        "written": full.written,
        "wall_s": round(full_s, 1),
        "wall_floor_s": round(wall_floor, 1),
        "wall_ratio": round(full_s / max(wall_floor, 1e-9), 2),
        "rate_limited": full.rate_limited,
        "noop_written": sum(noop.written.values()),
        "noop_write_calls": noop.write_calls,
        "noop_rate_limited": noop.rate_limited,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    result = run(args.profile, args.seed)
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
