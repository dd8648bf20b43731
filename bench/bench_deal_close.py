"""Deal close -> properties written, end to end, every part in its own process, limits on.

    python -m bench.bench_deal_close [--deals 100] [--gap 0.2] [--out bench/out/deal_close.json]

Three processes besides this one: the sandbox (rate limits on: 190 per 10 s and 5 searches per
second, the same budget the gateway paces to), ``partner-sync serve`` (worker process and
scheduler on, SQLite store filled by ``partner-sync sync --full``) and its worker process. The
sandbox delivers signed webhooks to serve. Deals are moved to closed-won one every ``gap``
seconds, as a user would in HubSpot's UI: through a control route of the sandbox process
(``/_sandbox/bench/*``, outside the API budget, as UI edits are), which also answers the
property reads the bench polls with. The latency of a deal is the time from the change to its
``partner_attributed_to`` being written back, polled every 10 ms. Dates are relative to today
because serve evaluates the rules at the current date.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.bench_webhooks import _cli, _load, _process
from sandbox.server import free_port
from tests.engine.seed import C, Seed

SECRET = "bench-secret"
MEMBER_DEALS = 20  # registrations per member: well inside the capacity limit


def _seed(deals: int, today: date) -> tuple[Seed, list[tuple[str, str]]]:
    seed = Seed()
    out: list[tuple[str, str]] = []
    for n in range(deals):
        code = f"P{n // MEMBER_DEALS}"
        if n % MEMBER_DEALS == 0:
            seed.member(code, "partner", today - timedelta(days=400), f"{code.lower()}.example.com")
        company = seed.prospect(f"prospect{n}.com", by=code, at=today - timedelta(days=30))
        out.append((seed.deal(company, closed=None, created=today - timedelta(days=20)), code))
    return seed, out


def _sandbox_main(port: int, serve_port: int, deals: int) -> None:
    """The sandbox process: the seeded program, webhooks to serve, and the bench's UI routes."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from sandbox.app import create_app
    from sandbox.config import SandboxConfig, WebhookConfig
    from sandbox.state import SandboxState

    today = datetime.now(UTC).date()
    seed, _ = _seed(deals, today)
    state = SandboxState()
    state.bulk_load(seed.dataset())
    config = SandboxConfig(webhooks=WebhookConfig(
        url=f"http://127.0.0.1:{serve_port}/webhooks/hubspot", client_secret=SECRET))
    app = create_app(config, state)
    store = state.types["deals"]

    async def close(request: Request) -> Response:
        deal = int(request.query_params["deal"])
        state.update(store, store.records[deal], {
            "dealstage": "closedwon", "closedate": f"{today.isoformat()}T00:00:00.000Z"})
        return Response(status_code=204)

    async def attributed(request: Request) -> Response:
        deal = int(request.query_params["deal"])
        return JSONResponse({"value": store.raw(store.records[deal], C.attributed_to)})

    app.router.routes[0:0] = [Route("/_sandbox/bench/close", close, methods=["POST"]),
                              Route("/_sandbox/bench/attributed", attributed, methods=["GET"])]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _env(store_url: str, sandbox_url: str, port: int) -> dict[str, str]:
    return {**os.environ, "PARTNER_SYNC_STORE__URL": store_url,
            "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox_url,
            "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
            "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET": SECRET,
            "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PARTNER_SYNC_LOG_LEVEL": "WARNING"}


def _latency(client: httpx.Client, deal: str, code: str) -> float:
    started = time.perf_counter()
    client.post("/_sandbox/bench/close", params={"deal": deal}).raise_for_status()
    while client.get("/_sandbox/bench/attributed", params={"deal": deal}).json()["value"] != code:
        if time.perf_counter() - started > 60:
            raise SystemExit(f"deal {deal} not written within 60 s")
        time.sleep(0.01)
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def _measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port, serve_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    _, deals = _seed(args.deals, datetime.now(UTC).date())
    store_url = f"sqlite:///{tmp / 'bench.db'}"
    env = _env(store_url, sandbox_url, serve_port)
    sandbox = [sys.executable, "-m", "bench.bench_deal_close", "--sandbox", str(port),
               str(serve_port)]
    with _process([*sandbox, "--deals", str(args.deals)], sandbox_url + "/_sandbox/health",
                  dict(os.environ)):
        subprocess.run([*_cli(), "sync", "--full"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        with _process([*_cli(), "serve", "--port", str(serve_port)],
                      f"http://127.0.0.1:{serve_port}/healthz", env), \
                httpx.Client(base_url=sandbox_url, timeout=10) as client:
            time.sleep(2.0)  # the worker process starts; the full sync's echoes pass by
            load = _load()
            latencies = []
            for deal, code in deals:
                latencies.append(_latency(client, deal, code))
                time.sleep(args.gap)
    return {"deals": len(latencies), "gap_s": args.gap, "load_before": load,
            "load_after": _load(), "p50_s": _pct(latencies, 0.5), "p99_s": _pct(latencies, 0.99),
            "max_s": round(max(latencies), 3), "mean_s": round(statistics.fmean(latencies), 3),
            "target": "p50 < 2 s, p99 < 5 s",
            "met": _pct(latencies, 0.5) < 2 and _pct(latencies, 0.99) < 5}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.2)
    parser.add_argument("--out", default="bench/out/deal_close.json")
    parser.add_argument("--sandbox", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sandbox:
        _sandbox_main(args.sandbox[0], args.sandbox[1], args.deals)
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = _measure(args, Path(tmp))
    print(json.dumps(result))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
