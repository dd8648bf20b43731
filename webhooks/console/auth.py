"""Login with the admin token, and logout.

``GET /console/login`` gives the form and an anonymous session (its CSRF token is in the form).
``POST /console/login`` checks that token, then the admin token: right, a brand-new logged-in
session (new id, new CSRF token) and a redirect to where the visitor was going; wrong, 401 with a
plain message and one more ``partner_sync_console_login_failures_total``. The token itself is
never written into a page, a log or the cookie.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from webhooks.console.session import csrf_matches, token_matches
from webhooks.console.web import PREFIX, Context, redirect

__all__ = ["login_form", "login_submit", "logout", "safe_next"]

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Where to go after login: a console path only (never another site, never ``//host``)."""
    if (target and target.startswith(PREFIX + "/") and not target.startswith("//")
            and "\\" not in target and "\n" not in target and "\r" not in target):
        return target
    return PREFIX + "/"


async def login_form(ctx: Context, request: Request) -> Response:
    session = ctx.session_of(request)
    if session is not None and session.authenticated:
        return redirect(safe_next(request.query_params.get("next")))
    if session is None:
        session = ctx.sessions.issue(authenticated=False)
    request.scope["console_session"] = session
    response = ctx.render(request, "login.html", next=safe_next(request.query_params.get("next")),
                          error=None)
    ctx.set_cookie(response, session)
    return response


async def login_submit(ctx: Context, request: Request, token: str | None) -> Response:
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    session = ctx.session_of(request)
    target = safe_next(fields.get("next"))
    if session is None or not csrf_matches(session, fields.get("csrf")):
        fresh = ctx.sessions.issue(authenticated=False)
        request.scope["console_session"] = fresh
        response = ctx.render(request, "login.html", 403, next=target,
                              error="The login form expired. Please try again.")
        ctx.set_cookie(response, fresh)
        return response
    if not token_matches(fields.get("token", ""), token):
        ctx.login_failures.inc()
        log.warning("console login refused: wrong admin token")
        request.scope["console_session"] = session
        message = ("Wrong admin token." if token else
                   "No admin token is configured (PARTNER_SYNC_ADMIN__TOKEN): nobody can log in.")
        return ctx.render(request, "login.html", 401, next=target, error=message)
    response = redirect(target)
    ctx.sessions.revoke(session)  # the pre-login id is never reused
    ctx.set_cookie(response, ctx.sessions.issue(authenticated=True))
    return response


async def logout(ctx: Context, request: Request, _fields: dict[str, str]) -> Response:
    session = request.scope.get("console_session")
    if session is not None:
        ctx.sessions.revoke(session)
    response = redirect(f"{PREFIX}/login")
    ctx.clear_cookie(response)
    return response
