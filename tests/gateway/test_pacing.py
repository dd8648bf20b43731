"""Pacing: never more than the window allows, yet the budget is used; headers correct it."""

from __future__ import annotations

import bisect

import pytest

from config.settings import HubSpotSettings
from sync.gateway.errors import RateLimited
from sync.gateway.pacing import RateLimiter
from tests.gateway.fakes import FakeClock


def limiter(clock: FakeClock, **kw: int | float | bool) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


def run(pacer: RateLimiter, clock: FakeClock, n: int, latency_s: float) -> list[float]:
    """Send ``n`` requests one after another; return the times each was answered."""
    answered = []
    for _ in range(n):
        slot = pacer.acquire()
        clock.now += latency_s
        pacer.release(slot)
        answered.append(clock.now)
    return answered


def max_in_any_window(times: list[float], window_s: float) -> int:
    return max(bisect.bisect_left(times, t + window_s) - i for i, t in enumerate(times))


def test_window_is_never_exceeded_and_is_used_fully(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=190)
    start = clock.now
    answered = run(pacer, clock, 1900, latency_s=0.004)

    assert max_in_any_window(answered, 10.0) <= 190
    elapsed = clock.now - start
    # Ten bursts of 190; each burst starts one window after the previous burst's first
    # answer, so the only slack is one request's latency per window.
    assert elapsed == pytest.approx(9 * (10.0 + 0.004) + 190 * 0.004)
    assert len(clock.sleeps) == 9  # one wait per window, then the slots free as fast as used


def test_first_window_goes_without_waiting(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=190)
    run(pacer, clock, 190, latency_s=0.0)
    assert clock.sleeps == []
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_in_flight_slots_count_until_their_answer(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=2)
    first = pacer.acquire()
    second = pacer.acquire()
    clock.now += 30.0  # answers are late: the slots still hold the window
    pacer.release(first)
    pacer.acquire()
    # Frees one window after the first answer, not one window after it was sent.
    assert sum(clock.sleeps) == pytest.approx(10.0)
    pacer.release(second)


def test_search_has_its_own_per_second_budget(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=190, search_per_s=5)
    for _ in range(5):
        pacer.release(pacer.acquire(search=True))
    assert clock.sleeps == []
    pacer.acquire(search=True)
    assert clock.sleeps == [pytest.approx(1.0)]


def test_headers_lower_the_limit_and_account_for_other_traffic(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=190)
    slot = pacer.acquire()
    pacer.release(slot, {
        "X-HubSpot-RateLimit-Max": "100",
        "X-HubSpot-RateLimit-Remaining": "1",  # someone else used 98 of this window
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    })
    assert pacer.window_limit == 100
    pacer.release(pacer.acquire())
    assert clock.sleeps == []
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_interval_header_changes_the_window(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=1)
    pacer.release(pacer.acquire(), {"x-hubspot-ratelimit-interval-milliseconds": "2000"})
    pacer.acquire()
    assert pacer.window_s == 2.0
    assert clock.sleeps == [pytest.approx(2.0)]


def test_daily_budget_from_headers_stops_requests(clock: FakeClock) -> None:
    pacer = limiter(clock, daily=1000)
    pacer.release(pacer.acquire(), {"X-HubSpot-RateLimit-Daily-Remaining": "0"})
    with pytest.raises(RateLimited, match="daily") as exc:
        pacer.acquire()
    assert not exc.value.action.retryable


def test_daily_budget_counts_locally_and_resets_after_a_day(clock: FakeClock) -> None:
    pacer = limiter(clock, daily=3, per_window=100)
    run(pacer, clock, 3, latency_s=0.0)
    with pytest.raises(RateLimited):
        pacer.acquire()
    clock.now += 86_400
    pacer.acquire()
    assert pacer.daily_left == 2


def test_hold_and_saturate_make_every_caller_wait(clock: FakeClock) -> None:
    pacer = limiter(clock, per_window=190)
    pacer.hold(3.0)
    pacer.release(pacer.acquire())
    assert clock.sleeps == [pytest.approx(3.0)]
    wait = pacer.saturate(10.0)  # a 429 with no Retry-After: the window is full right now
    assert wait == pytest.approx(10.0)
    pacer.acquire()
    assert clock.sleeps[-1] == pytest.approx(10.0)


def test_searches_leave_the_ten_second_window_alone_unless_told(clock: FakeClock) -> None:
    # HubSpot's usage guide: the 10-second limit "excludes the CRM Search API".
    pacer = limiter(clock, per_window=3, search_per_s=5)
    for _ in range(3):
        pacer.release(pacer.acquire(search=True))
    for _ in range(3):
        pacer.release(pacer.acquire())
    assert clock.sleeps == []
    cautious = RateLimiter(per_window=3, search_per_s=5, clock=clock, sleep=clock.sleep,
                           search_in_window=True)
    for _ in range(3):
        cautious.release(cautious.acquire(search=True))
    cautious.acquire()
    assert clock.sleeps == [pytest.approx(10.0)]


def test_the_setting_reaches_the_pacer() -> None:
    assert not RateLimiter.from_settings(HubSpotSettings())._search_in_window
    assert RateLimiter.from_settings(HubSpotSettings(search_in_window=True))._search_in_window
