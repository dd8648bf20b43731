"""The worker process's side: what it builds, how it runs, what it reports to serve.

``child_main`` is the process's entry point (``cli.worker_process.WorkerSupervisor`` starts it
with ``spawn``); ``build_worker`` builds the real parts from the settings (the inbox worker, the
scheduler and, when member portals are configured, the member-portal job worker), tests pass
factories of their own. Reports are small picklable values: ``PassResult``, ``RunNote``, and tuples
``("jobs", next fire times)`` and ``("gateway", pid, counters)`` every ``STATE_EVERY_S``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Protocol

from cli.worker_gateway import copy_stats
from config.settings import Settings
from sync.clock import Clock
from sync.gateway import GatewayMetrics
from sync.ports import FailedWrite, RunSummary
from webhooks.worker import RedeliveryPolicy

__all__ = ["ChildParts", "Report", "RunNote", "WorkerFactory", "build_worker",
           "build_worker_parts", "child_main"]

STATE_EVERY_S = 2.0


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


class _Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


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
    # More workers with the loop's life (the member-portal job worker): started after the loop,
    # stopped before it.
    services: Sequence[_Service] = ()


class WorkerFactory(Protocol):
    """Builds the child's parts (must be picklable: a module-level function)."""

    def __call__(self, settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                 report: Report) -> ChildParts: ...


def build_worker(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                 report: Report) -> ChildParts:
    """The real parts: a runtime of its own, the inbox worker loop, the scheduler and the
    member-portal job worker (when the public app is configured)."""
    return build_worker_parts(settings, scheduler, retry, report)


def build_worker_parts(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                       report: Report, *, program_clock: Clock | None = None) -> ChildParts:
    """``build_worker`` whose program runtime reads ``program_clock`` (default: the system
    clock); tokens, leases and jobs keep the system clock."""
    from cli.portals_wiring import build_portal_parts, portals_enabled
    from cli.runtime import build_runtime
    from cli.serve import output_properties, worker_id
    from sync.clock import SystemClock
    from sync.scheduler import SyncScheduler, job_specs, purge_tick
    from webhooks.loop import WorkerLoop
    from webhooks.worker import InboxWorker

    runtime = build_runtime(settings, clock=program_clock)
    clock = SystemClock()

    def observe_run(run: RunSummary) -> None:
        report(RunNote.of(run))

    worker = InboxWorker(
        runtime.store, runtime.engine, clock=clock, output_properties=output_properties(settings),
        app_id=settings.webhooks.app_id, worker_id=worker_id(), retry=retry,
        observe_run=observe_run, settings=settings.inbox,
    )
    loop = WorkerLoop(worker, poll_s=settings.inbox.poll_s, on_pass=report)
    jobs = None
    if scheduler:
        tick = purge_tick(runtime.store.inbox_purge, clock, loop.wake)
        jobs = SyncScheduler(job_specs(settings.scheduler, runtime.engine, inbox_tick=tick,
                                       observe_run=observe_run))
    if not portals_enabled(settings):
        return ChildParts(loop, jobs, runtime.close, runtime.gateway.metrics)
    portals = build_portal_parts(runtime, clock=clock)

    def close() -> None:
        portals.close()
        runtime.close()

    return ChildParts(loop, jobs, close, runtime.gateway.metrics, services=(portals.worker,))


def child_main(factory: WorkerFactory, settings: Settings, scheduler: bool,
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
    for service in parts.services:
        service.start()
    if parts.scheduler is not None:
        parts.scheduler.start()
    last_state = 0.0
    try:
        while not stop.is_set() and os.getppid() == parent:
            if wake.poll(0.25):
                os.read(wake.fileno(), 4096)
                parts.loop.wake()
            if time.monotonic() - last_state > STATE_EVERY_S:
                _report_state(parts, reports)
                last_state = time.monotonic()
    finally:
        if parts.scheduler is not None:
            parts.scheduler.stop()
        for service in parts.services:
            service.stop()
        parts.loop.stop()
        _report_state(parts, reports)
        parts.close()


def _report_state(parts: ChildParts, reports: Any) -> None:
    if parts.scheduler is not None:
        reports.put(("jobs", parts.scheduler.jobs()))
    if parts.gateway is not None:
        reports.put(("gateway", os.getpid(), copy_stats(parts.gateway)))
