"""serve's worker process: its reports reach the receiver's metrics; a dead one is restarted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from cli.worker_gateway import CombinedGatewayMetrics
from cli.worker_process import ChildParts, WorkerSupervisor
from config.settings import Settings
from sync.gateway import GatewayMetrics
from webhooks.worker import PassResult, RedeliveryPolicy

ENDPOINT = "POST /crm/v3/objects/{type}/batch/read"


class ReportingLoop:
    """Reports one pass on start and on every wake, like ``WorkerLoop`` after a pass; makes one
    HubSpot call on start."""

    def __init__(self, report: Callable[[object], None], gateway: GatewayMetrics) -> None:
        self._report = report
        self._gateway = gateway

    def start(self) -> None:
        self._gateway.record_attempt(ENDPOINT, 200, 0.01)
        self._gateway.record_call(ENDPOINT, attempts=1, ok=True)
        self._report(PassResult(claimed=1, done=1))

    def stop(self) -> None:
        pass

    def wake(self) -> None:
        self._report(PassResult(claimed=2, done=2))


def reporting_worker(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                     report: Any) -> ChildParts:
    gateway = GatewayMetrics()
    return ChildParts(ReportingLoop(report, gateway), None, lambda: None, gateway)


def _until(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_passes_are_reported_wakes_arrive_and_a_killed_worker_comes_back() -> None:
    """Also: SIGTERM and SIGINT do not stop the worker process (the parent stops it after the
    server drained)."""
    passes: list[PassResult] = []
    own = GatewayMetrics()
    own.record_call(ENDPOINT, attempts=1, ok=True)  # an admin resync in the serve process
    gateway = CombinedGatewayMetrics(own)
    supervisor = WorkerSupervisor(Settings(), scheduler=False, on_pass=passes.append,
                                  gateway=gateway, factory=reporting_worker,
                                  restart_delay_s=0.05)
    supervisor.start()
    try:
        _until(lambda: len(passes) == 1)
        supervisor.wake()
        _until(lambda: len(passes) == 2)
        assert [p.claimed for p in passes] == [1, 2]
        _until(lambda: gateway.endpoint(ENDPOINT).calls == 2)  # its own + the worker's

        first = supervisor.pid
        assert first is not None
        os.kill(first, signal.SIGTERM)  # a group-wide SIGTERM or Ctrl-C is the parent's to handle
        os.kill(first, signal.SIGINT)
        time.sleep(0.3)
        assert supervisor.alive
        assert supervisor.restarts == 0

        os.kill(first, signal.SIGKILL)
        _until(lambda: supervisor.restarts == 1 and supervisor.alive)
        assert supervisor.pid != first
        _until(lambda: len(passes) == 3)  # the new child started and reported
        _until(lambda: gateway.endpoint(ENDPOINT).calls == 3)  # the dead child's call is kept
    finally:
        supervisor.stop()
    assert not supervisor.alive
