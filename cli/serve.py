"""``partner-sync serve``: one ASGI app under uvicorn, the inbox worker and the scheduler.

``build_parts(runtime)`` wires the parts around a built ``cli.runtime.Runtime``;
``serve(settings, host, port)`` runs them until SIGINT/SIGTERM. Stopping is graceful: uvicorn
stops accepting, lets requests in flight finish (each one's inbox commit included), then the
app's lifespan stops the scheduler (a job under way finishes), the worker (its pass under way
finishes; unfinished claims are re-claimed after their lease by the next process), and the inbox
writer, and finally the store and HTTP client close. ``ServerThread`` runs the same server on a
background thread for tests and benchmarks.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

import uvicorn

from cli.portals_wiring import add_portals, portals_enabled
from cli.runtime import Runtime, build_runtime
from config.settings import Settings
from sync.clock import Clock, SystemClock
from sync.gateway import GatewayCollector
from sync.scheduler import SyncScheduler, job_specs, purge_tick
from webhooks.app import ServeParts, create_app
from webhooks.loop import WorkerLoop
from webhooks.metrics import ServeMetrics
from webhooks.worker import InboxWorker, RedeliveryPolicy

__all__ = ["ServerThread", "build_parts", "serve"]

log = logging.getLogger(__name__)


def worker_id() -> str:
    """Unique per process: host, pid and a random suffix (pids repeat across containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_parts(
    runtime: Runtime,
    *,
    clock: Clock | None = None,
    scheduler: bool | None = None,
    worker: bool = True,
    retry: RedeliveryPolicy | None = None,
) -> ServeParts:
    """The app's parts. ``scheduler`` defaults to ``settings.scheduler.enabled``."""
    settings, clock = runtime.settings, clock or SystemClock()
    metrics = ServeMetrics()
    metrics.register(GatewayCollector(runtime.gateway.metrics))
    parts = ServeParts(settings, runtime.store, runtime.engine, clock=clock, metrics=metrics)
    contract = settings.contract()
    outputs = (contract.output_names("companies") | contract.output_names("contacts")
               | contract.output_names("deals"))
    if worker:
        inbox_worker = InboxWorker(
            runtime.store, runtime.engine, clock=clock, output_properties=outputs,
            app_id=settings.webhooks.app_id, worker_id=worker_id(), retry=retry,
            observe_run=metrics.observe_run, settings=settings.inbox,
        )
        parts.worker_loop = WorkerLoop(inbox_worker, poll_s=settings.inbox.poll_s,
                                       on_pass=metrics.observe_pass)
    if settings.scheduler.enabled if scheduler is None else scheduler:
        loop = parts.worker_loop
        tick = purge_tick(runtime.store.inbox_purge, clock,
                          loop.wake if loop is not None else (lambda: None))
        parts.scheduler = SyncScheduler(job_specs(
            settings.scheduler, runtime.engine, inbox_tick=tick, observe_run=metrics.observe_run))
    if portals_enabled(settings):
        add_portals(parts, runtime, clock=clock, worker=worker)
    return parts


def _config(parts: ServeParts, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(parts), host=host, port=port, lifespan="on", access_log=False,
        log_level=parts.settings.log_level.lower(), timeout_graceful_shutdown=30,
        # No logging config of uvicorn's own: its records reach the root handler that
        # configure_logging installed (same JSON format, same secret masking).
        log_config=None,
    )


def serve(settings: Settings, host: str, port: int) -> None:
    """Run until a signal stops the server (see module)."""
    runtime = build_runtime(settings)
    if settings.webhooks.client_secret is None:
        log.warning("PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET is not set: webhooks answer 503")
    if settings.admin.token is None:
        log.warning("PARTNER_SYNC_ADMIN__TOKEN is not set: the admin API refuses every call "
                    "and nobody can log in to the console (/console)")
    try:
        uvicorn.Server(_config(build_parts(runtime), host, port)).run()
    finally:
        runtime.close()


class ServerThread:
    """The serve app on a background thread (signal handlers stay with the main thread)."""

    def __init__(self, parts: ServeParts, host: str = "127.0.0.1", port: int = 0) -> None:
        if port == 0:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = int(probe.getsockname()[1])
        self.url = f"http://{host}:{port}"
        self.parts = parts
        self._server = uvicorn.Server(_config(parts, host, port))
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
