"""The inbox worker, the scheduler and the member-portal job worker in a process of their own,
started and supervised by serve.

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
``max_restart_delay_s``); rows it had claimed come back when their lease runs out. The child's
side (what it builds and runs) is ``cli.worker_child``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from cli.worker_child import ChildParts, RunNote, WorkerFactory, build_worker, child_main
from cli.worker_gateway import CombinedGatewayMetrics
from config.settings import Settings
from sync.ports import RunSummary
from webhooks.worker import PassResult, RedeliveryPolicy

__all__ = ["ChildParts", "RunNote", "SchedulerView", "WorkerFactory", "WorkerSupervisor",
           "build_worker"]

log = logging.getLogger(__name__)


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
            target=child_main, name="partner-sync-worker", daemon=True,
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
