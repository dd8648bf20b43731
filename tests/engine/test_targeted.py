"""Targeted sync, member resync and type resync against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.engine.targeted import MemberNotFound
from tests.engine.e2_rig import BATCH_READ, BATCH_UPDATE, SEARCH, C, Rig, rig


def open_registered_deal(r: Rig) -> str:
    """An open deal whose company's domain holds a live registration (a close is attributed)."""
    live: set[str] = set()
    for t in ("companies", "contacts"):
        for status in ("registered", "expiring_soon", "reregistered"):
            live |= {r.props(t, i)[C.registered_domain]
                     for i in r.ids(t, **{C.registration_status: status, C.registered_domain: "*"})}
    for deal in r.ids("deals"):
        if r.props("deals", deal).get("dealstage") in {"closedwon", "closedlost"}:
            continue
        row = r.store.get_records("deals", [deal])[deal]
        companies = [ref.split(":")[0] for ref in row.associations.get("companies", [])]
        if any(r.props("companies", c).get("domain") in live for c in companies):
            return deal
    raise AssertionError("the dataset has no open deal on a live registration")


def test_deal_moved_to_closedwon_gets_attribution_and_commission(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        assert r.engine.full_sync().status == "ok"
        deal = open_registered_deal(r)
        assert C.attribution not in r.props("deals", deal) or \
            r.props("deals", deal)[C.attribution] == "unattributed"
        r.later(10)
        r.edit("deals", deal, dealstage="closedwon", closedate="2026-11-02T10:00:00.000Z")
        report = r.engine.targeted_sync([("deals", deal)])
        assert report.status == "ok"
        assert SEARCH not in report.api_calls
        assert report.api_calls[BATCH_READ] >= 1
        assert report.records_read["deals"] == 1
        written = r.props("deals", deal)
        assert written[C.attribution] == "registered"
        assert written[C.attributed_to]
        assert written[C.commission_plan] in {"provider_12", "legacy_12", "partner_36"}
        assert written[C.commission_start]
        assert {p.object_id for p in report.patches if p.object_type == "deals"} == {deal}


def test_targeted_sync_drops_archived_records(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.engine.full_sync()
        carrier = r.ids("contacts", **{C.registration_status: "registered"})[0]
        r.archive("contacts", carrier)
        report = r.engine.targeted_sync([("contacts", carrier)])
        assert report.status == "ok"
        assert not r.store.get_records("contacts", [carrier])


def test_targeted_sync_ignores_records_that_do_not_matter(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.engine.full_sync()
        mirrored = r.store.record_keys("contacts")
        noise = next(i for i in r.ids("contacts") if i not in mirrored)
        report = r.engine.targeted_sync([("contacts", noise)])
        assert report.records_read["contacts"] == 0
        assert noise not in r.store.record_keys("contacts")
        with pytest.raises(ValueError, match="tickets"):
            r.engine.targeted_sync([("tickets", "1")])


def member_scope(r: Rig, code: str) -> set[tuple[str, str]]:
    """Every record belonging to one member, by the sandbox's current values."""
    scope = {("companies", i) for i in r.ids("companies", **{C.code: code})}
    for t in ("companies", "contacts"):
        for prop in (C.registration_requested_by, C.registered_to):
            scope |= {(t, i) for i in r.ids(t, **{prop: code})}
    for prop in (C.shared_by, C.attributed_to, C.attribution_override):
        scope |= {("deals", i) for i in r.ids("deals", **{prop: code})}
    return scope


def test_resync_member_touches_only_that_member(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.engine.full_sync()
        carriers = r.ids("contacts", **{C.registration_status: "registered"})
        by_member: dict[str, str] = {}
        for i in carriers:
            by_member.setdefault(r.props("contacts", i)[C.registered_to], i)
        (code_a, mine), (_, theirs) = list(by_member.items())[:2]
        r.later(10)
        for contact in (mine, theirs):  # someone blanks the outputs by hand
            r.edit("contacts", contact, **{C.registration_status: ""})
        report = r.engine.resync_member(code_a)
        assert report.kind == "member"
        assert r.props("contacts", mine).get(C.registration_status) == "registered"
        assert C.registration_status not in r.props("contacts", theirs)
        scope = member_scope(r, code_a)
        assert {(p.object_type, p.object_id) for p in report.patches} <= scope
        assert report.api_calls[BATCH_UPDATE] >= 1
        assert sum(report.records_read.values()) < 0.25 * len(r.store.record_keys("contacts")) \
            + len(scope) + 50
        with pytest.raises(MemberNotFound):
            r.engine.resync_member("NOPE")


def test_resync_type_reconciles_that_type(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        r.engine.full_sync()
        deal = r.ids("deals")[0]
        r.archive("deals", deal)
        report = r.engine.resync_type("deals")
        assert report.kind == "type:deals"
        assert report.records_read["deals"] == len(r.ids("deals"))
        assert deal not in r.store.record_keys("deals")
        subs = r.engine.resync_type("subscriptions")
        assert subs.records_read["subscriptions"] == len(r.store.record_keys("subscriptions"))
        assert subs.patches == []
