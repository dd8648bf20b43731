"""``create_app``: the serve process's one ASGI app (Starlette).

Routes: ``POST /webhooks/hubspot`` (``receiver``), ``/admin/*`` (``admin``), ``/healthz``,
``/readyz`` (``health``), ``/metrics``, ``/openapi.json``, ``/docs`` and the admin console under
``/console`` (``webhooks.console``; ``/`` leads there). The app's lifespan
starts and stops the parts that run beside it, in order: the inbox writer first (requests need
it), then the worker loop and the scheduler; on shutdown the scheduler and worker stop first and
the writer last, after the server has stopped taking requests and committed what it accepted.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from config.settings import Settings
from sync.clock import Clock, SystemClock
from sync.logs import secret_values
from sync.ports import SyncRunner
from sync.store import InboxEvent as QueuedEvent
from sync.store import Store
from sync.store.inbox import InboxBusy
from webhooks.admin import AdminApi
from webhooks.background import SchedulerHandle, WorkerHandle
from webhooks.console import Console
from webhooks.console.portal_id import stored_portal_key
from webhooks.health import Health
from webhooks.inbox_writer import (
    AsyncCommitWriter,
    GroupCommitWriter,
    InboxWriter,
    LoopCommitWriter,
)
from webhooks.metrics import CONTENT_TYPE, InboxCollector, ServeMetrics
from webhooks.openapi import DOCS_HEADERS, OPENAPI, docs_html
from webhooks.receiver import WebhookReceiver
from webhooks.triage import Triage

__all__ = ["ServeParts", "create_app"]

WEBHOOK_PATH = "/webhooks/hubspot"


@dataclass(slots=True)
class ServeParts:
    """Everything the app serves with. ``worker_loop`` and ``scheduler`` are optional (tests and
    receiver-only replicas leave them out)."""

    settings: Settings
    store: Store
    engine: SyncRunner
    clock: Clock = field(default_factory=SystemClock)
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    worker_loop: WorkerHandle | None = None
    scheduler: SchedulerHandle | None = None
    commit_window_s: float = 0.001
    triage: Triage | None = None
    # Member portals: routes added to the app (OAuth install) and where committed webhook events
    # go instead of the inbox alone (routing by portalId); None keeps the inbox.
    extra_routes: list[Route] = field(default_factory=list)
    route_events: Callable[[Sequence[QueuedEvent]], int] | None = None
    # More background parts (the member-portal worker): started after, stopped before the rest.
    on_start: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)


def _stale_after_s(parts: ServeParts) -> float:
    if parts.scheduler is None:
        return math.inf  # nothing here syncs on a schedule: age says nothing about health
    return max(3 * parts.settings.scheduler.incremental_interval_minutes * 60.0, 900.0)


def _writer(parts: ServeParts) -> InboxWriter:
    """The inbox writer, on the event loop for both stores: SQLite commits there at once (a
    commit takes tens of microseconds; the writer thread takes over while another process
    holds the lock), PostgreSQL through its async driver. Routed events (member portals) keep
    the writer thread."""
    metrics, loop = parts.metrics, parts.worker_loop

    def on_commit(submitted: int, new: int) -> None:
        metrics.inbox_commits.inc()
        metrics.events_queued.inc(new)
        if new and loop is not None:
            loop.wake()

    if parts.route_events is not None:
        return GroupCommitWriter(parts.route_events, window_s=parts.commit_window_s,
                                 on_commit=on_commit)
    if parts.store.dialect == "postgresql":
        appender = parts.store.inbox_async_appender()
        return AsyncCommitWriter(appender.append, on_commit=on_commit, on_close=appender.close)
    waiting = parts.store.inbox_appender(wait=True)
    thread = GroupCommitWriter(waiting.append, window_s=parts.commit_window_s,
                               on_commit=on_commit, on_stop=waiting.close)
    at_once = parts.store.inbox_appender(wait=False)
    return LoopCommitWriter(at_once.append, thread, busy=InboxBusy, on_commit=on_commit,
                            on_stop=at_once.close)


def create_app(parts: ServeParts) -> Starlette:
    """The ASGI app. ``app.state.writer`` is its inbox writer (started by the lifespan)."""
    writer = _writer(parts)
    receiver = WebhookReceiver(parts.settings.webhooks, writer, parts.metrics, parts.clock,
                               parts.triage)
    token = parts.settings.admin.token
    admin = AdminApi(parts.engine, parts.store, token.get_secret_value() if token else None,
                     observe_run=parts.metrics.observe_run,
                     secrets=secret_values(parts.settings))
    scheduler, loop = parts.scheduler, parts.worker_loop
    health = Health(
        parts.store, parts.clock, _stale_after_s(parts),
        scheduler_running=(lambda: scheduler.running) if scheduler is not None else None,
        worker_alive=(lambda: loop.alive) if loop is not None else None,
    )
    parts.metrics.register(InboxCollector(parts.store.inbox_depth, parts.store.inbox_oldest_age))

    async def metrics(_request: Request) -> Response:
        return Response(parts.metrics.render(), media_type=CONTENT_TYPE)

    async def openapi(_request: Request) -> Response:
        return JSONResponse(OPENAPI)

    async def docs(_request: Request) -> Response:
        return HTMLResponse(docs_html(), headers=DOCS_HEADERS)

    console = Console(
        parts.store, parts.engine, token.get_secret_value() if token else None,
        clock=parts.clock, contract=parts.settings.contract(), settings=parts.settings.console,
        registry=parts.metrics.registry,
        jobs=scheduler.jobs if scheduler is not None else None,
        observe_run=parts.metrics.observe_run,
        stored_portal_key=stored_portal_key(parts.settings),
    )

    async def home(_request: Request) -> Response:
        return RedirectResponse("/console/", status_code=307)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        writer.start()
        if parts.worker_loop is not None:
            parts.worker_loop.start()
        if parts.scheduler is not None:
            parts.scheduler.start()
        for start in parts.on_start:
            start()
        try:
            yield
        finally:
            for stop in parts.on_stop:
                stop()
            if parts.scheduler is not None:
                parts.scheduler.stop()
            if parts.worker_loop is not None:
                parts.worker_loop.stop()
            await writer.drain()
            writer.stop()

    routes = [
        Route(WEBHOOK_PATH, receiver, methods=["POST"]),
        *admin.routes(),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/console", routes=console.routes()),
        Route("/", home, methods=["GET"]),
        *parts.extra_routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.writer = writer
    return app
