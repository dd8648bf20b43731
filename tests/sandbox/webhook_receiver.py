"""A real webhook receiver for the dispatcher tests: records every POST, answers as scripted."""

from __future__ import annotations

import asyncio
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
