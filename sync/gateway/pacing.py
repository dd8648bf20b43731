"""Client-side pacing for one portal's HubSpot budgets, so that our own traffic never earns a 429.

Three budgets: a rolling window (default 190 requests per 10 s), the search endpoints' per-second
limit (5/s) and the daily budget. Each request takes a *slot* before it is sent and gives it back
when the answer arrives. A slot counts against the window from the moment it is taken until one
window after its answer: HubSpot counts a request when it arrives, which is somewhere between the
two, so this is the tightest bound that can never undercount. ``X-HubSpot-RateLimit-*`` response
headers correct the picture (another app sharing the budget, a smaller ``Max``, another
interval), and a 429 saturates the window so every caller waits it out.

The clock and the sleep are injected: tests drive a fake clock and never sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from config.settings import HubSpotSettings
from sync.gateway.errors import Action, ActionKind, RateLimited, header

__all__ = ["RateLimiter", "Slot"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

IN_FLIGHT = math.inf  # a slot whose answer has not arrived never leaves the window
IN_FLIGHT_POLL_S = 0.05  # every slot is in flight: look again shortly (another thread answers)
EPSILON_S = 1e-6  # float noise: a slot due to leave within a microsecond has left


@dataclass(slots=True)
class Slot:
    """One request's place in the budgets; ``ends_at`` is set when its answer arrives."""

    search: bool
    ends_at: float = IN_FLIGHT


@dataclass(slots=True)
class _Window:
    """A rolling window of slots: at most ``limit`` slots whose end lies within ``length_s``."""

    limit: int
    length_s: float
    slots: list[Slot] = field(default_factory=list)

    def roll(self, now: float) -> None:
        horizon = now - self.length_s + EPSILON_S
        if any(s.ends_at <= horizon for s in self.slots):
            self.slots = [s for s in self.slots if s.ends_at > horizon]

    def wait_s(self, now: float) -> float:
        """Seconds until one more slot fits (0 when it fits now)."""
        excess = len(self.slots) - self.limit
        if excess < 0:
            return 0.0
        ends = sorted(s.ends_at for s in self.slots)
        frees_at = ends[excess] + self.length_s
        return IN_FLIGHT_POLL_S if frees_at == IN_FLIGHT else max(frees_at - now, 0.0)

    def fill_to(self, count: int, now: float) -> None:
        """Add finished placeholder slots until ``count`` are in the window (others' traffic)."""
        self.slots.extend(Slot(search=False, ends_at=now) for _ in range(count - len(self.slots)))


class RateLimiter:
    """Thread-safe pacing over the window, search and daily budgets of one portal.

    ``acquire`` blocks (through the injected sleep) until the request may go and returns its
    ``Slot``; ``release`` records the answer and reads its rate-limit headers. Search requests
    count against the search budget and, only with ``search_in_window``, also against the
    window: HubSpot's usage guide says the 10-second limit "excludes the CRM Search API"
    (research notes §2); counting them anyway never causes a 429 but slows a full read.
    """

    def __init__(
        self,
        *,
        per_window: int = 190,
        window_s: float = 10.0,
        search_per_s: int = 5,
        daily: int = 625_000,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        search_in_window: bool = False,
        day_s: float = 86_400.0,
    ) -> None:
        self._configured_limit = per_window
        self._window = _Window(per_window, window_s)
        self._search = _Window(search_per_s, 1.0)
        self._search_in_window = search_in_window
        self._daily_limit = daily
        self._daily_left = daily
        self._day_s = day_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._day_started = clock()
        self._hold_until = -math.inf
        self.waited_s = 0.0  # total time callers spent waiting for a slot (benchmarks read it)

    @classmethod
    def from_settings(
        cls, settings: HubSpotSettings, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> RateLimiter:
        return cls(
            per_window=settings.rate_limit_per_10s,
            search_per_s=settings.search_per_s,
            daily=settings.daily_limit,
            clock=clock,
            sleep=sleep,
            search_in_window=settings.search_in_window,
        )

    @property
    def window_limit(self) -> int:
        return self._window.limit

    @property
    def window_s(self) -> float:
        return self._window.length_s

    @property
    def daily_left(self) -> int:
        return self._daily_left

    def acquire(self, *, search: bool = False) -> Slot:
        """Wait until a request may be sent, then take its slot. Raises RateLimited (daily)."""
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_s(now, search)
                if wait <= 0:
                    return self._take(search)
                self.waited_s += wait
            self._sleep(wait)

    def release(self, slot: Slot, headers: Mapping[str, str] | None = None) -> None:
        """The answer arrived: the slot starts ageing out; rate-limit headers update budgets."""
        with self._lock:
            now = self._clock()
            slot.ends_at = now
            if headers:
                self._observe(headers, now)

    def hold(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a 429's Retry-After applies to every caller)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def saturate(self, window_s: float) -> float:
        """HubSpot said the window (10 s) or the search second is used up: mark it full.

        Returns the seconds until the next slot frees, which is what a retry should wait.
        """
        with self._lock:
            now = self._clock()
            window = self._search if window_s <= self._search.length_s else self._window
            window.roll(now)
            window.fill_to(window.limit, now)
            return window.wait_s(now)

    def _wait_s(self, now: float, search: bool) -> float:
        self._window.roll(now)
        self._search.roll(now)
        if now - self._day_started >= self._day_s:
            self._day_started, self._daily_left = now, self._daily_limit
        if self._daily_left <= 0:
            raise RateLimited(
                "daily API budget used up (local count or X-HubSpot-RateLimit-Daily-Remaining)",
                status=429,
                action=Action(ActionKind.FAIL, reason="daily API limit reached"),
            )
        waits = [self._hold_until - now]
        if search:
            waits.append(self._search.wait_s(now))
        if not search or self._search_in_window:
            waits.append(self._window.wait_s(now))
        return max(waits)

    def _take(self, search: bool) -> Slot:
        slot = Slot(search=search)
        if search:
            self._search.slots.append(slot)
        if not search or self._search_in_window:
            self._window.slots.append(slot)
        self._daily_left -= 1
        return slot

    def _observe(self, headers: Mapping[str, str], now: float) -> None:
        interval_ms = _int(header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds"))
        if interval_ms and interval_ms > 0:
            self._window.length_s = interval_ms / 1000.0
        server_max = _int(header(headers, "X-HubSpot-RateLimit-Max"))
        if server_max and server_max > 0:
            self._window.limit = min(self._configured_limit, server_max)
        remaining = _int(header(headers, "X-HubSpot-RateLimit-Remaining"))
        if server_max and remaining is not None:
            # The server counts requests we did not make (another app, another replica):
            # keep placeholders for them. It may count fewer than we do (answers in flight),
            # which needs no correction.
            self._window.roll(now)
            self._window.fill_to(min(server_max - remaining, server_max), now)
        daily_left = _int(header(headers, "X-HubSpot-RateLimit-Daily-Remaining"))
        if daily_left is not None:
            self._daily_left = daily_left
        daily_max = _int(header(headers, "X-HubSpot-RateLimit-Daily"))
        if daily_max:
            self._daily_limit = daily_max


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return None
