"""Webhook receiver benchmark: the real ``partner-sync serve`` under wrk, beside a bare app.

    python -m bench.bench_webhooks [--duration 15] [--stores sqlite,postgres] [--levers]
                                   [--previous-tree DIR] [--before-tree DIR]
                                   [--out bench/out/webhooks.json]

Everything runs in processes of its own on this machine: the sandbox (profile S, seed 1, rate
limits on: 190 per 10 s), ``partner-sync serve`` (worker and scheduler on; fresh SQLite file or
fresh PostgreSQL database, filled by ``partner-sync sync --full`` first), a bare uvicorn +
Starlette app that reads the body and answers 204 on the same server stack, and ``wrk`` (10
connections, 2 threads) replaying pre-signed requests (``bench/webhook_load.py``). For each
shape (1 event per request, 100 events per request) the bare app is measured, then serve, back
to back, and the load average is recorded before each run. The events are ``dealstage`` changes
of the sandbox's real deals, so the worker keeps running targeted syncs during the load.

Inbox rows are counted before and after each serve run: the new rows must cover every event
acknowledged (204) and exceed them by at most the events of requests wrk cut off in flight at
the end of the run (sent, never answered).

``--levers`` also measures, on SQLite, this code with the worker on a thread and/or asyncio + h11
(each lever alone); ``--before-tree DIR`` measures the code of another checkout (the code before
this work) the way it shipped, first; ``--previous-tree DIR`` measures another commit's own
``partner-sync serve`` first, on every store. Either tree's server is started in the tree's
folder, and the bench checks that its code is what gets imported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text

from bench.webhook_load import WrkResult, bare_app, run_wrk, write_pool
from sandbox.server import free_port
from sync.store.schema import inbox

SECRET = "bench-secret"
CONNECTIONS = 10
THREADS = 2
SHAPES = (1, 100)
POOL_BYTES_MAX = 400 * 1024 * 1024
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    loop: str
    http: str
    worker_process: bool
    tree: str | None = None  # another checkout's code (``--before-tree``), run as it shipped
    tree_cli: bool = False  # run the tree's own ``partner-sync serve`` (``--previous-tree``)

    @property
    def cli(self) -> bool:
        """The shipped configuration: run exactly as an operator would."""
        return self.worker_process and self.loop == "auto" and self.http == "auto"


SHIPPED = Variant("serve (worker process, uvloop + httptools)", "auto", "auto", True)
LEVERS = (
    Variant("worker thread, asyncio + h11", "asyncio", "h11", False),
    Variant("uvicorn[standard] only: worker thread, uvloop + httptools", "auto", "auto", False),
    Variant("worker process only: asyncio + h11", "asyncio", "h11", True),
)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout_s} s")


@contextmanager
def _process(command: list[str], url: str, env: dict[str, str], *, quiet: bool = False,
             timeout_s: float = 60, cwd: str | None = None) -> Iterator[None]:
    out = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=cwd)
    try:
        _wait_http(url, process, timeout_s)
        yield
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("partner-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def _env(store_url: str, sandbox_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PARTNER_SYNC_STORE__URL": store_url,
        "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox_url,
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
        "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET": SECRET,
        "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PARTNER_SYNC_ADMIN__TOKEN": "bench-admin-token-0123456789",
        "PARTNER_SYNC_LOG_LEVEL": "WARNING",
    }


# The serve process exactly as the code before this work ran it (no stack options then; uvloop
# and httptools were not installed, so uvicorn ran asyncio and h11).
_BEFORE = ("import sys, uvicorn; from config.settings import Settings; "
           "from cli.runtime import build_runtime; from cli.serve import build_parts; "
           "from webhooks.app import create_app; from sync.logs import configure_logging; "
           "s = Settings(); configure_logging(s); r = build_runtime(s); "
           "uvicorn.run(create_app(build_parts(r)), host='127.0.0.1', port=int(sys.argv[1]), "
           "loop='asyncio', http='h11', access_log=False, log_level='warning', "
           "timeout_graceful_shutdown=30)")


def _serve_command(variant: Variant, port: int) -> list[str]:
    if variant.tree is not None and variant.tree_cli:
        return [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    if variant.tree is not None:
        return [sys.executable, "-c", _BEFORE, str(port)]
    if variant.cli:
        return [*_cli(), "serve", "--port", str(port)]
    return [sys.executable, "-m", "bench.bench_webhooks", "--serve-variant", str(port),
            variant.loop, variant.http, "process" if variant.worker_process else "thread"]


def _deal_ids(sandbox_url: str) -> list[str]:
    ids: list[str] = []
    after = ""
    with httpx.Client(base_url=sandbox_url,
                      headers={"Authorization": "Bearer sandbox-token"}) as client:
        while True:
            page = client.get("/crm/v3/objects/deals",
                              params={"limit": 100, **({"after": after} if after else {})})
            page.raise_for_status()
            body = page.json()
            ids += [r["id"] for r in body["results"]]
            after = body.get("paging", {}).get("next", {}).get("after", "")
            if not after:
                return ids


def _rows(store_url: str) -> int:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
    finally:
        engine.dispose()


def _settled_rows(store_url: str) -> int:
    """The inbox row count once it stops moving (requests cut off at the end still commit)."""
    last = _rows(store_url)
    while True:
        time.sleep(0.5)
        now = _rows(store_url)
        if now == last:
            return now
        last = now


def _figures(result: WrkResult, events: int) -> dict[str, Any]:
    return {"requests_per_s": round(result.requests_per_s, 1),
            "events_per_s": round(result.requests_per_s * events),
            "p50_ms": result.p50_ms, "p90_ms": result.p90_ms, "p99_ms": result.p99_ms,
            "max_ms": result.max_ms, "acked": result.acked, "errors": result.errors,
            "seconds": round(result.seconds, 2)}


def _bare_run(url: str, tmp: Path, deal_ids: list[str], events: int,
              duration_s: int) -> dict[str, Any]:
    pool = write_pool(tmp, f"bare{events}", url=url, secret=SECRET, deal_ids=deal_ids,
                      requests=200, events_per_request=events, threads=THREADS)
    load = _load()
    result = run_wrk(url, pool, connections=CONNECTIONS, duration_s=duration_s)
    return {"load_before": load, **_figures(result, events)}


def _serve_run(url: str, store_url: str, tmp: Path, deal_ids: list[str], events: int,
               duration_s: int, bare_rps: float) -> dict[str, Any]:
    size = write_pool(tmp, "probe", url=url, secret=SECRET, deal_ids=deal_ids, requests=1,
                      events_per_request=events, threads=1).bytes_per_request
    count = int(min(bare_rps * duration_s * 1.3 + 1000, POOL_BYTES_MAX / size))
    pool = write_pool(tmp, f"serve{events}", url=url, secret=SECRET, deal_ids=deal_ids,
                      requests=count, events_per_request=events, threads=THREADS)
    before = _rows(store_url)
    load = _load()
    result = run_wrk(url, pool, connections=CONNECTIONS, duration_s=duration_s)
    new_rows = _settled_rows(store_url) - before
    cut_off = result.sent - result.answered
    acked_events = result.acked * events
    return {"load_before": load, "load_after": _load(), **_figures(result, events),
            "pool_requests": count, "pool_wrapped": result.wrapped,
            "inbox_new_rows": new_rows, "events_acked": acked_events,
            "events_cut_off": cut_off * events,
            "inbox_exact": acked_events <= new_rows <= acked_events + cut_off * events
            and result.wrapped == 0}


def _verdict(events: int, serve: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    ratio = serve["requests_per_s"] / bare["requests_per_s"]
    if events == 1:
        met = ratio >= 0.5 and serve["p99_ms"] < 50
        target = ">= 0.5 of bare, p99 < 50 ms"
    else:
        met = serve["events_per_s"] >= 10_000 and serve["p99_ms"] < 250
        target = ">= 10,000 events/s, p99 < 250 ms"
    return {"ratio_to_bare": round(ratio, 3), "target": target,
            "met": met and bool(serve["inbox_exact"])}


def _check_tree(tree: str, env: dict[str, str]) -> None:
    """The other checkout's code is what runs: started in that folder (a process's own folder
    comes first on its import path, ahead of PYTHONPATH and of this editable install)."""
    probe = subprocess.run([sys.executable, "-c", "import cli, webhooks; print(cli.__file__); "
                            "print(webhooks.__file__)"], env=env, cwd=tree, check=True,
                           capture_output=True, text=True).stdout.split()
    root = Path(tree).resolve()
    if not all(Path(f).resolve().is_relative_to(root) for f in probe):
        raise RuntimeError(f"{tree}: the code under test would not come from it: {probe}")


def _bench_variant(variant: Variant, store_url: str, sandbox_url: str, bare_url: str,
                   deal_ids: list[str], duration_s: int, tmp: Path) -> list[dict[str, Any]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    runs = []
    env = _env(store_url, sandbox_url, port)
    if variant.tree is not None:
        env["PYTHONPATH"] = variant.tree
        _check_tree(variant.tree, env)
    with _process(_serve_command(variant, port), url + "/healthz", env, cwd=variant.tree):
        time.sleep(2)  # the worker process starts and settles
        for events in SHAPES:
            bare = _bare_run(bare_url, tmp, deal_ids, events, duration_s)
            serve = _serve_run(url, store_url, tmp, deal_ids, events, duration_s,
                               bare["requests_per_s"])
            run = {"variant": variant.name, "store": store_url.split(":")[0],
                   "events_per_request": events, "connections": CONNECTIONS,
                   "bare": bare, "serve": serve, **_verdict(events, serve, bare)}
            print(json.dumps(run), flush=True)
            runs.append(run)
    return runs


@contextmanager
def _store(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"bench_recv_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _full_sync(store_url: str, sandbox_url: str) -> None:
    subprocess.run([*_cli(), "sync", "--full"], check=True, stdout=subprocess.DEVNULL,
                   env=_env(store_url, sandbox_url, 0))


def _bench(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    sandbox = [*_cli(), "sandbox", "--port", sandbox_url.rsplit(":", 1)[1], "--profile", "S",
               "--seed", "1"]  # rate limits on: 190 per 10 s
    with _process(sandbox, sandbox_url + "/", dict(os.environ), quiet=True, timeout_s=180):
        deal_ids = _deal_ids(sandbox_url)
        bare_port = free_port()
        bare_url = f"http://127.0.0.1:{bare_port}"
        with _process([sys.executable, "-m", "bench.bench_webhooks", "--bare", str(bare_port)],
                      bare_url + "/", dict(os.environ)):
            for kind in args.stores.split(","):
                variants: tuple[Variant, ...] = (SHIPPED,)
                if args.levers and kind == "sqlite":
                    variants = (*LEVERS, SHIPPED)
                if args.previous_tree:
                    variants = (Variant("previous commit: partner-sync serve", "auto", "auto",
                                        True, args.previous_tree, tree_cli=True), *variants)
                if args.before_tree:
                    variants = (Variant("code before this work (worker thread, asyncio + h11)",
                                        "asyncio", "h11", False, args.before_tree), *variants)
                for variant in variants:
                    folder = tmp / f"{kind}-{len(runs)}"
                    folder.mkdir()
                    with _store(kind, folder) as store_url:
                        _full_sync(store_url, sandbox_url)
                        runs += _bench_variant(variant, store_url, sandbox_url, bare_url,
                                               deal_ids, args.duration, tmp)
    return runs


def _run_server(port: int, loop: str, http: str, worker: str | None,
                triage: bool = True) -> None:
    """A server process: the bare app (``worker`` None) or serve with the given levers."""
    import uvicorn

    if worker is None:
        uvicorn.run(bare_app(), host="127.0.0.1", port=port, access_log=False,
                    log_level="warning", loop=loop, http=http)  # type: ignore[arg-type]
        return
    from cli.serve import ServerStack, serve
    from config.settings import Settings
    from sync.logs import configure_logging

    settings = Settings()
    configure_logging(settings)
    if worker == "none":  # diagnostics: the receiver alone
        settings = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(
            update={"enabled": False})})
    serve(settings, "127.0.0.1", port, stack=ServerStack(loop, http),  # type: ignore[arg-type]
          worker_process=worker == "process", worker=worker != "none", triage=triage)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--levers", action="store_true")
    parser.add_argument("--previous-tree", help="a checkout of another commit (`git archive "
                        "REV | tar -x -C DIR`): its own `partner-sync serve` is measured first, "
                        "in the same run, for every store")
    parser.add_argument("--before-tree", help="a checkout of the code before, e.g. "
                        "`git archive 31c9941 | tar -x -C /tmp/before`: measured first")
    parser.add_argument("--out", default="bench/out/webhooks.json")
    parser.add_argument("--bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-variant", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--no-triage", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        _run_server(args.bare, "auto", "auto", None)
        return
    if args.serve_variant:
        port, loop, http, worker = args.serve_variant
        _run_server(int(port), loop, http, worker, triage=not args.no_triage)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    started_load = _load()
    with tempfile.TemporaryDirectory() as tmp:
        runs = _bench(args, Path(tmp))
    out = {"runs": runs, "cpus": os.cpu_count(), "load_at_start": started_load,
           "load_at_end": _load(), "duration_s": args.duration,
           "variants": [asdict(v) for v in (*LEVERS, SHIPPED)]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
