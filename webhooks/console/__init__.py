"""The admin console: server-rendered pages under ``/console`` behind a login with the admin token.

``Console(...).routes()`` gives the routes to mount (``Mount("/console", routes=...)``). Pages
work without JavaScript (there is none), charts are inline SVG, and every asset is in this
package. See docs/console.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from importlib.resources import files
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.contract import CrmContract
from config.settings import ConsoleSettings
from sync.clock import Clock
from sync.ports import RunSummary, SyncRunner
from sync.store import Store
from webhooks.console import actions, auth, pages
from webhooks.console.cache import ProgramReads
from webhooks.console.portal_id import portal_id_lookup
from webhooks.console.session import SessionCodec
from webhooks.console.web import PREFIX, Context, secure

__all__ = ["PREFIX", "Console"]

_CSS = files("webhooks.console").joinpath("static/console.css").read_bytes()


class Console:
    """The console's routes over the serve process's store, engine and clock."""

    def __init__(
        self,
        store: Store,
        engine: SyncRunner,
        admin_token: str | None,
        *,
        clock: Clock,
        contract: CrmContract,
        settings: ConsoleSettings,
        registry: CollectorRegistry,
        jobs: Callable[[], dict[str, Any]] | None = None,
        observe_run: Callable[[RunSummary], None] | None = None,
        portal_id: Callable[[], int | None] | None = None,
        stored_portal_key: str | None = None,
    ) -> None:
        """``portal_id`` gives the portal records link into; by default the one stored under
        ``stored_portal_key`` (``portal_id.stored_portal_key(settings)``), else the configured
        one, else the newest webhook event's (webhooks/console/portal_id.py)."""
        self._token = admin_token
        failures = Counter("partner_sync_console_login_failures",
                           "Console logins refused (wrong admin token)", registry=registry)
        self.ctx = Context(
            store, engine, clock, contract,
            SessionCodec(admin_token, clock, timedelta(minutes=settings.session_minutes)),
            settings, failures, ProgramReads(store), jobs=jobs, observe_run=observe_run,
            portal_id=portal_id or portal_id_lookup(store, settings, stored_portal_key),
        )

    def routes(self) -> list[Route]:
        ctx = self.ctx

        def bind(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
            return partial(fn, ctx)

        async def login_post(request: Request) -> Response:
            return await auth.login_submit(ctx, request, self._token)

        async def css(_request: Request) -> Response:
            response = secure(Response(_CSS, media_type="text/css"))
            response.headers["Cache-Control"] = "max-age=3600"
            return response

        return [
            Route("/", ctx.page(bind(pages.overview)), methods=["GET"]),
            Route("/login", bind(auth.login_form), methods=["GET"]),
            Route("/login", login_post, methods=["POST"]),
            Route("/logout", ctx.form(bind(auth.logout)), methods=["POST"]),
            Route("/runs", ctx.page(bind(pages.runs)), methods=["GET"]),
            Route("/runs/{run_id:int}", ctx.page(bind(pages.run)), methods=["GET"]),
            Route("/members", ctx.page(bind(pages.members)), methods=["GET"]),
            Route("/payouts", ctx.page(bind(pages.payouts)), methods=["GET"]),
            Route("/portals", ctx.page(bind(pages.portals)), methods=["GET"]),
            Route("/actions/resync", ctx.form(bind(actions.resync)), methods=["POST"]),
            Route("/dead-letters/{item_id:int}/retry", ctx.form(bind(actions.retry_dead_letter)),
                  methods=["POST"]),
            Route("/static/console.css", css, methods=["GET"]),
        ]

