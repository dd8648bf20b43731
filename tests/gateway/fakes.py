"""Test doubles for the gateway: a fake clock and a small routed fake of HubSpot's HTTP API."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from config.settings import HubSpotSettings
from sync.gateway import Gateway

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
BASE_URL = "https://api.hubapi.test"

Handler = Callable[[httpx.Request, re.Match[str]], httpx.Response]


@dataclass
class FakeClock:
    """Monotonic seconds that only move when someone sleeps (or a handler advances them)."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class FakeHubSpot:
    """Routes requests by method and path regex; records every request it sees."""

    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{path}$"), handler))
            return handler

        return register

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for method, pattern, handler in self.routes:
            match = pattern.match(request.url.path)
            if method == request.method and match:
                return handler(request, match)
        return httpx.Response(404, text="<html>not found</html>")

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def body(request: httpx.Request) -> Any:
    return orjson.loads(request.content)


def error(status: int, category: str, message: str, **extra: Any) -> httpx.Response:
    payload = {"status": "error", "message": message, "correlationId": "corr-123",
               "category": category, **extra}
    return httpx.Response(status, json=payload)


def record(record_id: int | str, **props: str) -> dict[str, Any]:
    return {
        "id": str(record_id),
        "properties": {"hs_object_id": str(record_id), **props},
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-02T00:00:00.000Z",
        "archived": False,
    }


def settings(**overrides: Any) -> HubSpotSettings:
    values: dict[str, Any] = {"access_token": SecretStr(TOKEN), "base_url": BASE_URL}
    values.update(overrides)
    return HubSpotSettings(**values)


def make_gateway(fake: FakeHubSpot, clock: FakeClock, **overrides: Any) -> Gateway:
    return Gateway(
        settings(**overrides),
        transport=httpx.MockTransport(fake),
        clock=clock,
        sleep=clock.sleep,
    )
