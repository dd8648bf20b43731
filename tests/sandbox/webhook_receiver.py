"""A real webhook receiver for the dispatcher tests: records every POST, answers as scripted."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    url: str
    headers: dict[str, str]
    body: bytes
    arrived_s: float  # time.monotonic() at arrival


@dataclass
class Receiver:
    """``script`` lists (status, delay_s) answers for the first requests; then 200 at once."""

    script: list[tuple[int, float]] = field(default_factory=list)
    delay_s: float = 0.0  # added to every request
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(
                Received(str(request.url), dict(request.headers), body, time.monotonic()))
            status, delay_s = self.script.pop(0) if self.script else (200, 0.0)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(delay_s + self.delay_s)
        finally:
            with self._lock:
                self.in_flight -= 1
        return Response(status_code=status)


def v3_is_valid(request: Received, secret: str) -> bool:
    """HubSpot's documented v3 check, written from the docs (not from the sandbox's code):
    base64(HMAC-SHA256(secret, method + full URI + raw body + timestamp ms)), and a timestamp
    at most 5 minutes away from now."""
    timestamp = request.headers["x-hubspot-request-timestamp"]
    if abs(time.time() * 1000 - int(timestamp)) > 300_000:
        return False
    message = b"POST" + request.url.encode() + request.body + timestamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())
    return hmac.compare_digest(expected, request.headers["x-hubspot-signature-v3"].encode())
