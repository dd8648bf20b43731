"""RateLimitMiddleware: rolling window, daily budget, search per-second, headers, 429 bodies."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from sandbox.config import RateLimitConfig
from sandbox.limits import RateLimitMiddleware
from tests.sandbox.asgi_helpers import Calls, client_for, tiny_app

CONTACTS = "/crm/v3/objects/contacts"
SEARCH = "/crm/v3/objects/contacts/search"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.day = date(2026, 3, 1)

    def monotonic(self) -> float:
        return self.now

    def today(self) -> date:
        return self.day


def _limited(
    config: RateLimitConfig, clock: FakeClock, *, retry_after: bool = False
) -> tuple[RateLimitMiddleware, Calls]:
    calls = Calls()
    middleware = RateLimitMiddleware(
        tiny_app(calls), config, "tok",
        clock=clock.monotonic, today=clock.today, retry_after=retry_after,
    )
    return middleware, calls


def _remaining(response: httpx.Response) -> int:
    return int(response.headers["X-HubSpot-RateLimit-Remaining"])


async def test_window_headers_decrease_then_429_then_window_rolls() -> None:
    clock = FakeClock()
    app, calls = _limited(RateLimitConfig(per_10s=3, daily=100), clock)
    async with client_for(app) as client:
        first = await client.get(CONTACTS)
        clock.now += 4
        seen = [first, await client.get(CONTACTS), await client.get(CONTACTS)]
        assert [_remaining(r) for r in seen] == [2, 1, 0]
        assert first.headers["X-HubSpot-RateLimit-Max"] == "3"
        assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert [r.headers["X-HubSpot-RateLimit-Daily-Remaining"] for r in seen] == [
            "99", "98", "97"]
        rejected = await client.get(CONTACTS)
        assert rejected.status_code == 429
        assert calls.count == 3
        # The first call leaves the rolling window 10 s after it was made; the others stay.
        clock.now += 6.01
        again = await client.get(CONTACTS)
        assert again.status_code == 200
        assert _remaining(again) == 0
        assert (await client.get(CONTACTS)).status_code == 429


async def test_ten_secondly_429_body_and_headers_without_retry_after() -> None:
    clock = FakeClock()
    app, _ = _limited(RateLimitConfig(per_10s=1, daily=100), clock)
    async with client_for(app) as client:
        await client.get(CONTACTS)
        rejected = await client.get(CONTACTS)
    body = rejected.json()
    assert rejected.status_code == 429
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["status"] == "error"
    assert rejected.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
    assert rejected.headers["content-type"].startswith("application/json")
    assert "retry-after" not in rejected.headers
    assert _remaining(rejected) == 0
    # A rejected call consumes nothing from the daily budget.
    assert rejected.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "99"


async def test_retry_after_when_asked_counts_to_the_window_end() -> None:
    clock = FakeClock()
    app, _ = _limited(RateLimitConfig(per_10s=1, daily=100), clock, retry_after=True)
    async with client_for(app) as client:
        await client.get(CONTACTS)
        clock.now += 2.5
        rejected = await client.get(CONTACTS)
    assert rejected.headers["Retry-After"] == "8"


async def test_daily_budget_and_reset_on_new_day() -> None:
    clock = FakeClock()
    app, calls = _limited(RateLimitConfig(per_10s=100, daily=2), clock)
    async with client_for(app) as client:
        assert (await client.get(CONTACTS)).status_code == 200
        assert (await client.post(SEARCH, json={})).status_code == 200
        rejected = await client.get(CONTACTS)
        assert rejected.status_code == 429
        assert rejected.json()["policyName"] == "DAILY"
        assert rejected.json()["message"] == "You have reached your daily limit."
        assert rejected.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
        clock.day = date(2026, 3, 2)
        fresh = await client.get(CONTACTS)
    assert fresh.status_code == 200
    assert fresh.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
    assert calls.count == 3


async def test_search_has_its_own_per_second_budget_and_body() -> None:
    clock = FakeClock()
    app, _ = _limited(RateLimitConfig(per_10s=2, daily=100, search_per_s=3), clock)
    async with client_for(app) as client:
        searches = [await client.post(SEARCH, json={}) for _ in range(3)]
        rejected = await client.post(SEARCH, json={})
        # Searches do not use the 10-second window: a plain call still has its full budget.
        plain = await client.get(CONTACTS)
        clock.now += 1.01
        later = await client.post(SEARCH, json={})
    assert [r.status_code for r in searches] == [200, 200, 200]
    assert rejected.status_code == 429
    assert rejected.json()["message"] == "You have reached your secondly limit."
    assert rejected.json()["category"] == "RATE_LIMITS"
    assert "policyName" not in rejected.json()
    assert "retry-after" not in rejected.headers
    assert _remaining(plain) == 1
    assert later.status_code == 200
    # Search answers carry only the daily headers, as HubSpot's do.
    assert searches[0].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "99"
    for name in ("Max", "Remaining", "Interval-Milliseconds"):
        assert f"X-HubSpot-RateLimit-{name}" not in searches[0].headers


@pytest.mark.parametrize("token", [None, "someone-else"])
async def test_other_tokens_and_control_paths_are_not_limited(token: str | None) -> None:
    clock = FakeClock()
    app, _ = _limited(RateLimitConfig(per_10s=1, daily=1), clock)
    async with client_for(app, token) as client:
        answers = [await client.get(CONTACTS) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert "X-HubSpot-RateLimit-Remaining" not in answers[0].headers
    async with client_for(app) as client:
        control = [await client.get("/_sandbox/health") for _ in range(3)]
    assert [r.status_code for r in control] == [200, 200, 200]


async def test_disabled_means_no_headers_and_no_limit() -> None:
    clock = FakeClock()
    calls = Calls()
    inner = tiny_app(calls)
    app = RateLimitMiddleware(inner, RateLimitConfig(enabled=False, per_10s=1, daily=1), "tok",
                              clock=clock.monotonic, today=clock.today)
    async with client_for(app) as client:
        answers = [await client.get(CONTACTS) for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in answers[-1].headers)
    assert calls.count == 5
