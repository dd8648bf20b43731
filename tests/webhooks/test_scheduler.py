"""Scheduler jobs: triggers from settings (UTC), no overlap settings, busy runs skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from config.settings import SchedulerSettings
from sync.clock import FixedClock
from sync.ports import RunSummary
from sync.scheduler import JobSpec, SyncScheduler, job_specs, purge_tick
from tests.webhooks.conftest import FakeEngine

NOW = datetime(2024, 3, 1, 12, 3, tzinfo=UTC)


def specs(engine: FakeEngine, seen: list[RunSummary], ticks: list[int]) -> dict[str, JobSpec]:
    settings = SchedulerSettings(incremental_interval_minutes=7, full_reconcile_hour_utc=3,
                                 reevaluate_minute_utc=9, inbox_interval_seconds=4)
    out = job_specs(settings, engine, inbox_tick=lambda: ticks.append(1), observe_run=seen.append)
    return {s.job_id: s for s in out}


def test_triggers_follow_the_settings_in_utc() -> None:
    by_id = specs(FakeEngine(FixedClock(NOW)), [], [])
    fire = {k: s.trigger.get_next_fire_time(None, NOW) for k, s in by_id.items()}
    assert fire["full"] == datetime(2024, 3, 2, 3, 0, tzinfo=UTC)
    assert fire["reevaluate"] == datetime(2024, 3, 2, 0, 9, tzinfo=UTC)
    following = by_id["incremental"].trigger.get_next_fire_time(
        fire["incremental"], fire["incremental"])
    assert (following - fire["incremental"]).total_seconds() == 7 * 60
    nxt = by_id["inbox"].trigger.get_next_fire_time(
        fire["inbox"], fire["inbox"])
    assert (nxt - fire["inbox"]).total_seconds() == 4


def test_jobs_call_the_engine_and_skip_when_busy() -> None:
    engine = FakeEngine(FixedClock(NOW))
    seen: list[RunSummary] = []
    by_id = specs(engine, seen, [])
    for name in ("incremental", "full", "reevaluate"):
        by_id[name].func()
    assert engine.calls == [("incremental", "schedule"), ("full", "schedule"),
                            ("reevaluate", "schedule")]
    assert [r.kind for r in seen] == ["incremental", "full", "reevaluate"]
    engine.busy = True
    by_id["incremental"].func()  # logged and skipped, not raised
    assert len(seen) == 3


def test_inbox_tick_wakes_and_purges_old_rows() -> None:
    clock = FixedClock(NOW)
    woke: list[int] = []
    purged: list[datetime] = []

    def purge(before: datetime) -> int:
        purged.append(before)
        return 0

    tick = purge_tick(purge, clock, lambda: woke.append(1))
    tick()
    assert woke == [1]
    assert purged == [datetime(2024, 2, 23, 12, 3, tzinfo=UTC)]


def test_scheduler_jobs_never_overlap_and_stop_cleanly() -> None:
    ticks: list[int] = []
    scheduler = SyncScheduler(list(specs(FakeEngine(FixedClock(NOW)), [], ticks).values()))
    scheduler.start()
    try:
        assert scheduler.running
        assert set(scheduler.jobs()) == {"incremental", "full", "reevaluate", "inbox"}
        jobs = scheduler._scheduler.get_jobs()
        assert all(j.max_instances == 1 and j.coalesce for j in jobs)
    finally:
        scheduler.stop()
    assert not scheduler.running
