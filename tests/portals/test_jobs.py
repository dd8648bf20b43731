"""Member-portal jobs: deduplicated, claimed once across replicas (SKIP LOCKED on PostgreSQL),
fenced, and a failing portal retried with backoff without stalling the others."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from sandbox.config import FaultRule
from sync.portals.repo import PortalJob, PortalRepo
from sync.store import Store
from sync.store.schema import portal_jobs
from tests.portals.rig import ALPHA_HUB, BETA_HUB, portal_rig
from tests.store.conftest import FakeClock


def test_enqueue_keeps_one_waiting_job_per_portal_and_kind(store: Store) -> None:
    repo = PortalRepo(store)
    assert repo.enqueue([1, 2, 2], "inbound") == 2
    assert repo.enqueue([1, 3], "inbound") == 1
    assert repo.enqueue([1], "out") == 1
    assert repo.job_counts() == {"pending": 4}


def test_replicas_never_claim_the_same_job(store: Store, other_store: Store) -> None:
    PortalRepo(store).enqueue(range(1, 201), "out")  # type: ignore[arg-type]
    claimed: dict[str, list[PortalJob]] = {}

    def work(name: str, target: Store) -> None:
        repo, mine = PortalRepo(target), []
        while batch := repo.claim(name, 7, 60):
            mine += batch
        claimed[name] = mine

    threads = [threading.Thread(target=work, args=("a", store)),
               threading.Thread(target=work, args=("b", other_store))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [j.job_id for jobs in claimed.values() for j in jobs]
    assert len(ids) == len(set(ids)) == 200


def test_a_lost_claim_cannot_finish_the_job(store: Store, clock: FakeClock) -> None:
    repo = PortalRepo(store)
    repo.enqueue([1], "out")
    [job] = repo.claim("first", 1, lease_s=10)
    clock.advance(11)  # the lease ran out: another worker takes over
    [again] = repo.claim("second", 1, lease_s=10)
    assert again.job_id == job.job_id
    assert repo.finish(job.job_id, "first") is False
    assert repo.finish(job.job_id, "second") is True


def test_a_failing_portal_is_retried_with_backoff_and_never_stalls_another(
        tmp_path: Path) -> None:
    faults = {ALPHA_HUB: [FaultRule("500", path_regex="/crm/v3/objects/companies/search")]}
    with portal_rig(tmp_path, faults=faults, job_backoff_s=30.0) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.connect("BETA", BETA_HUB)
        started = datetime.now(UTC)
        outcomes = {o.job.hub_id: o for o in rig.parts.worker.drain()}
        assert outcomes[BETA_HUB].status == "done"
        assert outcomes[ALPHA_HUB].status == "retry"
        assert "500" in (outcomes[ALPHA_HUB].error or "")
        [alpha] = [p for p in rig.parts.repo.all() if p.hub_id == ALPHA_HUB]
        assert alpha.status == "connected"  # a failure is not a disconnection
        assert rig.parts.repo.claim("x", 10, 60) == []  # not due for another ~30 s
        engine = create_engine(rig.settings.store.url.get_secret_value())
        with engine.connect() as conn:
            due = conn.execute(select(portal_jobs.c.next_attempt_at).where(
                portal_jobs.c.hub_id == ALPHA_HUB, portal_jobs.c.status == "pending")).scalar_one()
        engine.dispose()
        assert due >= started + timedelta(seconds=29)


def test_connect_in_and_out_on_both_store_dialects(tmp_path: Path, store_url: str) -> None:
    with portal_rig(tmp_path, store_url=store_url) as rig:
        assert rig.connect("ALPHA", ALPHA_HUB).status_code == 200
        assert rig.connect("ALPHA", ALPHA_HUB).status_code == 200  # installed again: one row
        rig.parts.worker.drain()
        rig.set_company(ALPHA_HUB, "brand-new.com", partner_registration_requested_at="2026-12-01")
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        [outcome] = rig.parts.worker.drain()
        assert outcome.status == "done"
        assert rig.companies(ALPHA_HUB)["brand-new.com"]["partner_registration_status"] == \
            "registered"
        assert [p.member_code for p in rig.parts.repo.all()] == ["ALPHA"]
