"""The gateway's retry policy, built once from settings with tenacity.

What is retried is decided by ``errors.classify`` (read through ``HubSpotError.action``), never
here: 429, 423, 502/503/504 (and Cloudflare's 521-524), timeouts and dropped connections. How
long to wait: the error's ``retry_after_s`` when the boundary set one (Retry-After, or the rest
of the rate-limit window from the pacer), else exponential backoff. Attempts are capped
(``max_attempts``) and so is the total time spent waiting (``max_retry_wait_s``): a wait that
would exceed it is not started and the last error is raised. Only idempotent calls may be
retried; the caller says which (``call(fn, idempotent=...)``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception

from config.settings import HubSpotSettings
from sync.gateway.errors import HubSpotError, TransientError

__all__ = ["RetryPolicy"]

T = TypeVar("T")
log = logging.getLogger("partner_sync.gateway")
Sleep = Callable[[float], None]


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, HubSpotError) and exc.action.retryable


class RetryPolicy:
    """Retries an idempotent call on transient HubSpot errors; the sleep is injected."""

    def __init__(
        self,
        *,
        max_attempts: int = 6,
        max_total_wait_s: float = 120.0,
        sleep: Sleep = time.sleep,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.max_total_wait_s = max_total_wait_s
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        # One Retrying for the process: tenacity keeps per-call state in thread-locals.
        self._retrying = Retrying(
            sleep=sleep,
            retry=retry_if_exception(_retryable),
            wait=self._wait_s,
            stop=self._stop,
            before_sleep=self._log_retry,
            reraise=True,
        )

    @classmethod
    def from_settings(cls, settings: HubSpotSettings, *, sleep: Sleep = time.sleep) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            max_total_wait_s=settings.max_retry_wait_s,
            sleep=sleep,
        )

    def call(self, fn: Callable[[], T], *, idempotent: bool) -> T:
        """Run ``fn``; retry it on a retryable ``HubSpotError`` only when ``idempotent``."""
        if not idempotent:
            return fn()
        return self._retrying(fn)

    def backoff_s(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based) when the error names no wait."""
        return float(min(self.base_backoff_s * 2 ** (attempt - 1), self.max_backoff_s))

    def _wait_s(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after_s is not None:
            return exc.retry_after_s
        return self.backoff_s(state.attempt_number)

    def _log_retry(self, state: RetryCallState) -> None:
        # A wait is never silent: the operator sees what failed, where, and for how long.
        exc = state.outcome.exception() if state.outcome else None
        wait_s = state.upcoming_sleep
        log.warning("HubSpot call failed (%s); retry %d of %d in %.1f s", exc,
                    state.attempt_number, self.max_attempts - 1, wait_s,
                    extra={"retry": {"attempt": state.attempt_number, "wait_s": wait_s}})

    def _stop(self, state: RetryCallState) -> bool:
        # tenacity computes the wait before asking stop, so a wait that would overrun the
        # total budget is refused here instead of being slept.
        if state.attempt_number >= self.max_attempts:
            return True
        return state.idle_for + state.upcoming_sleep > self.max_total_wait_s
