"""The console's request plumbing: templates, sessions on requests, secure headers, guards.

Every console response carries headers that forbid framing and any remote or inline script or
style (the pages use neither), and ``Cache-Control: no-store`` so a page never outlives its
session in a shared cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from config.contract import CrmContract
from config.settings import ConsoleSettings
from sync.clock import Clock
from sync.ports import RunSummary, SyncRunner
from sync.store import Store
from webhooks.console.data import ProgramReads
from webhooks.console.session import COOKIE, Session, SessionCodec, csrf_matches

__all__ = ["PREFIX", "SECURITY_HEADERS", "Context", "Handler"]

PREFIX = "/console"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

Handler = Callable[[Request], Awaitable[Response]]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else ""


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("webhooks.console", "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(age=_age, when=_when, money=_money)
    return env


@dataclass(slots=True)
class Context:
    """What every console handler works with."""

    store: Store
    engine: SyncRunner
    clock: Clock
    contract: CrmContract
    sessions: SessionCodec
    settings: ConsoleSettings
    login_failures: Counter
    reads: ProgramReads
    jobs: Callable[[], dict[str, Any]] | None = None
    observe_run: Callable[[RunSummary], None] | None = None
    portal_id: Callable[[], int | None] = lambda: None
    env: Environment | None = None

    def __post_init__(self) -> None:
        self.env = _environment()

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> Response:
        assert self.env is not None
        session: Session | None = request.scope.get("console_session")
        html = self.env.get_template(name).render(
            prefix=PREFIX, session=session, csrf=session.csrf if session else "",
            path=request.url.path, **values)
        return secure(HTMLResponse(html, status_code=status))

    def session_of(self, request: Request) -> Session | None:
        return self.sessions.load(request.cookies.get(COOKIE))

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE, self.sessions.dump(session), path=PREFIX, httponly=True, samesite="strict",
            secure=self.settings.secure_cookie,
            max_age=int(self.sessions.lifetime.total_seconds()))

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict",
                               secure=self.settings.secure_cookie)

    def page(self, handler: Handler) -> Handler:
        """Only with a logged-in session; otherwise off to the login form (and back after)."""

        async def guarded(request: Request) -> Response:
            session = self.session_of(request)
            if session is None or not session.authenticated:
                target = request.url.path
                if request.method == "GET" and request.url.query:
                    target += "?" + request.url.query
                return redirect(f"{PREFIX}/login?next={quote(target, safe='')}")
            request.scope["console_session"] = session
            return await handler(request)

        return guarded

    def form(self, handler: Callable[[Request, dict[str, str]], Awaitable[Response]]) -> Handler:
        """A logged-in POST whose form carries the session's CSRF token; 403 otherwise."""

        async def checked(request: Request) -> Response:
            fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            if not csrf_matches(request.scope.get("console_session"), fields.get("csrf")):
                return self.render(request, "message.html", 403, title="Form refused",
                                   message="This form has expired or did not come from this "
                                           "console. Reload the page and try again.")
            return await handler(request, fields)

        return self.page(checked)


def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def redirect(url: str) -> Response:
    """303 See Other: after a POST the browser follows with a GET (POST-redirect-GET)."""
    return secure(RedirectResponse(url, status_code=303))
