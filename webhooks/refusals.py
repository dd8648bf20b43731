"""One log line for each webhook delivery the receiver refuses, with its reason and what to
check, rate-limited per reason so a flood (a misconfigured secret, a scanner) cannot fill the
disk: at most ``burst`` lines per reason per ``window_s``; the next line after a quiet spell
says how many were not logged. The caller is never told the reason (it gets a bare 4xx)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sync.clock import Clock

__all__ = ["REFUSAL_LOGGER", "RefusalLog"]

REFUSAL_LOGGER = "partner_sync.webhooks"


@dataclass(slots=True)
class _Window:
    started: datetime
    logged: int = 0
    suppressed: int = 0


@dataclass(slots=True)
class RefusalLog:
    """``refused(status, reason, fix, **context)`` logs a WARNING unless this reason already
    used its ``burst`` in the current window."""

    clock: Clock
    window_s: float = 60.0
    burst: int = 5
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger(REFUSAL_LOGGER))
    _windows: dict[str, _Window] = field(default_factory=dict)

    def refused(self, status: int, reason: str, fix: str, **context: str) -> bool:
        """Log the refusal (True) or count it as suppressed (False)."""
        now = self.clock.now()
        window = self._windows.get(reason)
        carried = 0  # refusals not logged in the window before, told in this window's first line
        if window is None or (now - window.started).total_seconds() >= self.window_s:
            carried = window.suppressed if window is not None else 0
            window = self._windows[reason] = _Window(now)
        if window.logged >= self.burst:
            window.suppressed += 1
            return False
        window.logged += 1
        where = " ".join(f"{k}={v}" for k, v in context.items())
        more = f" ({carried} more refused for this reason were not logged)" if carried else ""
        self.logger.warning(
            "webhook refused with %d: %s%s; check: %s%s", status, reason,
            f" ({where})" if where else "", fix, more,
            extra={"webhook_refusal": {"status": status, "reason": reason, **context,
                                       "not_logged_before": carried}},
        )
        return True
