"""The inbox worker and the scheduler in a process of their own, started and supervised by serve.

Syncs are CPU work in Python (the rules evaluate the whole mirror); on the receiver's threads
they would hold the GIL while webhook requests wait. So ``serve`` runs them in a child process
(``spawn``: nothing of the parent's threads or connections is inherited) that builds its own
runtime from the same settings, and keeps the receiver alone with the event loop.

Parent and child share three things: a wake pipe (a byte written after each inbox commit, so a
deal close reaches the worker within milliseconds; the write never blocks the inbox writer: a
full pipe already means "wake up"), a stop event (graceful stop: the pass or job under way
finishes), and a queue of small reports (pass results, finished runs, the scheduler's next fire
times, HubSpot call counters) that the parent turns into its metrics and ``/readyz`` answers.
The supervisor restarts a child that died (backoff from ``restart_delay_s`` doubling to
``max_restart_delay_s``); rows it had claimed come back when their lease runs out.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Protocol

from cli.worker_gateway import CombinedGatewayMetrics, copy_stats
from config.settings import Settings
from sync.gateway import GatewayMetrics
from sync.ports import FailedWrite, RunSummary
from webhooks.worker import PassResult, RedeliveryPolicy

__all__ = ["ChildParts", "RunNote", "SchedulerView", "WorkerFactory", "WorkerSupervisor"]

log = logging.getLogger(__name__)

_STATE_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class RunNote:
    """A finished run as the parent's metrics read it (picklable, no secrets, no payloads)."""

    run_id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime
    records_read: Mapping[str, int]
    written: Mapping[str, int]
    rate_limited: int = 0
    error: str | None = None
    write_failures: Sequence[FailedWrite] = field(default_factory=tuple)

    @classmethod
    def of(cls, report: RunSummary) -> RunNote:
        return cls(report.run_id, report.kind, report.status, report.started_at,
                   report.finished_at, dict(report.records_read), dict(report.written),
                   report.rate_limited, report.error)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind, "status": self.status}


Report = Callable[[object], None]


