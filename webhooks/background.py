"""What the app needs of the parts that run beside it: the inbox worker and the scheduler.

They run on threads of the serve process (``WorkerLoop``, ``SyncScheduler``) or in a supervised
process of their own (``cli.worker_process``); the app only starts, stops, wakes and asks them
whether they are alive, so either shape fits.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["SchedulerHandle", "WorkerHandle"]


class WorkerHandle(Protocol):
    @property
    def alive(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None:
        """Finish the pass under way, then stop."""

    def wake(self) -> None:
        """Ask for a pass now (cheap; safe from any thread)."""


class SchedulerHandle(Protocol):
    @property
    def running(self) -> bool: ...

    def jobs(self) -> dict[str, Any]:
        """Job id -> next fire time (aware datetime, or None when paused)."""

    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop firing; a job under way finishes first."""
