"""Member-portal jobs: claimed from the store, worked on in parallel, retried with backoff.

``PortalWorker.run_pass()`` claims due jobs (``SKIP LOCKED`` on PostgreSQL, so replicas share
the portals) and runs them on a thread pool, one portal per thread under that portal's lock
(``portal:<hub id>``), each paced by its own budget. A job's outcome:

* done;
* the portal is disconnected (refresh refused): the job fails for good, the portal shows it;
* HubSpot said the access token expired (401): the token is forgotten and the job retried;
* the program's sync lock or the portal's lock is held: retried shortly;
* anything else (5xx after retries, 429s, token endpoint down): retried after
  ``job_backoff_s * 2**(attempts - 1)`` (capped at an hour), failed after ``job_max_attempts``.

A failing portal never holds up another: each job is its own thread and its own transaction.
``watch_program`` queues an ``out`` job for every connected portal after each new program run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from config.settings import PortalSettings
from sync.clock import Clock
from sync.gateway import AuthError
from sync.portals.portal_sync import PortalReport, PortalSync
from sync.portals.repo import PortalJob, PortalRepo
from sync.portals.session import Disconnected
from sync.ports import is_busy

__all__ = ["JobOutcome", "PortalWorker"]

log = logging.getLogger("partner_sync.portals")
BUSY_RETRY_S = 5.0
MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True, slots=True)
class JobOutcome:
    job: PortalJob
    status: str  # done, retry, failed
    report: PortalReport | None = None
    error: str | None = None


class PortalWorker:
    """Runs member-portal jobs (see module)."""

    def __init__(self, syncer: PortalSync, settings: PortalSettings, clock: Clock,
                 worker_id: str, *, on_outcome: Callable[[JobOutcome], None] | None = None
                 ) -> None:
        self.syncer = syncer
        self.repo: PortalRepo = syncer.repo
        self.settings = settings
        self.clock = clock
        self.worker_id = worker_id
        self._on_outcome = on_outcome
        self._pool = ThreadPoolExecutor(max_workers=settings.workers,
                                        thread_name_prefix="portal")
        self._last_program_run: object = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass -----------------------------------------------------------------------------
    def run_pass(self, limit: int | None = None) -> list[JobOutcome]:
        """Claim and run due jobs (at most ``limit``, default twice the pool); their outcomes."""
        jobs = self.repo.claim(self.worker_id, limit or 2 * self.settings.workers,
                               self.settings.job_lease_s)
        return list(self._pool.map(self._run, jobs))

    def drain(self, max_passes: int = 1000) -> list[JobOutcome]:
        """Run passes until no job is due (tests, the CLI and the demo)."""
        done: list[JobOutcome] = []
        for _ in range(max_passes):
            outcomes = self.run_pass()
            if not outcomes:
                break
            done += outcomes
        return done

    def watch_program(self) -> int:
        """Queue ``out`` jobs for every connected portal when the program has a new run."""
        latest = self.syncer.store.latest_run_state(excluding=("portal",))
        if latest is None or latest.finished_at is None:
            return 0
        key = (latest.run_id, latest.status)
        if key == self._last_program_run:
            return 0
        self._last_program_run = key
        return self.repo.enqueue(self.repo.hub_ids(), "out")

    def _run(self, job: PortalJob) -> JobOutcome:
        lock = f"portal:{job.hub_id}"
        if not self.syncer.store.try_lock(lock, self.worker_id, self.settings.job_lease_s):
            return self._retry(job, "another worker is syncing this portal", BUSY_RETRY_S)
        try:
            outcome = self._attempt(job)
        finally:
            self.syncer.store.unlock(lock, self.worker_id)
        if self._on_outcome is not None:
            self._on_outcome(outcome)
        return outcome

    def _attempt(self, job: PortalJob) -> JobOutcome:
        try:
            report = self.syncer.run(job.hub_id, job.kind)
        except Disconnected as exc:
            self.syncer.sessions.forget(job.hub_id)
            self.repo.fail(job.job_id, self.worker_id, str(exc))
            return JobOutcome(job, "failed", error=str(exc))
        except AuthError as exc:
            self.syncer.sessions.forget(job.hub_id)
            self.repo.expire_access(job.hub_id)
            return self._retry(job, f"authentication: {exc}", 0.0)
        except Exception as exc:
            if is_busy(exc):
                return self._retry(job, "the program sync is busy", BUSY_RETRY_S)
            log.warning("member portal %s job %s failed: %s", job.hub_id, job.kind, exc)
            return self._retry(job, f"{type(exc).__name__}: {exc}", self._backoff_s(job))
        self.repo.finish(job.job_id, self.worker_id)
        return JobOutcome(job, "done", report=report)

    def _backoff_s(self, job: PortalJob) -> float:
        delay_s = self.settings.job_backoff_s * float(2 ** max(job.attempts - 1, 0))
        return min(delay_s, MAX_BACKOFF_S)

    def _retry(self, job: PortalJob, error: str, delay_s: float) -> JobOutcome:
        if job.attempts >= self.settings.job_max_attempts:
            self.repo.fail(job.job_id, self.worker_id, error)
            return JobOutcome(job, "failed", error=error)
        at = self.clock.now() + timedelta(seconds=delay_s)
        self.repo.retry(job.job_id, self.worker_id, error, at)
        return JobOutcome(job, "retry", error=error)

    # -- background loop (serve) --------------------------------------------------------------
    def start(self, poll_s: float = 1.0) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, args=(poll_s,),
                                            name="portal-worker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._pool.shutdown(wait=True)

    def _loop(self, poll_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.watch_program()
                worked = self.run_pass()
            except Exception:
                log.exception("member-portal pass failed")
                worked = []
            if not worked:
                self._stop.wait(poll_s)