class _Loop(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def wake(self) -> None: ...


class _Scheduler(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def jobs(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class ChildParts:
    """What a ``WorkerFactory`` builds in the child; ``close`` releases the runtime."""

    loop: _Loop
    scheduler: _Scheduler | None
    close: Callable[[], None]
    gateway: GatewayMetrics | None = None  # its HubSpot call counters, reported to the parent


class WorkerFactory(Protocol):
    """Builds the child's parts (must be picklable: a module-level function)."""

    def __call__(self, settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                 report: Report) -> ChildParts: ...


def build_worker(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                 report: Report) -> ChildParts:
    """The real parts: a runtime of its own, the inbox worker loop and the scheduler."""
    from cli.runtime import build_runtime
    from cli.serve import output_properties, worker_id
    from sync.clock import SystemClock
    from sync.scheduler import SyncScheduler, job_specs, purge_tick
    from webhooks.loop import WorkerLoop
    from webhooks.worker import InboxWorker

    runtime = build_runtime(settings)
    clock = SystemClock()

    def observe_run(run: RunSummary) -> None:
        report(RunNote.of(run))

    worker = InboxWorker(
        runtime.store, runtime.engine, clock=clock, output_properties=output_properties(settings),
        app_id=settings.webhooks.app_id, worker_id=worker_id(), retry=retry,
        observe_run=observe_run,
    )
    loop = WorkerLoop(worker, poll_s=1.0, on_pass=report)
    jobs = None
    if scheduler:
        tick = purge_tick(runtime.store.inbox_purge, clock, loop.wake)
        jobs = SyncScheduler(job_specs(settings.scheduler, runtime.engine, inbox_tick=tick,
                                       observe_run=observe_run))
    return ChildParts(loop, jobs, runtime.close, runtime.gateway.metrics)


def _child_main(factory: WorkerFactory, settings: Settings, scheduler: bool,
                retry: RedeliveryPolicy | None, wake: Connection, stop: Any, reports: Any) -> None:
    """The child process: build, start, forward wakes until told to stop, stop gracefully.

    Ctrl-C and a SIGTERM sent to the whole process group are the parent's to handle: it stops
    the child through ``stop`` once the server has drained. A child whose parent is gone (killed
    without a chance to stop it) stops by itself.
    """
    from sync.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = os.getppid()
    configure_logging(settings)
    parts = factory(settings, scheduler, retry, reports.put)
    parts.loop.start()
    if parts.scheduler is not None:
        parts.scheduler.start()
    last_state = 0.0
    try:
        while not stop.is_set() and os.getppid() == parent:
            if wake.poll(0.25):
                os.read(wake.fileno(), 4096)
                parts.loop.wake()
            if time.monotonic() - last_state > _STATE_EVERY_S:
                _report_state(parts, reports)
                last_state = time.monotonic()
    finally:
        if parts.scheduler is not None:
            parts.scheduler.stop()
        parts.loop.stop()
        _report_state(parts, reports)
        parts.close()


def _report_state(parts: ChildParts, reports: Any) -> None:
    if parts.scheduler is not None:
        reports.put(("jobs", parts.scheduler.jobs()))
    if parts.gateway is not None:
        reports.put(("gateway", os.getpid(), copy_stats(parts.gateway)))


class WorkerSupervisor:
    """Starts the child, forwards wakes, turns its reports into metrics, restarts it if it dies.

    Fits ``ServeParts.worker_loop``; ``scheduler_view`` fits ``ServeParts.scheduler``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        scheduler: bool,
        retry: RedeliveryPolicy | None = None,
        on_pass: Callable[[PassResult], None] | None = None,
        on_run: Callable[[RunSummary], None] | None = None,
        gateway: CombinedGatewayMetrics | None = None,
        factory: WorkerFactory = build_worker,
        restart_delay_s: float = 1.0,
        max_restart_delay_s: float = 30.0,
        stop_timeout_s: float = 30.0,
    ) -> None:
        self._settings = settings
        self._scheduler = scheduler
        self._retry = retry
        self._on_pass = on_pass
        self._on_run = on_run
        self._gateway = gateway
        self._factory = factory
        self._restart_delay_s = restart_delay_s
        self._max_restart_delay_s = max_restart_delay_s
        self._stop_timeout_s = stop_timeout_s
        self._ctx = multiprocessing.get_context("spawn")
        self._wake_in, self._wake_out = self._ctx.Pipe(duplex=False)
        os.set_blocking(self._wake_out.fileno(), False)
        self._stop: Any = None  # a multiprocessing Event while started
        self._process: Any = None
        self._reports: Any = None
        self._monitor: threading.Thread | None = None
        self._stopping = threading.Event()
        self.restarts = 0
        self.jobs: dict[str, Any] = {}
        self.scheduler_view = SchedulerView(self) if scheduler else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    def start(self) -> None:
        if self._monitor is not None:
            return
        self._stopping.clear()
        self._stop = self._ctx.Event()
        self._spawn()
        self._monitor = threading.Thread(target=self._watch, name="worker-supervisor",
                                         daemon=True)
        self._monitor.start()

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError):  # full: wakes the child has not read yet
            os.write(self._wake_out.fileno(), b"w")

    def stop(self) -> None:
        """Ask the child to finish its pass or job and exit; kill it if it does not in time."""
        self._stopping.set()
        if self._stop is not None:
            self._stop.set()
        process = self._process
        if process is not None:
            process.join(self._stop_timeout_s)
            if process.is_alive():
                log.warning("the worker process did not stop in %.0f s: killed",
                            self._stop_timeout_s)
                process.kill()
                process.join(5)
        if self._monitor is not None:
            self._monitor.join(5)
            self._monitor = None
        self._drain(block_s=0)
        self._release()

    def _release(self) -> None:
        # Dropping the queue and process objects now lets multiprocessing unlink their
        # semaphores (else its resource tracker warns of leaks at exit).
        if self._reports is not None:
            self._reports.close()
            self._reports.join_thread()
            self._reports = None
        if self._process is not None and not self._process.is_alive():
            self._process.close()
            self._process = None
        self._stop = None

    def _spawn(self) -> None:
        self._reports = self._ctx.Queue()
        self._process = self._ctx.Process(
            target=_child_main, name="partner-sync-worker", daemon=True,
            args=(self._factory, self._settings, self._scheduler, self._retry, self._wake_in,
                  self._stop, self._reports),
        )
        self._process.start()

    def _watch(self) -> None:
        delay = self._restart_delay_s
        started = time.monotonic()
        while not self._stopping.is_set():
            self._drain(block_s=0.2)
            if self._process.is_alive() or self._stopping.is_set():
                if time.monotonic() - started > self._max_restart_delay_s:
                    delay = self._restart_delay_s  # it has run a while: start over
                continue
            log.error("the worker process exited with code %s: restarting in %.1f s",
                      self._process.exitcode, delay)
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            self._spawn()
            started = time.monotonic()
            delay = min(delay * 2, self._max_restart_delay_s)

    def _drain(self, block_s: float) -> None:
        reports = self._reports
        if reports is None:
            return
        try:
            item = reports.get(timeout=block_s) if block_s > 0 else reports.get_nowait()
            while True:
                self._receive(item)
                item = reports.get_nowait()
        except (queue.Empty, EOFError, OSError):
            return

    def _receive(self, item: object) -> None:
        try:
            if isinstance(item, PassResult) and self._on_pass is not None:
                self._on_pass(item)
            elif isinstance(item, RunNote) and self._on_run is not None:
                self._on_run(item)
            elif isinstance(item, tuple) and item and item[0] == "jobs":
                self.jobs = dict(item[1])
            elif isinstance(item, tuple) and item and item[0] == "gateway" and self._gateway:
                self._gateway.update(item[1], item[2])
        except Exception:  # a metrics hiccup must never stop the supervision
            log.exception("worker report not recorded")


class SchedulerView:
    """The child's scheduler as the app sees it: running while the child lives; started and
    stopped with the child by the supervisor."""

    def __init__(self, supervisor: WorkerSupervisor) -> None:
        self._supervisor = supervisor

    @property
    def running(self) -> bool:
        return self._supervisor.alive

    def jobs(self) -> dict[str, Any]:
        return dict(self._supervisor.jobs)

    def start(self) -> None:
        """Started with the worker process."""

    def stop(self) -> None:
        """Stopped with the worker process."""
