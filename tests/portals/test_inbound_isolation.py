"""In: requests made in a member's portal become that member's requests, decided by the rules,
and the outcome comes back. A member can never request for another member."""

from __future__ import annotations

from pathlib import Path

from tests.engine.seed import C
from tests.portals.rig import ALPHA_HUB, BETA_HUB, Rig, portal_rig


def _inbound(rig: Rig, hub_id: int) -> dict[str, object]:
    rig.parts.repo.enqueue([hub_id], "inbound")
    [outcome] = rig.parts.worker.drain()
    assert outcome.status == "done", outcome.error
    assert outcome.report is not None
    return outcome.report.to_dict()


def test_a_request_in_the_member_portal_comes_back_decided(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        rig.set_company(ALPHA_HUB, "free-prospect.com",
                        **{C.registration_requested_at: "2026-12-01"})
        rig.set_company(ALPHA_HUB, "brand-new.com",
                        **{C.registration_requested_at: "2026-12-02"})
        report = _inbound(rig, ALPHA_HUB)
        assert report["carried"] == 2
        assert report["problems"] == []
        [program] = rig.program_companies("free-prospect.com")
        assert program[C.registration_requested_by] == "ALPHA"
        assert program[C.registration_requested_at] == "2026-12-01"
        assert program[C.registration_status] == "registered"
        [created] = rig.program_companies("brand-new.com")
        assert created[C.registration_status] == "registered"
        mine = rig.companies(ALPHA_HUB)
        assert mine["free-prospect.com"][C.registration_status] == "registered"
        assert mine["free-prospect.com"][C.registration_expires_at] == "2027-05-30"
        assert mine["brand-new.com"][C.registration_status] == "registered"
        assert _inbound(rig, ALPHA_HUB)["carried"] == 0  # nothing new: nothing carried
        rig.set_company(ALPHA_HUB, "free-prospect.com",
                        **{C.deregistration_requested_at: "2026-12-05"})
        assert _inbound(rig, ALPHA_HUB)["carried"] == 1
        [program] = rig.program_companies("free-prospect.com")
        assert program[C.deregistration_requested_at] == "2026-12-05"
        assert program[C.registration_status] == "deregistered"
        assert rig.companies(ALPHA_HUB)["free-prospect.com"][C.registration_status] == \
            "deregistered"


def test_a_member_cannot_request_for_another_member_nor_see_its_registration(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.connect("BETA", BETA_HUB)
        rig.parts.worker.drain()
        forged = rig.set_company(ALPHA_HUB, "free-prospect.com", **{
            C.registration_requested_at: "2026-12-01", C.registration_requested_by: "BETA"})
        rig.set_company(ALPHA_HUB, "beta-owned.com",
                        **{C.registration_requested_at: "2026-12-01"})
        report = _inbound(rig, ALPHA_HUB)
        assert report["problems"] == [{"record": str(forged), "code": "request_for_other_member",
                                       "detail": "names partner code 'BETA'; a member may only "
                                                 "request for itself"}]
        [untouched] = rig.program_companies("free-prospect.com")
        assert untouched[C.registration_requested_by] is None
        owned = {c[C.registration_requested_by]: c for c in
                 rig.program_companies("beta-owned.com")}
        assert owned["BETA"][C.registration_status] == "registered"  # BETA's request kept
        assert owned["ALPHA"][C.registration_status] == "unavailable"
        alpha_view = rig.companies(ALPHA_HUB)["beta-owned.com"]
        assert alpha_view[C.registration_status] == "unavailable"
        assert alpha_view[C.registration_reason] == "registered_to_other_partner"
        assert alpha_view[C.registration_expires_at] in (None, "")  # BETA's expiry stays BETA's
        outputs = (C.registration_status, C.registration_reason, C.registration_expires_at,
                   C.commission_plan, C.commission_earned, C.commission_paid)
        alpha_outputs = {c.get(n) for c in rig.companies(ALPHA_HUB).values() for n in outputs}
        assert not any("BETA" in (v or "") for v in alpha_outputs)
        beta_sees = rig.companies(BETA_HUB)
        assert "shop-a.com" not in beta_sees  # ALPHA's customer
        assert beta_sees["beta-owned.com"][C.registration_status] == "registered"
        runs = [r for r in rig.runtime.store.list_runs(limit=50) if r.kind == "portal"]
        assert any(r.problem_count == 1 and r.status == "partial" for r in runs)


def test_a_member_company_without_a_domain_is_skipped_and_reported(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        nameless = rig.set_company(ALPHA_HUB, None, **{C.registration_requested_at: "2026-12-01"})
        rig.set_company(ALPHA_HUB, "brand-new.com", **{C.registration_requested_at: "2026-12-01"})
        report = _inbound(rig, ALPHA_HUB)
        assert [(p["record"], p["code"]) for p in report["problems"]] == [  # type: ignore[attr-defined]
            (str(nameless), "missing_domain")]
        assert report["carried"] == 1
