"""Wiring of member portals around a built ``Runtime``: sessions, the per-portal sync, the job
worker, the OAuth routes and the webhook router. ``portals_enabled(settings)`` says whether the
public app is configured at all (client id, secret and token key)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from cli.runtime import Runtime
from config.settings import Settings, SettingsError
from sync.clock import Clock, SystemClock
from sync.portals.contract import MemberContract
from sync.portals.portal_sync import PortalSync
from sync.portals.repo import PortalRepo
from sync.portals.routing import EventRouter
from sync.portals.session import PortalSessions
from sync.portals.worker import PortalWorker
from webhooks.app import ServeParts
from webhooks.oauth import OAuthRoutes
from webhooks.portals_admin import portals_admin_routes

__all__ = ["PortalParts", "add_portals", "build_portal_parts", "portals_enabled", "require_portals"]


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:portals:{uuid.uuid4().hex[:6]}"


def portals_enabled(settings: Settings) -> bool:
    p = settings.portals
    return p.client_id is not None and p.client_secret is not None and p.token_key is not None


def require_portals(settings: Settings) -> None:
    missing = [name for name, value in (("CLIENT_ID", settings.portals.client_id),
                                        ("CLIENT_SECRET", settings.portals.client_secret),
                                        ("TOKEN_KEY", settings.portals.token_key))
               if value is None]
    if missing:
        raise SettingsError("member portals need " + ", ".join(
            f"PARTNER_SYNC_PORTALS__{m}" for m in missing))


@dataclass(slots=True)
class PortalParts:
    repo: PortalRepo
    sessions: PortalSessions
    syncer: PortalSync
    worker: PortalWorker
    oauth_routes: OAuthRoutes
    router: EventRouter
    http: httpx.Client

    def close(self) -> None:
        self.worker.stop()
        self.http.close()


def build_portal_parts(runtime: Runtime, *, clock: Clock | None = None,
                       worker_id: str | None = None,
                       http: httpx.Client | None = None) -> PortalParts:
    """Everything member portals need, over the runtime's store and program engine."""
    settings = runtime.settings
    require_portals(settings)
    clock = clock or SystemClock()
    http = http or httpx.Client(timeout=httpx.Timeout(settings.hubspot.timeout_s),
                                limits=httpx.Limits(max_connections=64,
                                                    max_keepalive_connections=32))
    repo = PortalRepo(runtime.store)
    sessions = PortalSessions(settings, repo, http, clock)
    syncer = PortalSync(settings, runtime.store, sessions, runtime.gateway, runtime.engine)
    worker = PortalWorker(syncer, settings.portals, clock, worker_id or _worker_id())
    routes = OAuthRoutes(settings, runtime.store, sessions.oauth, sessions.vault, clock)
    router = EventRouter(repo, runtime.store.inbox_insert, MemberContract(settings.contract()),
                         settings.portals.program_portal_id)
    return PortalParts(repo, sessions, syncer, worker, routes, router, http)


class RouteCollector(Collector):
    """``partner_sync_webhook_events_routed_total{route=program|member|echo|unknown}``."""

    def __init__(self, router: EventRouter) -> None:
        self._router = router

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("partner_sync_webhook_events_routed",
                                     "Webhook events by where the portal router sent them",
                                     labels=["route"])
        for route, count in sorted(self._router.counts.items()):
            family.add_metric([route], count)
        yield family


def add_portals(parts: ServeParts, runtime: Runtime, *, clock: Clock | None = None,
                worker: bool = True) -> PortalParts:
    """Serve member portals: the OAuth routes, routing of webhook events by ``portalId`` and
    (``worker``) the job worker, started and stopped with the app."""
    portal_parts = build_portal_parts(runtime, clock=clock)
    admin = runtime.settings.admin.token
    parts.extra_routes += portal_parts.oauth_routes.routes()
    parts.extra_routes += portals_admin_routes(
        runtime.store, admin.get_secret_value() if admin else None)
    parts.route_events = portal_parts.router.route
    parts.metrics.register(RouteCollector(portal_parts.router))
    if worker:
        parts.on_start.append(portal_parts.worker.start)
    parts.on_stop.append(portal_parts.close)
    return portal_parts
