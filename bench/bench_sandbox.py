"""Sandbox benchmarks: profile L load time and memory; batch-read throughput.

Run from the repository root:

    python bench/bench_sandbox.py                      # both parts, L load + S throughput
    python bench/bench_sandbox.py --load-profile M --duration 10 --threads 4

(a) generates a profile and bulk-loads it into a ``SandboxState`` in a fresh subprocess and
reports wall time and peak RSS; (b) serves a profile-S sandbox (rate limits off) in a child
process and drives ``POST /crm/v3/objects/contacts/batch/read`` (100 ids per call) from threads
sharing keep-alive ``httpx.Client``s, reporting requests/s and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from random import Random

import httpx

TOKEN = "sandbox-token"
LOAD_TARGET_S, RSS_TARGET_MB, RPS_TARGET = 60.0, 3072.0, 300.0


def child_load(profile: str, seed: int) -> None:
    """In a fresh process: generate + bulk-load, print JSON figures."""
    from sandbox.generator import generate
    from sandbox.state import SandboxState

    started = time.perf_counter()
    state = SandboxState()
    state.bulk_load(generate(profile, seed))
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU time too: on a shared machine wall time mostly measures the neighbours.
    print(json.dumps({"profile": profile, "seconds": elapsed, "peak_rss_mb": usage.ru_maxrss / 1024,
                      "cpu_seconds": usage.ru_utime + usage.ru_stime}))


def child_serve(profile: str, seed: int, port: int, cprofile_path: str = "") -> None:
    """In a fresh process: serve ``profile`` with rate limits off, no access log.

    With ``cprofile_path`` the serving part runs under cProfile; stats are dumped at shutdown.
    """
    import cProfile

    import uvicorn

    from sandbox.app import create_app
    from sandbox.config import RateLimitConfig, SandboxConfig
    from sandbox.generator import generate
    from sandbox.state import SandboxState

    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(enabled=False))
    state = SandboxState(portal_id=config.portal_id)
    state.bulk_load(generate(profile, seed))
    if cprofile_path:
        profiler = cProfile.Profile()

        def dump(signum: int, frame: object) -> None:
            # uvicorn re-raises SIGTERM after shutdown, so stats are dumped on SIGUSR1 instead.
            profiler.disable()
            profiler.dump_stats(cprofile_path)

        signal.signal(signal.SIGUSR1, dump)
        profiler.enable()
    uvicorn.run(create_app(config, state), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, lifespan="on")


def _child(*args: str) -> list[str]:
    return [sys.executable, __file__, *args]


def bench_load(profile: str, seed: int) -> dict[str, float]:
    out = subprocess.run(_child("_load", profile, str(seed)), check=True, capture_output=True,
                         text=True)
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _contact_ids(url: str) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        while len(ids) < 5_000:
            params = {"limit": "100", **({"after": after} if after else {})}
            body = client.get("/crm/v3/objects/contacts", params=params).json()
            ids += [r["id"] for r in body["results"]]
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
    return ids


def _worker(url: str, ids: list[str], stop_at: float, seed: int,
            latencies: list[float], errors: list[int]) -> None:
    rng = Random(seed)
    props = ["email", "firstname", "lastname", "lifecyclestage"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30.0) as client:
        while time.perf_counter() < stop_at:
            start = rng.randrange(0, max(1, len(ids) - 100))
            body = {"inputs": [{"id": i} for i in ids[start:start + 100]], "properties": props}
            began = time.perf_counter()
            response = client.post("/crm/v3/objects/contacts/batch/read", json=body)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200 or len(response.json()["results"]) != 100:
                errors.append(response.status_code)


def bench_throughput(profile: str, seed: int, duration_s: float, threads: int,
                     cprofile_path: str = "") -> dict[str, float]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(_child("_serve", profile, str(seed), str(port), cprofile_path))
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(url + "/crm/v3/objects/contacts", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("sandbox did not start") from None
                time.sleep(0.2)
        ids = _contact_ids(url)
        latencies: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        workers = [threading.Thread(target=_worker, args=(url, ids, started + duration_s, n,
                                                          latencies, errors))
                   for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
    finally:
        if cprofile_path:
            server.send_signal(signal.SIGUSR1)
            time.sleep(2)
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    return {"requests": len(latencies), "errors": len(errors), "seconds": elapsed,
            "rps": len(latencies) / elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load-profile", default="L")
    parser.add_argument("--serve-profile", default="S")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--cprofile", default="", help="dump the server's cProfile stats here")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    if not args.skip_load:
        load = bench_load(args.load_profile, args.seed)
        rows += [(f"profile {args.load_profile} generate + bulk_load", f"{load['seconds']:.1f} s",
                  f"< {LOAD_TARGET_S:.0f} s"),
                 ("  CPU time (user + sys)", f"{load['cpu_seconds']:.1f} s", ""),
                 ("  peak RSS", f"{load['peak_rss_mb']:.0f} MB", f"< {RSS_TARGET_MB:.0f} MB")]
    if not args.skip_throughput:
        t = bench_throughput(args.serve_profile, args.seed, args.duration, args.threads,
                             args.cprofile)
        rows += [(f"batch/read x100, profile {args.serve_profile}, {args.threads} threads",
                  f"{t['rps']:.0f} req/s", f">= {RPS_TARGET:.0f} req/s"),
                 ("  latency p50 / p99", f"{t['p50_ms']:.1f} / {t['p99_ms']:.1f} ms", ""),
                 ("  requests / errors", f"{t['requests']:.0f} / {t['errors']:.0f}", "")]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>18}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>18}  {target}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        child_load(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_serve":
        child_serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        main()
