"""HubSpot's rate limits as pure ASGI middleware: a rolling 10-second window, a daily budget and
a per-second search budget, with HubSpot's headers and 429 bodies.

What a client can rely on (research notes §2 and §10):

* Only requests bearing the sandbox's token (``Authorization: Bearer <token>``) are counted; any
  other request passes through untouched (the app answers 401) and ``/_sandbox/*`` control paths
  are never limited.
* Non-search answers (429s included) carry ``X-HubSpot-RateLimit-Daily``, ``-Daily-Remaining``,
  ``-Interval-Milliseconds`` (10000), ``-Max`` and ``-Remaining``. The deprecated ``-Secondly*``
  headers are not sent: HubSpot no longer enforces that limit and they would mislead pacing.
* Search answers (paths ending in ``/search``) carry only ``-Daily`` and ``-Daily-Remaining``, as
  recorded for static-token search calls; never Max, Remaining or Interval.
* Search calls count against the daily budget and their own per-second budget, not the 10-second
  window. Rejected calls (429) consume nothing.
* 429 bodies: ``TEN_SECONDLY_ROLLING`` and ``DAILY`` with ``errorType: RATE_LIMIT``; search
  answers the recorded ``{"category": "RATE_LIMITS", "message": "You have reached your secondly
  limit."}`` without ``policyName``. No ``Retry-After`` unless ``retry_after=True`` (HubSpot sends
  none on REST 429s).
* Disabled (``config.enabled`` false): requests go straight to the app, no header, no limit.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.config import RateLimitConfig

__all__ = ["RateLimitMiddleware", "json_error_messages", "rate_limit_body"]

WINDOW_S = 10.0
SEARCH_WINDOW_S = 1.0
_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "DAILY": "You have reached your daily limit.",
}
SEARCH_LIMIT_MESSAGE = "You have reached your secondly limit."


def _utc_today() -> date:
    return datetime.now(UTC).date()


def rate_limit_body(policy: str) -> dict[str, Any]:
    """HubSpot's 429 body for ``policy``: TEN_SECONDLY_ROLLING, DAILY or SEARCH (secondly)."""
    if policy == "SEARCH":
        return {
            "status": "error",
            "message": SEARCH_LIMIT_MESSAGE,
            "correlationId": str(uuid.uuid4()),
            "category": "RATE_LIMITS",
        }
    return {
        "status": "error",
        "message": _MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }


def json_error_messages(
    status: int, body: Mapping[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[Message, Message]:
    """The two ASGI messages of a HubSpot-style JSON answer (correlation id header included)."""
    payload = orjson.dumps(body)
    all_headers = [
        (b"content-type", b"application/json;charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
        *(headers or []),
    ]
    if "correlationId" in body:
        all_headers.append((b"x-hubspot-correlation-id", str(body["correlationId"]).encode()))
    start: Message = {"type": "http.response.start", "status": status, "headers": all_headers}
    return start, {"type": "http.response.body", "body": payload}


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = bytes(value).partition(b" ")
            return token.strip() if scheme.lower() == b"bearer" else None
    return None


class _Budget:
    """Counters of one token. Callers hold the middleware's lock."""

    def __init__(self) -> None:
        self.window: deque[float] = deque()  # admission times of non-search calls, last 10 s
        self.search: deque[float] = deque()  # admission times of search calls, last 1 s
        self.day: date | None = None
        self.day_used = 0


class RateLimitMiddleware:
    """Enforce ``config`` on requests bearing ``token``; see the module docstring for the rules.

    ``clock`` is a monotonic time source in seconds and ``today`` gives the current UTC day (the
    daily budget resets when it changes); both are injectable for tests. Admission is decided
    under a lock, so the middleware is safe from any thread or event loop.
    """

    def __init__(
        self,
        app: ASGIApp,
        config: RateLimitConfig,
        token: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = _utc_today,
        retry_after: bool = False,
    ) -> None:
        self.app = app
        self.config = config
        self._token = token.encode()
        self._clock = clock
        self._today = today
        self._retry_after = retry_after
        self._lock = threading.Lock()
        self._budget = _Budget()
        # Disabled: __call__ hands requests straight to the app, nothing else runs.
        self._handle: ASGIApp = self._limited if config.enabled else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handle(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"].startswith("/_sandbox/")
            or _bearer(scope) != self._token
        ):
            await self.app(scope, receive, send)
            return
        is_search = scope["path"].rstrip("/").endswith("/search")
        with self._lock:
            policy, headers, retry_after_s = self._admit(is_search)
        if policy is not None:
            if retry_after_s is not None:
                headers.append((b"retry-after", str(retry_after_s).encode()))
            for message in json_error_messages(429, rate_limit_body(policy), headers):
                await send(message)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _admit(self, is_search: bool) -> tuple[str | None, list[tuple[bytes, bytes]], int | None]:
        """Count one call if budgets allow: (rejecting policy or None, headers, Retry-After)."""
        now = self._clock()
        budget = self._budget
        today = self._today()
        if budget.day != today:
            budget.day, budget.day_used = today, 0
        _prune(budget.window, now - WINDOW_S)
        _prune(budget.search, now - SEARCH_WINDOW_S)
        policy: str | None = None
        retry_after_s: int | None = None
        if budget.day_used >= self.config.daily:
            policy, retry_after_s = "DAILY", self._seconds_to_midnight()
        elif is_search and len(budget.search) >= self.config.search_per_s:
            policy = "SEARCH"
            retry_after_s = math.ceil(budget.search[0] + SEARCH_WINDOW_S - now)
        elif not is_search and len(budget.window) >= self.config.per_10s:
            policy = "TEN_SECONDLY_ROLLING"
            retry_after_s = math.ceil(budget.window[0] + WINDOW_S - now)
        else:
            budget.day_used += 1
            (budget.search if is_search else budget.window).append(now)
        if not self._retry_after or retry_after_s is None:
            return policy, self._headers(is_search), None
        return policy, self._headers(is_search), max(retry_after_s, 1)

    def _headers(self, is_search: bool) -> list[tuple[bytes, bytes]]:
        daily = self.config.daily
        headers = [
            (b"x-hubspot-ratelimit-daily", str(daily).encode()),
            (b"x-hubspot-ratelimit-daily-remaining",
             str(max(daily - self._budget.day_used, 0)).encode()),
        ]
        if not is_search:
            remaining = max(self.config.per_10s - len(self._budget.window), 0)
            headers += [
                (b"x-hubspot-ratelimit-interval-milliseconds", str(int(WINDOW_S * 1000)).encode()),
                (b"x-hubspot-ratelimit-max", str(self.config.per_10s).encode()),
                (b"x-hubspot-ratelimit-remaining", str(remaining).encode()),
            ]
        return headers

    def _seconds_to_midnight(self) -> int:
        # The daily budget follows the injected day; Retry-After is only a hint, so wall time.
        now = datetime.now(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return max(math.ceil((midnight - now).total_seconds()), 1)


def _prune(times: deque[float], horizon: float) -> None:
    while times and times[0] <= horizon:
        times.popleft()
