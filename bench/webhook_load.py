"""Load for the webhook benchmark: pools of pre-signed requests, wrk runs, the bare baseline app.

``write_pool`` signs ``requests`` HubSpot v3 deliveries (fresh timestamp, unique event ids, deal
property changes naming the given deal ids) and splits them over one file per wrk thread;
``run_wrk`` replays them with ``bench/wrk_pool.lua`` and returns wrk's own figures.
``bare_app`` is the baseline: the same server stack, a route that reads the body and answers 204.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webhooks.signature import sign_v3

__all__ = ["WEBHOOK_PATH", "Pool", "WrkResult", "bare_app", "run_wrk", "write_pool"]

WEBHOOK_PATH = "/webhooks/hubspot"
LUA = Path(__file__).with_name("wrk_pool.lua")
_event_ids = itertools.count(int(time.time()) * 1000)


@dataclass(frozen=True, slots=True)
class Pool:
    prefix: str
    threads: int
    requests: int
    events_per_request: int
    bytes_per_request: int


@dataclass(frozen=True, slots=True)
class WrkResult:
    """wrk's figures for one run (latencies in ms) and what the Lua script counted."""

    seconds: float
    requests: int
    acked: int
    answered: int
    sent: int
    wrapped: int
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.acked / self.seconds


def _events(deal_ids: Sequence[str], count: int, now_ms: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for _ in range(count):
        event_id = next(_event_ids)
        events.append({
            "eventId": event_id, "subscriptionId": 4242, "portalId": 1, "appId": 1001,
            "occurredAt": now_ms, "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0, "objectId": int(deal_ids[event_id % len(deal_ids)]),
            "propertyName": "dealstage", "propertyValue": "closedwon",
            "changeSource": "CRM_UI", "sourceId": "userId:1234",
        })
    return events


def _request(url: str, body: bytes, secret: str) -> bytes:
    host = url.split("://", 1)[1]
    ts = str(int(time.time() * 1000))
    signature = sign_v3(secret, "POST", url + WEBHOOK_PATH, body, ts)
    head = (f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-HubSpot-Signature-v3: {signature}\r\nX-HubSpot-Request-Timestamp: {ts}\r\n\r\n")
    return head.encode() + body


def write_pool(directory: Path, name: str, *, url: str, secret: str, deal_ids: Sequence[str],
               requests: int, events_per_request: int, threads: int) -> Pool:
    """Sign ``requests`` deliveries for ``url`` and write them for ``threads`` wrk threads."""
    prefix = str(directory / f"{name}-")
    bins = [open(f"{prefix}{n}.bin", "wb") for n in range(threads)]  # noqa: SIM115
    idxs = [open(f"{prefix}{n}.idx", "w") for n in range(threads)]  # noqa: SIM115
    offsets = [0] * threads
    size = 0
    try:
        for i in range(requests):
            body = orjson.dumps(_events(deal_ids, events_per_request, int(time.time() * 1000)))
            raw = _request(url, body, secret)
            n = i % threads
            bins[n].write(raw)
            idxs[n].write(f"{offsets[n]} {len(raw)}\n")
            offsets[n] += len(raw)
            size = len(raw)
    finally:
        for f in (*bins, *idxs):
            f.close()
    return Pool(prefix, threads, requests, events_per_request, size)


def run_wrk(url: str, pool: Pool, *, connections: int, duration_s: int) -> WrkResult:
    """One wrk run over ``pool`` (threads = the pool's thread count)."""
    command = ["wrk", f"-t{pool.threads}", f"-c{connections}", f"-d{duration_s}s",
               "--timeout", "10s", "-s", str(LUA), url + WEBHOOK_PATH, "--",
               pool.prefix, str(pool.threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         env={**os.environ, "LC_ALL": "C"}).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        seconds=raw["duration_us"] / 1e6, requests=raw["requests"], acked=raw["acked"],
        answered=raw["answered"], sent=raw["sent"], wrapped=raw["wrapped"],
        errors={k: raw[k] for k in ("status_errors", "connect_errors", "read_errors",
                                    "write_errors", "timeouts") if raw[k]},
        p50_ms=raw["p50_us"] / 1000, p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000, max_ms=raw["max_us"] / 1000,
    )


async def _read_and_answer(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


def bare_app() -> Starlette:
    """The baseline: Starlette reading the body and answering 204, nothing else."""
    return Starlette(routes=[Route(WEBHOOK_PATH, _read_and_answer, methods=["POST"])])
