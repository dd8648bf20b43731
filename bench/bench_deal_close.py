"""Deal close -> properties written, through real signed webhooks (sandbox -> serve -> sandbox).

    python -m bench.bench_deal_close [--deals 100] [--gap 0.2] [--out bench/out/deal_close.json]

The sandbox (in a thread, no rate limits) delivers its webhooks to the serve app (uvicorn on a
thread, real engine, worker and SQLite inbox). After a full sync, deals are moved to closed-won
one every ``gap`` seconds, as a user would; the latency of each is the time from the change in
the sandbox to its ``partner_attributed_to`` being written back there.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.server import free_port, serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock, SystemClock
from tests.engine.seed import C, Seed, value

SECRET = "bench-secret"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.2)
    parser.add_argument("--out", default="bench/out/deal_close.json")
    args = parser.parse_args()
    port = free_port()
    config = SandboxConfig(
        rate_limits=RateLimitConfig(enabled=False),
        webhooks=WebhookConfig(url=f"http://127.0.0.1:{port}/webhooks/hubspot",
                               client_secret=SECRET),
    )
    seed = Seed()
    deals: list[tuple[str, str]] = []
    for n in range(args.deals):
        code = f"P{n // 20}"  # 20 registrations per member: well inside the capacity limit
        if n % 20 == 0:
            seed.member(code, "partner", date(2023, 1, 1), f"{code.lower()}.example.com")
        company = seed.prospect(f"prospect{n}.com", by=code, at=date(2024, 1, 10))
        deals.append((seed.deal(company, closed=None, created=date(2024, 2, 1)), code))
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(config, SandboxState()) as sandbox:
        sandbox.state.bulk_load(seed.dataset())
        settings = Settings(
            hubspot={"access_token": "sandbox-token", "base_url": sandbox.url,
                     "rate_limit_per_10s": 1000, "search_per_s": 50},
            store={"url": f"sqlite:///{Path(tmp) / 'bench.db'}"},
            webhooks={"client_secret": SECRET, "public_url": f"http://127.0.0.1:{port}"},
            scheduler={"enabled": False},
        )
        runtime = build_runtime(settings, clock=FixedClock(datetime(2024, 6, 1, tzinfo=UTC)))
        runtime.engine.full_sync()
        store = sandbox.state.types["deals"]
        latencies: list[float] = []
        with ServerThread(build_parts(runtime, clock=SystemClock()), port=port):
            time.sleep(1.0)  # the full sync's own echoes pass by
            for deal, code in deals:
                started = time.perf_counter()
                sandbox.state.update(store, store.records[int(deal)], {
                    "dealstage": "closedwon", "closedate": "2024-05-20T00:00:00.000Z"})
                while value(sandbox.state, "deals", deal, C.attributed_to) != code:
                    if time.perf_counter() - started > 30:
                        raise SystemExit(f"deal {deal} not written within 30 s")
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - started)
                time.sleep(args.gap)
        runtime.close()
    latencies.sort()
    result = {"deals": len(latencies), "gap_s": args.gap,
              "p50_s": round(latencies[len(latencies) // 2], 3),
              "p99_s": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3),
              "max_s": round(latencies[-1], 3)}
    print(json.dumps(result))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
