"""serve with its worker process: the member-portal job worker runs there, beside the inbox
worker; the receiver keeps the OAuth routes and the routing by portalId, and no portal thread."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from cli.serve import ServerThread, build_parts
from cli.worker_child import ChildParts, Report, build_worker_parts
from cli.worker_process import WorkerSupervisor
from config.settings import Settings
from sync.clock import FixedClock
from sync.portals import list_portals
from tests.engine.seed import C
from tests.portals.rig import ALPHA_HUB, AS_OF, Rig, portal_rig
from webhooks.worker import RedeliveryPolicy


def program_day_worker(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                       report: Report) -> ChildParts:
    """The real worker process, its program evaluated on the rig's day."""
    return build_worker_parts(settings, scheduler, retry, report,
                              program_clock=FixedClock(AS_OF))


def _portal_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("portal")]


@pytest.mark.slow
def test_portal_jobs_run_in_the_worker_process_and_never_in_the_receiver(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.set_company(ALPHA_HUB, "www.shop-a.com")
        parts = build_parts(rig.runtime, worker_process=True, worker_factory=program_day_worker)
        with ServerThread(parts) as server:
            answer = rig.connect("ALPHA", ALPHA_HUB, url=server.url)  # queues the first sync
            assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 45
            while rig.companies(ALPHA_HUB)["www.shop-a.com"].get(C.registration_status) is None:
                assert time.monotonic() < deadline, "the first sync did not run"
                time.sleep(0.1)
            assert _portal_threads() == []
        shop = rig.companies(ALPHA_HUB)["www.shop-a.com"]
        assert shop[C.registration_status] == "converted"
        assert shop[C.commission_plan] == "provider_12"
        [summary] = list_portals(rig.runtime.store)
        assert summary.last_sync_at is not None
        assert set(rig.parts.repo.job_counts()) == {"done"}  # the first sync, the out job


def test_without_a_worker_process_serve_runs_portal_jobs_on_its_own_threads(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.set_company(ALPHA_HUB, "www.shop-a.com")
        with ServerThread(build_parts(rig.runtime, worker_process=False)) as server:
            answer = rig.connect("ALPHA", ALPHA_HUB, url=server.url)
            assert answer.status_code == 200, answer.text
            deadline = time.monotonic() + 30
            while rig.companies(ALPHA_HUB)["www.shop-a.com"].get(C.registration_status) is None:
                assert time.monotonic() < deadline, "the first sync did not run"
                time.sleep(0.05)
            assert "portal-worker" in _portal_threads()
        assert "portal-worker" not in _portal_threads()  # stopped with the app
        assert rig.companies(ALPHA_HUB)["www.shop-a.com"][C.commission_plan] == "provider_12"


def _until_done(rig: Rig, jobs: int, timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    while rig.parts.repo.job_counts().get("done", 0) < jobs:
        assert time.monotonic() < deadline, f"jobs: {rig.parts.repo.job_counts()}"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_killed_worker_process_comes_back_with_its_portal_worker(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        supervisor = WorkerSupervisor(rig.settings, scheduler=False, factory=program_day_worker,
                                      restart_delay_s=0.05)
        supervisor.start()
        try:
            assert rig.connect("ALPHA", ALPHA_HUB).status_code == 200
            _until_done(rig, 1)
            first = supervisor.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while not (supervisor.restarts == 1 and supervisor.alive):
                assert time.monotonic() < deadline, "the worker process did not come back"
                time.sleep(0.05)
            assert supervisor.pid != first
            done = rig.parts.repo.job_counts().get("done", 0)
            rig.set_company(ALPHA_HUB, "newly-listed.com")
            rig.parts.repo.enqueue([ALPHA_HUB], "inbound")  # as the receiver's router does
            _until_done(rig, done + 1)
        finally:
            supervisor.stop()
        assert not supervisor.alive
