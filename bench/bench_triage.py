"""What triage on arrival saves the worker: a mix of events through the real serve process.

    python -m bench.bench_triage [--batches 30] [--out bench/out/triage.json]

Sandbox (profile S, seed 1, rate limits on) and ``partner-sync serve`` as in
``bench.bench_webhooks``, run twice: with triage (the product) and without (every event waits
for the worker, as before). Each run receives the same mix, ``--batches`` signed deliveries of
100 events: 10 % ``dealstage`` changes of real deals (work), 60 % changes of our own output
properties (echoes of our writes), 30 % changes of a deal property the engine does not read.
Measured: the time from the first delivery until the inbox has no open row, the rows the worker
claimed and the targeted syncs it ran (from the store).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, func, select

from bench.bench_webhooks import SECRET, _cli, _deal_ids, _env, _full_sync, _load, _process
from config.contract import CrmContract
from sandbox.server import free_port
from sync.store.schema import inbox, runs
from webhooks.signature import sign_v3

_ids = itertools.count(int(time.time()) * 1000)


def _mix(deal_ids: list[str], n: int) -> list[dict[str, Any]]:
    outputs = [CrmContract().attributed_to, CrmContract().attribution]
    now = int(time.time() * 1000)
    events = []
    for i in range(n):
        event_id = next(_ids)
        prop, value = ("dealstage", "closedwon") if i % 10 == 0 else \
            (outputs[i % 2], "P1") if i % 10 < 7 else ("description", f"note {i}")
        events.append({"eventId": event_id, "subscriptionId": 1, "portalId": 1, "appId": 1001,
                       "occurredAt": now, "subscriptionType": "deal.propertyChange",
                       "attemptNumber": 0, "objectId": int(deal_ids[event_id % len(deal_ids)]),
                       "propertyName": prop, "propertyValue": value, "changeSource": "CRM_UI"})
    return events


def _counts(store_url: str) -> dict[str, int]:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            def count(query: Any) -> int:
                return int(conn.execute(query).scalar_one())
            return {
                "open": count(select(func.count()).select_from(inbox)
                              .where(inbox.c.status.in_(("pending", "claimed")))),
                "claimed_ever": count(select(func.count()).select_from(inbox)
                                      .where(inbox.c.attempts > 0)),
                "targeted_syncs": count(select(func.count()).select_from(runs)
                                        .where(runs.c.trigger == "webhook")),
            }
    finally:
        engine.dispose()


def _one(triage: bool, sandbox_url: str, deal_ids: list[str], batches: int,
         tmp: Path) -> dict[str, Any]:
    store_url = f"sqlite:///{tmp / ('on' if triage else 'off')}.db"
    _full_sync(store_url, sandbox_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.bench_webhooks", "--serve-variant", str(port),
               "auto", "auto", "process", *([] if triage else ["--no-triage"])]
    with _process(command, url + "/healthz", _env(store_url, sandbox_url, port)), \
            httpx.Client(base_url=url) as client:
        time.sleep(2)
        before = _counts(store_url)
        load = _load()
        started = time.perf_counter()
        for _ in range(batches):
            body = orjson.dumps(_mix(deal_ids, 100))
            ts = str(int(time.time() * 1000))
            headers = {"X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", url +
                                                         "/webhooks/hubspot", body, ts),
                       "X-HubSpot-Request-Timestamp": ts, "Content-Type": "application/json"}
            client.post("/webhooks/hubspot", content=body, headers=headers).raise_for_status()
        while _counts(store_url)["open"]:
            if time.perf_counter() - started > 600:
                raise SystemExit("the inbox did not drain in 600 s")
            time.sleep(0.2)
        drained = time.perf_counter() - started
        after = _counts(store_url)
    return {"triage": triage, "events": batches * 100, "load_before": load,
            "drain_s": round(drained, 2),
            "rows_claimed": after["claimed_ever"] - before["claimed_ever"],
            "targeted_syncs": after["targeted_syncs"] - before["targeted_syncs"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--out", default="bench/out/triage.json")
    args = parser.parse_args()
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    sandbox = [*_cli(), "sandbox", "--port", sandbox_url.rsplit(":", 1)[1], "--profile", "S",
               "--seed", "1"]
    results = []
    with tempfile.TemporaryDirectory() as tmp, \
            _process(sandbox, sandbox_url + "/", dict(os.environ), quiet=True, timeout_s=180):
        deal_ids = _deal_ids(sandbox_url)
        for triage in (False, True):
            results.append(_one(triage, sandbox_url, deal_ids, args.batches, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"runs": results, "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
