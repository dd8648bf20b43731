"""Webhook receiver benchmark: signed load from this process against ``serve``'s app in another.

    python -m bench.bench_webhooks [--duration 60] [--out bench/out/webhooks.json]

Starts the receiver (the real ``create_app``: signature check, parse, group-commit inbox on a
fresh SQLite file; worker and scheduler off, so the inbox keeps every event) in a subprocess
under uvicorn, then drives it over loopback with a minimal keep-alive HTTP/1.1 client on asyncio
(each request signed v3 with a fresh timestamp, every event unique). Runs: 10 concurrent
single-event requests, 10 concurrent 100-event batches, 50 concurrent single-event requests.
After each run the inbox row count must equal the events acknowledged.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy import create_engine, func, select

from sync.store.schema import inbox
from webhooks.signature import sign_v3

SECRET = "bench-secret"
PATH = "/webhooks/hubspot"
_ids = itertools.count(1)


def _serve(port: int, db: str) -> None:
    """The server side (runs in the subprocess)."""
    import uvicorn

    from config.settings import Settings
    from sync.store import Store
    from webhooks.app import ServeParts, create_app

    settings = Settings(store={"url": db}, scheduler={"enabled": False},
                        webhooks={"client_secret": SECRET,
                                  "public_url": f"http://127.0.0.1:{port}"})
    store = Store.from_url(db)
    store.migrate()
    app = create_app(ServeParts(settings, store, engine=None))  # type: ignore[arg-type]
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _body(events: int) -> bytes:
    now = int(time.time() * 1000)
    return orjson.dumps([
        {"eventId": (n := next(_ids)), "subscriptionId": 1, "portalId": 1, "appId": 1,
         "occurredAt": now, "subscriptionType": "deal.propertyChange", "attemptNumber": 0,
         "objectId": n, "propertyName": "dealstage", "propertyValue": "closedwon",
         "changeSource": "CRM_UI"}
        for _ in range(events)
    ])


def _request(port: int, events: int) -> bytes:
    body = _body(events)
    ts = str(int(time.time() * 1000))
    sig = sign_v3(SECRET, "POST", f"http://127.0.0.1:{port}{PATH}", body, ts)
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-HubSpot-Signature-v3: {sig}\r\nX-HubSpot-Request-Timestamp: {ts}\r\n\r\n")
    return head.encode() + body


async def _client(port: int, events: int, until: float, lat: list[float],
                  codes: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            payload = _request(port, events)
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
    finally:
        writer.close()


def _count(db: str) -> int:
    eng = create_engine(db)
    try:
        with eng.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
    finally:
        eng.dispose()


def _pct(sorted_s: list[float], q: float) -> float:
    return round(sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))] * 1000, 2)


async def _run(port: int, concurrency: int, events: int, duration_s: float) -> dict[str, object]:
    lat: list[float] = []
    codes: dict[int, int] = {}
    started = time.perf_counter()
    until = started + duration_s
    await asyncio.gather(*(_client(port, events, until, lat, codes) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    lat.sort()
    ok = codes.get(204, 0)
    return {"concurrency": concurrency, "events_per_request": events, "seconds": round(elapsed, 1),
            "requests": len(lat), "statuses": codes, "requests_per_s": round(len(lat) / elapsed),
            "events_per_s": round(ok * events / elapsed), "p50_ms": _pct(lat, 0.50),
            "p99_ms": _pct(lat, 0.99), "max_ms": round(lat[-1] * 1000, 2),
            "events_acknowledged": ok * events}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--out", default="bench/out/webhooks.json")
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), args.serve[1])
        return
    from sandbox.server import free_port

    results = []
    for concurrency, events in ((10, 1), (10, 100), (50, 1)):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{Path(tmp) / 'bench.db'}"
            port = free_port()
            server = subprocess.Popen([sys.executable, "-m", "bench.bench_webhooks", "--serve",
                                       str(port), db], env=os.environ.copy())
            try:
                time.sleep(3)
                result = asyncio.run(_run(port, concurrency, events, args.duration))
                time.sleep(0.5)
                result["inbox_rows"] = _count(db)
                result["inbox_exact"] = result["inbox_rows"] == result["events_acknowledged"]
            finally:
                server.terminate()
                server.wait(30)
        print(json.dumps(result), flush=True)
        results.append(result)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"runs": results, "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
