"""Console benchmark: each page's render time over profile M's store (300 members, 20,000 deals).

Usage (repository root): ``python -m bench.bench_console [--repeat 30] [--rebuild]`` (JSON in
``bench/out/console.json``)

The store is built once by a full sync against a profile-M sandbox in a child process (rate
limits off, so building takes about a minute) and kept in ``bench/out/console_M.db`` for later
runs (``--rebuild`` builds it again). Each page is then requested ``--repeat`` times, logged in,
through the serve app in this process (``httpx.ASGITransport``: no network, no server threads),
after one warm-up request; the figure is the median and the slowest request. ``/healthz`` is
measured the same way in the same run: the floor any request through this app pays. The target
is < 100 ms per page; the machine's load average is recorded before and after.

The members and payouts pages keep their store reads while the store's data version holds
(``webhooks.console.cache``): their "(cold)" rows time the first request after a sync (a run
row is added before each request, which moves the version), the plain rows later requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.bench_sync import sandbox_process
from config.settings import HubSpotSettings, Settings, StoreSettings
from sync.clock import FixedClock, SystemClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from webhooks.app import ServeParts, create_app

TOKEN = "bench-admin-token"
TARGET_MS = 100.0
OUT = Path("bench/out")


def build_store(path: Path, seed: int) -> dict[str, Any]:
    """A full sync of profile M into a fresh SQLite store at ``path``."""
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    with sandbox_process("M", seed, rate_limited=False) as base:
        settings = Settings(hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"),
                                                    base_url=base, rate_limit_per_10s=1000,
                                                    search_per_s=50),
                            store=StoreSettings(url=url))
        store = Store.from_url(url)
        store.migrate()
        gateway = Gateway(settings.hubspot)
        engine = SyncEngine(settings, gateway=gateway, store=store,
                            clock=FixedClock(datetime.now(UTC)))
        started = time.monotonic()
        report = engine.full_sync(trigger="bench")
        took = time.monotonic() - started
        gateway.close()
        store.close()
    return {"status": report.status, "seconds": round(took, 1), "run_id": report.run_id}


def sizes(store: Store) -> dict[str, int]:
    contract = Settings().contract()
    return {
        "members": len(store.member_records(contract.program_type)),
        **{t: store.count_records(t) for t in ("companies", "contacts", "deals",
                                               "subscriptions")},
        "ledger_groups": len(store.ledger_groups(datetime.now(UTC).date())),
    }


async def _time(client: httpx.AsyncClient, path: str, repeat: int,
                before: Callable[[], None] | None = None) -> dict[str, Any]:
    first = await client.get(path)  # warm-up (template compile, caches)
    assert first.status_code == 200, (path, first.status_code)
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        answer = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(max(samples), 1),
            "bytes": len(first.content)}


def _new_run(store: Store) -> None:
    run_id = store.start_run("bench", None, "bench")
    store.finish_run(run_id, "ok", {})


async def measure(store: Store, repeat: int) -> dict[str, Any]:
    settings = Settings(store=StoreSettings(url="sqlite://"), admin={"token": TOKEN},
                        hubspot=HubSpotSettings(access_token=SecretStr("unused"),
                                                base_url="http://127.0.0.1:9"))
    gateway = Gateway(settings.hubspot)  # never called: the pages only read the store
    engine = SyncEngine(settings, gateway=gateway, store=store, clock=SystemClock())
    app = create_app(ServeParts(settings, store, engine, clock=SystemClock()))
    run_id = next(r.run_id for r in store.list_runs(500) if r.kind != "bench")
    pages = ["/console/", "/console/runs", f"/console/runs/{run_id}", "/console/members",
             "/console/members?type=partner&tier=gold", "/console/payouts",
             "/console/portals", "/docs"]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await _time(client, "/console/login", repeat)  # before logging in
            form = await client.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            done = await client.post("/console/login", data={"csrf": csrf.group(1),
                                                             "token": TOKEN})
            assert done.status_code == 303
            floor = await _time(client, "/healthz", repeat)
            results = {"/console/login": login}
            results.update({p: await _time(client, p, repeat) for p in pages})
            # Cold: the first request after a sync, which moves the store's data version and
            # so makes the members and payouts pages read the store again.
            for p in ("/console/members", "/console/payouts"):
                results[p + " (cold)"] = await _time(client, p, repeat, lambda: _new_run(store))
    gateway.close()
    return {"floor_healthz": floor, "pages": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT / "console.json")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / "console_M.db"
    built = build_store(db, args.seed) if args.rebuild or not db.exists() else None
    store = Store.from_url(f"sqlite:///{db}")
    load_before = os.getloadavg()
    result = asyncio.run(measure(store, args.repeat))
    load_after = os.getloadavg()
    result.update(store=sizes(store), built=built, repeat=args.repeat,
                  load_before=[round(x, 2) for x in load_before],
                  load_after=[round(x, 2) for x in load_after], target_ms=TARGET_MS)
    store.close()
    result["met"] = all(p["median_ms"] < TARGET_MS for p in result["pages"].values())
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
