"""``create_app``: the HubSpot-compatible ASGI application of the sandbox.

Layers, outermost first: fault injection (``sandbox.faults``), bearer-token auth (401
``INVALID_AUTHENTICATION``), rate limits (``sandbox.limits``), then the error boundary that turns
``ApiError`` into HubSpot's error bodies, adds ``X-HubSpot-Correlation-Id`` to every answer and
answers HubSpot's 500 shape only for real bugs (logged). Webhook deliveries
(``sandbox.webhooks``) start and stop with the app's lifespan.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError, error_body
from sandbox.faults import FaultMiddleware
from sandbox.http import JSON_TYPE, Context, json_response
from sandbox.limits import RateLimitMiddleware
from sandbox.routes_account import account_routes
from sandbox.routes_assoc import association_routes
from sandbox.routes_batch import batch_routes
from sandbox.routes_objects import object_routes
from sandbox.routes_properties import property_routes
from sandbox.search import SearchRunner
from sandbox.state import SandboxState
from sandbox.webhooks import WebhookDispatcher

__all__ = ["create_app"]

log = logging.getLogger(__name__)
_Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]
_CONTROL_PREFIX = "/_sandbox/"
_OBJECT_PREFIXES = ("/crm/v3/objects", "/crm/objects/2025-09", "/crm/objects/2026-03",
                    "/crm/objects/2026-09")
_CORRELATION = b"x-hubspot-correlation-id"


def _error_messages(status: int, body: dict[str, object]) -> tuple[Message, Message]:
    payload = orjson.dumps(body)
    start: Message = {"type": "http.response.start", "status": status, "headers": [
        (b"content-type", JSON_TYPE.encode()), (b"content-length", str(len(payload)).encode()),
        (_CORRELATION, str(body["correlationId"]).encode())]}
    return start, {"type": "http.response.body", "body": payload}


class AuthMiddleware:
    """401 with HubSpot's body unless ``Authorization: Bearer <token>`` matches (control paths
    under ``/_sandbox/`` are open)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = error_body(
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
            "oauth-overview")
        for message in _error_messages(401, body):
            await send(message)


class ErrorBoundary:
    """ApiError -> HubSpot error answer; any other exception -> logged, HubSpot-shaped 500.

    Also stamps ``X-HubSpot-Correlation-Id`` on answers that lack one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def stamped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == _CORRELATION for k, _ in headers):
                    headers.append((_CORRELATION, str(uuid.uuid4()).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, stamped)
        except ApiError as error:
            if not started:
                for message in _error_messages(error.status, error.body()):
                    await send(message)
        except Exception:
            log.exception("sandbox bug while serving %s %s", scope.get("method"), scope["path"])
            if not started:
                body = error_body("INTERNAL_ERROR", "internal error")
                for message in _error_messages(500, body):
                    await send(message)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    category = "OBJECT_NOT_FOUND" if status == 404 else "VALIDATION_ERROR"
    message = f"{request.method} {request.url.path} is not a known endpoint" if status in (
        404, 405) else "invalid request"
    body = error_body(category, message)
    response = json_response(body, status)
    response.headers["X-HubSpot-Correlation-Id"] = str(body["correlationId"])
    return response


async def _health(request: Request) -> Response:
    return json_response({"status": "ok"})


def _lifespan(state: SandboxState, config: SandboxConfig) -> _Lifespan:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dispatcher = WebhookDispatcher(state.bus, config.webhooks, config.portal_id)
        # Exposed so tests and the demo can wait for deliveries (drain_blocking).
        app.state.webhooks = dispatcher
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    return lifespan


def create_app(config: SandboxConfig, state: SandboxState | None = None) -> Starlette:
    """The sandbox app over ``state`` (a fresh empty one by default).

    ``config.search_lag_s`` and ``config.portal_id`` are applied to the state.
    """
    state = state if state is not None else SandboxState()
    state.search_lag_ms = int(config.search_lag_s * 1000)
    state.portal_id = config.portal_id
    routes: list[Route] = [Route("/_sandbox/health", _health, methods=["GET"])]
    for prefix in _OBJECT_PREFIXES:
        routes += batch_routes(prefix) + object_routes(prefix)
    routes += property_routes("/crm/v3/properties") + association_routes()
    routes += account_routes()
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error},
                    lifespan=_lifespan(state, config))
    app.state.ctx = Context(state, config, SearchRunner(state), str(config.webhooks.app_id))
    app.state.sandbox = state
    app.add_middleware(ErrorBoundary)
    app.add_middleware(RateLimitMiddleware, config=config.rate_limits, token=config.token)
    app.add_middleware(AuthMiddleware, token=config.token)
    app.add_middleware(FaultMiddleware, rules=config.faults, seed=config.fault_seed)
    return app
