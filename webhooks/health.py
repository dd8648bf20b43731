"""``/healthz`` (the process answers) and ``/readyz`` (it can do its job).

Ready means: the store answers, the scheduler is running (when this process has one), the inbox
worker thread is alive (when it has one), and the newest finished sync is younger than
``stale_after_s`` (a process that has not synced yet is not stale: it just started).
The answer lists every check, so an operator sees which one failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sync.clock import Clock
from sync.store import Store

__all__ = ["Health"]

_FINISHED = ("ok", "partial")


@dataclass(slots=True)
class Health:
    store: Store
    clock: Clock
    stale_after_s: float
    scheduler_running: Callable[[], bool] | None = None
    worker_alive: Callable[[], bool] | None = None

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(self, _request: Request) -> Response:
        checks = await run_in_threadpool(self.checks)
        ready = all(c["ok"] for c in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    def checks(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {"store": {"ok": self.store.ping()}}
        if self.scheduler_running is not None:
            out["scheduler"] = {"ok": self.scheduler_running()}
        if self.worker_alive is not None:
            out["worker"] = {"ok": self.worker_alive()}
        out["last_sync"] = self._last_sync() if out["store"]["ok"] else {"ok": False}
        return out

    def _last_sync(self) -> dict[str, Any]:
        try:
            runs = self.store.list_runs(50)
        except Exception:  # raced with the store going away: the store check will say so
            return {"ok": False}
        finished = [r for r in runs if r.status in _FINISHED and r.finished_at is not None]
        if not finished:
            return {"ok": True, "age_s": None}
        newest = max(r.finished_at for r in finished if r.finished_at is not None)
        age_s = max((self.clock.now() - newest).total_seconds(), 0.0)
        return {"ok": age_s <= self.stale_after_s, "age_s": round(age_s, 1),
                "stale_after_s": self.stale_after_s}
