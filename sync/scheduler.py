"""The periodic jobs (APScheduler 3.x ``BackgroundScheduler``), all times UTC.

* ``incremental``: incremental sync every ``incremental_interval_minutes``;
* ``full``: the nightly full reconcile at ``full_reconcile_hour_utc``:00;
* ``reevaluate``: the daily re-evaluation at 00:``reevaluate_minute_utc`` (expiries and payout
  dates move with the calendar, not with HubSpot data);
* ``inbox``: every ``inbox_interval_seconds``, wake the inbox worker (retries come due) and
  purge processed rows older than a week.

No job overlaps itself (``max_instances=1``; missed runs coalesce into one), and syncs never
overlap each other: the engine's store lock turns a second one into ``SyncBusy``, which a job
logs and skips (the next tick catches up).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import SchedulerSettings
from sync.clock import Clock
from sync.ports import RunSummary, SyncRunner, is_busy

__all__ = ["JobSpec", "SyncScheduler", "job_specs"]

log = logging.getLogger(__name__)

PURGE_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class JobSpec:
    job_id: str
    trigger: Any  # an APScheduler trigger
    func: Callable[[], None]


def job_specs(
    settings: SchedulerSettings,
    engine: SyncRunner,
    *,
    inbox_tick: Callable[[], None],
    observe_run: Callable[[RunSummary], None] | None = None,
) -> list[JobSpec]:
    """The four jobs with their triggers, built from the settings (no scheduler needed)."""

    def sync_job(name: str, run: Callable[[], RunSummary]) -> Callable[[], None]:
        def job() -> None:
            try:
                report = run()
            except Exception as exc:
                if is_busy(exc):
                    log.info("scheduled %s skipped: another sync is running", name)
                    return
                log.exception("scheduled %s failed", name)
                return
            if observe_run is not None:
                observe_run(report)

        job.__name__ = f"{name}_job"
        return job

    return [
        JobSpec(
            "incremental",
            IntervalTrigger(minutes=settings.incremental_interval_minutes, timezone="UTC"),
            sync_job("incremental", lambda: engine.incremental_sync(trigger="schedule")),
        ),
        JobSpec(
            "full",
            CronTrigger(hour=settings.full_reconcile_hour_utc, minute=0, timezone="UTC"),
            sync_job("full", lambda: engine.full_sync(trigger="schedule")),
        ),
        JobSpec(
            "reevaluate",
            CronTrigger(hour=0, minute=settings.reevaluate_minute_utc, timezone="UTC"),
            sync_job("reevaluate", lambda: engine.reevaluate(trigger="schedule")),
        ),
        JobSpec(
            "inbox",
            IntervalTrigger(seconds=settings.inbox_interval_seconds, timezone="UTC"),
            inbox_tick,
        ),
    ]


def purge_tick(
    purge: Callable[[Any], int], clock: Clock, wake: Callable[[], None]
) -> Callable[[], None]:
    """The ``inbox`` job: wake the worker, drop processed rows older than ``PURGE_AFTER``."""

    def tick() -> None:
        wake()
        try:
            purge(clock.now() - PURGE_AFTER)
        except Exception:
            log.exception("inbox purge failed")

    return tick


class SyncScheduler:
    """A ``BackgroundScheduler`` running ``job_specs``. ``running`` feeds ``/readyz``."""

    def __init__(self, specs: list[JobSpec]) -> None:
        self._scheduler = BackgroundScheduler(timezone="UTC")
        for spec in specs:
            self._scheduler.add_job(
                spec.func, spec.trigger, id=spec.job_id, name=spec.job_id,
                max_instances=1, coalesce=True, misfire_grace_time=300,
                replace_existing=True,
            )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def jobs(self) -> dict[str, Any]:
        """Job id -> next fire time (aware datetime, or None when paused)."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def start(self) -> None:
        if not self._scheduler.running:
            self._scheduler.start()

    def stop(self, wait: bool = True) -> None:
        """Stop firing; with ``wait``, let a job under way finish first."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
