"""Connect a member portal through the real OAuth flow, then out: its own data, nothing else."""

from __future__ import annotations

from pathlib import Path

from sync.portals import list_portals
from sync.portals.contract import MemberContract
from sync.portals.portal_sync import init_member_portal
from tests.engine.seed import C
from tests.portals.rig import ALPHA_HUB, BETA_HUB, portal_rig


def test_connect_stores_sealed_tokens_and_first_sync_writes_the_members_view(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.set_company(ALPHA_HUB, "www.shop-a.com")  # the member's own spelling of the domain
        answer = rig.connect("ALPHA", ALPHA_HUB)
        assert answer.status_code == 200, answer.text
        [portal] = list_portals(rig.runtime.store)
        assert (portal.hub_id, portal.member_code, portal.status) == (ALPHA_HUB, "ALPHA",
                                                                      "connected")
        row = rig.parts.repo.get(ALPHA_HUB)
        assert row is not None
        assert row.refresh_token.startswith("gAAAA")  # Fernet, never the token itself
        outcomes = rig.parts.worker.drain()
        assert [o.status for o in outcomes] == ["done"]
        companies = rig.companies(ALPHA_HUB)
        assert "shop-a.com" not in companies  # found under its www. spelling, not created
        shop = companies["www.shop-a.com"]
        assert shop[C.registration_status] == "converted"
        assert shop[C.commission_plan] == "provider_12"
        assert shop[C.commission_earned] not in (None, "", "0", "0.00")
        assert "beta-owned.com" not in companies
        assert "free-prospect.com" not in companies
        assert not any(v == "BETA" for c in companies.values() for v in c.values())
        assert rig.companies(BETA_HUB)["client0-of-7000002.example.com"].get(
            C.registration_status) is None
        [summary] = list_portals(rig.runtime.store)
        assert summary.last_sync_at is not None
        assert summary.calls_used > 0


def test_a_resync_without_changes_writes_nothing(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        before = rig.member_state(ALPHA_HUB).version
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        [again] = rig.parts.worker.drain()
        assert again.report is not None
        assert (again.report.updated, again.report.created, again.report.carried) == (0, 0, 0)
        assert rig.member_state(ALPHA_HUB).version == before


def test_an_out_job_after_a_program_run_that_changed_nothing_makes_no_call(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        rig.runtime.engine.reevaluate(trigger="test")  # a program run: out jobs are queued
        assert rig.parts.worker.watch_program() == 1
        [out] = rig.parts.worker.drain()
        assert out.report is not None
        assert out.report.skipped
        assert out.report.calls == 0
        rig.set_company(ALPHA_HUB, "shop-a.com", **{C.registration_status: "expired"})
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")  # a member's edit: put right
        [fixed] = rig.parts.worker.drain()
        assert fixed.report is not None
        assert fixed.report.updated == 1
        assert rig.companies(ALPHA_HUB)["shop-a.com"][C.registration_status] == "converted"


def test_a_program_run_followed_by_many_portal_runs_still_queues_out_jobs(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        rig.parts.worker.watch_program()  # the setup's full sync: an out job, done below
        rig.parts.worker.drain()
        rig.runtime.engine.reevaluate(trigger="test")  # a program run ...
        store = rig.runtime.store
        for n in range(25):  # ... then more portal jobs than a page of the run log
            store.finish_run(store.start_run("portal", None, f"portal:{n}:inbound"), "ok", {})
        assert rig.parts.worker.watch_program() == 1
        assert rig.parts.worker.watch_program() == 0  # once per program run


def test_member_portal_properties_come_in_one_batch_and_again_change_nothing(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        props = rig.member_state(ALPHA_HUB).types["companies"].props
        member = MemberContract(rig.settings.contract())
        assert {s.name for s in member.property_specs()} <= set(props)
        assert props[C.commission_plan].group_name == "partner_program"
        gateway = rig.parts.sessions.gateway(ALPHA_HUB)
        assert init_member_portal(gateway, member) == []  # all exist: no problem, nothing new
        assert gateway.metrics.snapshot()["totals"]["calls"] == 2


def test_consecutive_jobs_share_the_portal_gateway_and_count_only_their_own_calls(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        [first] = rig.parts.worker.drain()
        assert first.report is not None
        calls = [first.report.calls]
        for _ in range(2):
            rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
            [again] = rig.parts.worker.drain()
            assert again.report is not None
            calls.append(again.report.calls)
        assert calls[1] == calls[2] == 3  # in: the requests; out: by domain, stale outputs
        assert rig.parts.sessions.kept_gateways() == 1
        [summary] = list_portals(rig.runtime.store)
        assert summary.calls_used == sum(calls)


def test_a_kept_portal_gateway_holds_no_response_after_a_job(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        [outcome] = rig.parts.worker.drain()
        assert outcome.status == "done"
        kept = rig.parts.sessions.gateway(ALPHA_HUB)  # a fork: the kept SDK clients
        apis = (kept.objects_search, kept.objects_batch, kept.properties_groups,
                kept.properties_batch)
        assert [api.api_client.last_response for api in apis] == [None] * len(apis)
