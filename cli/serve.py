"""``partner-sync serve``: one ASGI app under uvicorn, the inbox worker and the scheduler.

``build_parts(runtime)`` wires the parts around a built ``cli.runtime.Runtime``;
``serve(settings, host, port)`` runs them until SIGINT/SIGTERM. Stopping is graceful: uvicorn
stops accepting, lets requests in flight finish (each one's inbox commit included), then the
app's lifespan stops the scheduler (a job under way finishes), the worker (its pass under way
finishes; unfinished claims are re-claimed after their lease by the next process), and the inbox
writer, and finally the store and HTTP client close. ``ServerThread`` runs the same server on a
background thread for tests and benchmarks.

``serve`` runs the inbox worker, the scheduler and the member-portal job worker in a supervised
process of their own
(``cli.worker_process``) so that syncs never hold the GIL while webhook requests wait;
``build_parts(..., worker_process=True)`` does the same for tests. The server stack is uvicorn
with uvloop and httptools when they are installed (``uvicorn[standard]``), else asyncio and h11.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Literal

import uvicorn

from cli.portals_wiring import add_portals, portals_enabled
from cli.runtime import Runtime, build_runtime
from cli.worker_gateway import CombinedGatewayMetrics
from cli.worker_process import WorkerFactory, WorkerSupervisor, build_worker
from config.settings import Settings
from sync.clock import Clock, SystemClock
from sync.gateway import GatewayCollector
from sync.logs import secret_values
from sync.scheduler import SyncScheduler, job_specs, purge_tick
from sync.store import Store
from webhooks.app import ServeParts, create_app
from webhooks.loop import WorkerLoop
from webhooks.metrics import ServeMetrics
from webhooks.triage import Triage
from webhooks.worker import InboxWorker, RedeliveryPolicy

__all__ = ["ServerStack", "ServerThread", "build_parts", "output_properties", "serve"]

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Unique per process: host, pid and a random suffix (pids repeat across containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def output_properties(settings: Settings) -> frozenset[str]:
    """The properties we write: changes of them are our own echoes."""
    contract = settings.contract()
    return frozenset(contract.output_names("companies") | contract.output_names("contacts")
                     | contract.output_names("deals"))


def build_parts(
    runtime: Runtime,
    *,
    clock: Clock | None = None,
    scheduler: bool | None = None,
    worker: bool = True,
    retry: RedeliveryPolicy | None = None,
    worker_process: bool = False,
    worker_factory: WorkerFactory = build_worker,
    receiver_store: Store | None = None,
    triage: bool = True,
) -> ServeParts:
    """The app's parts. ``scheduler`` defaults to ``settings.scheduler.enabled``.

    With ``worker_process`` the worker, the scheduler and the member-portal job worker run in
    a supervised child process
    built by ``worker_factory`` from the runtime's settings (``clock`` then only serves the
    receiver: the child reads the system clock). ``receiver_store`` (default: the runtime's)
    is the store the app queues, reports health and answers the admin API with. ``triage``:
    events that need no work are queued as done on arrival (``webhooks.triage``).
    """
    settings, clock = runtime.settings, clock or SystemClock()
    metrics = ServeMetrics()
    gateway = CombinedGatewayMetrics(runtime.gateway.metrics)  # + the worker process's calls
    metrics.register(GatewayCollector(gateway))
    parts = ServeParts(settings, receiver_store or runtime.store, runtime.engine, clock=clock,
                       metrics=metrics,
                       commit_window_s=0.0)
    scheduler_on = settings.scheduler.enabled if scheduler is None else scheduler
    if triage:
        parts.triage = Triage.of(settings.contract(), output_properties(settings),
                                 settings.webhooks.app_id)
    if portals_enabled(settings):  # OAuth routes, routing by portalId, the portal job worker
        # With a worker process the portal job worker runs there (cli.worker_child), not here.
        add_portals(parts, runtime, clock=clock, worker=worker and not worker_process)
    if worker and worker_process:
        supervisor = WorkerSupervisor(
            settings, scheduler=scheduler_on, retry=retry, on_pass=metrics.observe_pass,
            on_run=metrics.observe_run, gateway=gateway, factory=worker_factory,
        )
        parts.worker_loop, parts.scheduler = supervisor, supervisor.scheduler_view
        return parts
    outputs = output_properties(settings)
    if worker:
        inbox_worker = InboxWorker(
            runtime.store, runtime.engine, clock=clock, output_properties=outputs,
            app_id=settings.webhooks.app_id, worker_id=worker_id(), retry=retry,
            observe_run=metrics.observe_run, settings=settings.inbox,
        )
        parts.worker_loop = WorkerLoop(inbox_worker, poll_s=settings.inbox.poll_s,
                                       on_pass=metrics.observe_pass)
    if scheduler_on:
        loop = parts.worker_loop
        tick = purge_tick(runtime.store.inbox_purge, clock,
                          loop.wake if loop is not None else (lambda: None))
        parts.scheduler = SyncScheduler(job_specs(
            settings.scheduler, runtime.engine, inbox_tick=tick, observe_run=metrics.observe_run))
    return parts


def _config(parts: ServeParts, host: str, port: int, stack: ServerStack) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(parts), host=host, port=port, lifespan="on", access_log=False,
        log_level=parts.settings.log_level.lower(), timeout_graceful_shutdown=30,
        # No logging config of uvicorn's own: its records reach the root handler that
        # configure_logging installed (same JSON format, same secret masking).
        log_config=None,
        loop=stack.loop, http=stack.http,
    )


@dataclass(frozen=True, slots=True)
class ServerStack:
    """uvicorn's event loop and HTTP parser: ``auto`` takes uvloop and httptools when
    installed; ``asyncio`` and ``h11`` are the pure-Python fallbacks."""

    loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    http: Literal["auto", "h11", "httptools"] = "auto"


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    stack: ServerStack = ServerStack(),
    worker_process: bool = True,
    worker: bool = True,
    triage: bool = True,
) -> None:
    """Run until a signal stops the server (see module). The keyword options exist to measure
    each part of the design against its alternative; the defaults are the product."""
    runtime = build_runtime(settings)
    if settings.webhooks.client_secret is None:
        log.warning("PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET is not set: webhooks answer 503")
    if settings.admin.token is None:
        log.warning("PARTNER_SYNC_ADMIN__TOKEN is not set: the admin API refuses every call "
                    "and nobody can log in to the console (/console)")
    # The receiver's commits never checkpoint the SQLite log (that copies and syncs megabytes
    # while requests wait); a thread of its own does, every second.
    receiver_store = Store.from_url(settings.store.url, wal_autocheckpoint=False,
                                    secrets=secret_values(settings))
    stop = threading.Event()
    checkpoints = threading.Thread(target=_checkpoint_every, args=(receiver_store, stop, 1.0),
                                   name="wal-checkpoint", daemon=True)
    try:
        parts = build_parts(runtime, worker=worker, worker_process=worker_process,
                            receiver_store=receiver_store, triage=triage)
        checkpoints.start()
        uvicorn.Server(_config(parts, host, port, stack)).run()
    finally:
        stop.set()
        if checkpoints.is_alive():
            checkpoints.join(10)
        receiver_store.close()
        runtime.close()


def _checkpoint_every(store: Store, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            store.checkpoint()
        except Exception:  # the store is down: /readyz says so; try again next time
            log.warning("WAL checkpoint failed", exc_info=True)


class ServerThread:
    """The serve app on a background thread (signal handlers stay with the main thread)."""

    def __init__(self, parts: ServeParts, host: str = "127.0.0.1", port: int = 0,
                 stack: ServerStack = ServerStack()) -> None:
        if port == 0:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
        self.url = f"http://{host}:{port}"
        self.parts = parts
        self._server = uvicorn.Server(_config(parts, host, port, stack))
        self._thread = threading.Thread(target=self._server.run, name="serve", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the serve app did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(60)
