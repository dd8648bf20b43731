"""Member-portal benchmark: many member portals, first sync and a no-change resync, limits on.

    python -m bench.bench_portals [--portals 1000] [--registrations 20] [--workers 16]
                                  [--out bench/out/portals.json]

The sandbox runs in a subprocess (so this process's CPU and memory are the worker's alone): the
program portal with ``--portals`` partner members, each holding ``--registrations`` registration
requests on prospects of its own (dated in the last two months, so all are registered), and
``--portals`` member portals (110 requests per 10 s each, search 5/s, HubSpot's OAuth). Member
portal n belongs to member n and already holds half of that member's registered domains and as
many companies of its own.

Steps: the program's full sync (decides every request; timed, not the subject); every member
connects through the OAuth endpoints (authorize -> code exchange -> token info -> sealed tokens
stored; ``complete_install`` is the callback's own code); then the **first sync** (every
portal's connect job: properties, inbound read, out: search, create, update) and a **no-change
resync** (an inbound job per portal) run on the portal worker's thread pool.

Figures: wall time of each phase beside its floor, computed here from independent counts:
the busiest portal's budget (HTTP requests to it counted by an httpx event hook, not by the
gateway: ``(ceil(calls / 110) - 1) * 10 s`` and ``(searches - 1) / 5 s``) and this process's own
CPU seconds (``time.process_time``: with the GIL the worker cannot go faster than its CPU). Calls
per portal (min/median/max), writes (batch create/update requests seen by the hook), peak RSS of
this process, and the machine's load. "met" means wall <= 1.5 x floor, the issue's definition;
its CPU term is our own code's time, so it says how busy the worker kept the CPU, not how fast
it is. The independent figure is the **replay baseline**, measured in the same run: every
request a phase sent (recorded by the hook with its headers and body) sent again, each portal's
in its order, by a plain httpx client on a pool of the same size, after both phases (the
resync's reads first; replaying the first sync's writes creates duplicates that nothing reads
afterwards). ``met_against_replay`` means wall <= 1.5 x the replay's wall: the jobs cost at most
half again what their HTTP calls alone cost on this machine. CPU per job is this process's CPU
over the phase divided by its jobs, beside the replay's CPU (same process, same count of jobs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

FIRST_HUB = 7_000_001
PROGRAM_TOKEN = "bench-program-token"
CLIENT_ID, CLIENT_SECRET = "sandbox-client-id", "sandbox-oauth-secret"
REDIRECT = "http://127.0.0.1:9/oauth/callback"
TARGET_RATIO = 1.5
MEMBER_PER_10S = 110


# -- the sandbox side (runs in the subprocess) -----------------------------------------------------

def _program_dataset(portals: int, registrations: int, today: date) -> Any:
    from sandbox.dataset import Dataset, SeedProperty, SeedRecord
    from tests.engine.seed import contract_properties

    base_ms = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    records: list[SeedRecord] = []
    next_id = 1
    for m in range(portals):
        code = f"M{m + 1:04d}"
        records.append(SeedRecord("companies", str(next_id), {
            "name": f"Member {code}", "domain": f"member-{m + 1}.com",
            "partner_program_type": "partner", "partner_code": code, "partner_tier": "gold",
            "partner_joined_at": "2024-01-01", "partner_gold_reached_at": "2024-06-01",
            "partner_certified": "true", "partner_hubspot_plan": "professional",
            "partner_paperwork_completed_at": "2024-01-10"}, base_ms, base_ms))
        next_id += 1
        for r in range(registrations):
            day = today - timedelta(days=10 + (m * registrations + r) % 50)
            records.append(SeedRecord("companies", str(next_id), {
                "name": f"Prospect {m + 1}-{r}", "domain": f"prospect-{m + 1}-{r}.com",
                "partner_registration_requested_by": code,
                "partner_registration_requested_at": day.isoformat()}, base_ms, base_ms))
            next_id += 1
    props: list[SeedProperty] = contract_properties()
    return Dataset(properties=props, records=records)


def _member_dataset(m: int, registrations: int) -> Any:
    from sandbox.dataset import Dataset, SeedRecord

    base_ms = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    rows = [SeedRecord("companies", str(r + 1), {"name": f"Prospect {m}-{r}",
                                                 "domain": f"prospect-{m}-{r}.com"},
                       base_ms, base_ms) for r in range(0, registrations, 2)]
    rows += [SeedRecord("companies", str(1000 + r), {"name": f"Own client {r}",
                                                     "domain": f"own-{r}-of-{m}.org"},
                        base_ms, base_ms) for r in range(registrations // 2)]
    return Dataset(records=rows)


def serve_sandbox(port: int, portals: int, registrations: int) -> None:
    import uvicorn

    from sandbox.config import RateLimitConfig, SandboxConfig
    from sandbox.portals import PortalsConfig, portals_app
    from sandbox.state import SandboxState

    program = SandboxConfig(token=PROGRAM_TOKEN, rate_limits=RateLimitConfig(per_10s=190))
    state = SandboxState()
    state.bulk_load(_program_dataset(portals, registrations, datetime.now(UTC).date()))
    app = portals_app(program, state, PortalsConfig(count=portals, companies_per_portal=0,
                                                     per_10s=MEMBER_PER_10S))
    for n, member in enumerate(sorted(app.members), start=1):
        app.members[member].state.bulk_load(_member_dataset(n, registrations))
    print("ready", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the worker side ------------------------------------------------------------------------------

Sent = tuple[str, str, dict[str, str], bytes]
"""One request as it went on the wire: method, URL, headers, body."""


class CallCounter:
    """Requests per portal and kind, seen on the wire (an httpx event hook); every request is
    also kept, per token in order, for the replay baseline."""

    def __init__(self) -> None:
        self.by_token: dict[str, Counter[str]] = defaultdict(Counter)
        self.sent: dict[str, list[Sent]] = defaultdict(list)
        self._lock = threading.Lock()

    def hook(self, request: httpx.Request) -> None:
        token = request.headers.get("authorization", "")[7:]
        path = request.url.path
        kind = ("search" if path.endswith("/search") else
                "write" if path.endswith(("/batch/update", "/batch/create")) else
                "oauth" if path.startswith("/oauth/") else "other")
        keep = (request.method, str(request.url), dict(request.headers), request.content)
        with self._lock:
            self.by_token[token][kind] += 1
            self.sent[token].append(keep)

    def take_sent(self) -> dict[str, list[Sent]]:
        with self._lock:
            sent, self.sent = self.sent, defaultdict(list)
            return dict(sent)

    def snapshot(self) -> dict[str, Counter[str]]:
        with self._lock:
            return {k: Counter(v) for k, v in self.by_token.items()}


def _delta(after: dict[str, Counter[str]], before: dict[str, Counter[str]]
           ) -> dict[str, Counter[str]]:
    return {k: v - before.get(k, Counter()) for k, v in after.items()}


def _floor(per_portal: list[Counter[str]], cpu_s: float) -> dict[str, float]:
    busiest = max((c["search"] + c["other"] + c["write"] for c in per_portal), default=0)
    searches = max((c["search"] for c in per_portal), default=0)
    budget_s = max((math.ceil(busiest / MEMBER_PER_10S) - 1) * 10.0, (searches - 1) / 5.0, 0.0)
    return {"budget_floor_s": round(budget_s, 2), "cpu_floor_s": round(cpu_s, 2),
            "floor_s": round(max(budget_s, cpu_s), 2)}


def replay(sent: dict[str, list[Sent]], workers: int) -> dict[str, Any]:
    """The baseline: the same requests, each portal's in its order, sent by a plain httpx
    client on a pool of the same size, with no sync logic between them."""
    from concurrent.futures import ThreadPoolExecutor

    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64,
                                                      max_keepalive_connections=64)) as client:
        def one(requests: list[Sent]) -> None:
            for method, url, headers, body in requests:
                while True:
                    answer = client.request(method, url, headers=headers, content=body)
                    with lock:
                        statuses[answer.status_code] += 1
                    if answer.status_code != 429:
                        break
                    # what HubSpot asks of any client (no Retry-After on REST 429s): wait for
                    # the search second or part of the 10 s window, then again
                    time.sleep(0.2 if url.endswith("/search") else 1.0)

        time.sleep(2.0)  # the phase's own calls leave every portal's windows first
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, sent.values()))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    return {"replay_wall_s": round(wall, 2), "replay_cpu_s": round(cpu, 2),
            "replayed": sum(statuses.values()),
            "replay_statuses": {str(k): v for k, v in sorted(statuses.items())}}


def _phase(name: str, run: Any, counter: CallCounter) -> dict[str, Any]:
    counter.take_sent()
    before, cpu0, wall0 = counter.snapshot(), time.process_time(), time.perf_counter()
    outcomes = run()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    calls = _delta(counter.snapshot(), before)
    member = [c for t, c in calls.items() if t not in ("", PROGRAM_TOKEN)]
    totals = [sum(c.values()) for c in member] or [0]
    floor = _floor(member, cpu)
    statuses = Counter(o.status for o in outcomes)
    writes = sum(c["write"] for c in member)
    return {"phase": name, "jobs": dict(statuses), "wall_s": round(wall, 2), **floor,
            "cpu_per_job_ms": round(1000 * cpu / max(len(outcomes), 1), 2),
            "ratio": round(wall / floor["floor_s"], 2) if floor["floor_s"] else None,
            "met": wall <= TARGET_RATIO * floor["floor_s"],
            "portals_called": len(member), "calls_per_portal": {
                "min": min(totals), "median": statistics.median(totals), "max": max(totals)},
            "member_portal_writes": writes,
            "program_calls": sum(c.total() for t, c in calls.items() if t == PROGRAM_TOKEN),
            "companies_updated": sum(o.report.updated for o in outcomes if o.report),
            "companies_created": sum(o.report.created for o in outcomes if o.report),
            "problems": sum(len(o.report.problems) for o in outcomes if o.report)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, default=1000)
    parser.add_argument("--registrations", type=int, default=20)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--serve-sandbox", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sandbox is not None:
        serve_sandbox(args.serve_sandbox, args.portals, args.registrations)
        return
    result = run(args.portals, args.registrations, args.workers)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


def run(portals: int, registrations: int, workers: int) -> dict[str, Any]:
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    from cli.portals_wiring import build_portal_parts
    from cli.runtime import build_runtime
    from config.settings import Settings
    from sandbox.server import free_port

    load_before = _load()
    port = free_port()
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.bench_portals", "--serve-sandbox",
                              str(port), "--portals", str(portals), "--registrations",
                              str(registrations)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        child.stdout.readline()  # "ready": data loaded, uvicorn starting
        url = f"http://127.0.0.1:{port}"
        _wait(url)
        sandbox_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                hubspot={"access_token": SecretStr(PROGRAM_TOKEN), "base_url": url},
                store={"url": f"sqlite:///{Path(tmp) / 'store.db'}"},
                scheduler={"enabled": False}, log_level="WARNING",
                portals={"client_id": CLIENT_ID, "client_secret": SecretStr(CLIENT_SECRET),
                         "redirect_url": REDIRECT, "authorize_url": f"{url}/oauth/authorize",
                         "token_key": SecretStr(Fernet.generate_key().decode()),
                         "workers": workers, "job_backoff_s": 1.0})
            result = _measure(settings, url, portals, registrations, workers, sandbox_s,
                              build_runtime, build_portal_parts)
            return {"load_avg_before": load_before, **result}
    finally:
        child.terminate()
        child.wait(timeout=30)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/_sandbox/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the sandbox did not start")


def _connect_all(parts: Any, runtime: Any, url: str, portals: int) -> dict[str, int]:
    """Every member installs the app (authorize -> callback code path); token -> hub id."""
    from sync.portals.connect import complete_install
    from sync.portals.invite import sign_state

    settings = runtime.settings
    tokens: dict[str, int] = {}
    with httpx.Client(timeout=30) as client:
        for m in range(1, portals + 1):
            state = sign_state(settings.portals, f"M{m:04d}", datetime.now(UTC))
            answer = client.get(f"{url}/oauth/authorize", params={
                "client_id": CLIENT_ID, "redirect_uri": REDIRECT, "state": state,
                "scope": " ".join(settings.portals.scopes)})
            query = parse_qs(urlsplit(answer.headers["location"]).query)
            row = complete_install(settings.portals, runtime.store, settings.contract(),
                                   parts.sessions.oauth, parts.sessions.vault,
                                   state=query["state"][0], code=query["code"][0],
                                   now=datetime.now(UTC))
            assert row.hub_id == FIRST_HUB + m - 1, (row.hub_id, m)
            tokens[parts.sessions.vault.open(row.access_token)] = row.hub_id
    return tokens


def _measure(settings: Any, url: str, portals: int, registrations: int, workers: int,
             sandbox_s: float, build_runtime: Any, build_portal_parts: Any) -> dict[str, Any]:
    counter = CallCounter()
    http = httpx.Client(timeout=60, event_hooks={"request": [counter.hook]},
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
    runtime = build_runtime(settings)
    rss_start_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        t0 = time.perf_counter()
        program = runtime.engine.full_sync(trigger="bench")
        program_s = time.perf_counter() - t0
        parts = build_portal_parts(runtime, http=http)
        t0 = time.perf_counter()
        _connect_all(parts, runtime, url, portals)
        connect_s = time.perf_counter() - t0
        first = _phase("first sync", parts.worker.drain, counter)
        first_sent = counter.take_sent()
        parts.repo.enqueue(parts.repo.hub_ids(), "inbound")
        resync = _phase("no-change resync", parts.worker.drain, counter)
        resync_sent = counter.take_sent()
        parts.close()
        # The baselines, after both phases (replaying the first sync's writes changes the
        # member portals): the resync's reads, then the first sync's calls.
        for phase, sent in ((resync, resync_sent), (first, first_sent)):
            phase.update(replay(sent, workers))
            phase["wall_over_replay"] = round(phase["wall_s"] / phase["replay_wall_s"], 2)
            phase["replay_cpu_per_job_ms"] = round(
                1000 * phase["replay_cpu_s"] / max(sum(phase["jobs"].values()), 1), 2)
            phase["met_against_replay"] = phase["wall_s"] <= TARGET_RATIO * phase["replay_wall_s"]
    finally:
        http.close()
        runtime.close()
    return {
        "portals": portals, "registrations_per_member": registrations, "workers": workers,
        "member_budget_per_10s": MEMBER_PER_10S,
        "cpus": os.cpu_count(),
        "sandbox_start_s": round(sandbox_s, 1),
        "program_full_sync": {"wall_s": round(program_s, 1), "status": program.status,
                              "decided": dict(program.decided)},
        "connect_all_s": round(connect_s, 1),
        "phases": [first, resync],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_mb": round(rss_start_kb / 1024, 1),
        "load_avg_after": _load(),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    main()
