"""Incremental sync against the sandbox: windows, lookback, archived sweep, call counts."""

from __future__ import annotations

from pathlib import Path

from sync.engine.checkpoints import modified_since
from sync.engine.incremental import ARCHIVED_SWEEP
from tests.engine.e2_rig import (
    ASSOC_READ,
    BATCH_UPDATE,
    LIST,
    SEARCH,
    START,
    C,
    Rig,
    rig,
)


def settle(r: Rig) -> None:
    """Full sync, then one incremental 30 min later that reads back our own writes."""
    assert r.engine.full_sync().status == "ok"
    r.later(30)
    assert r.engine.incremental_sync().status == "ok"
    r.later(30)


def noise_contact(r: Rig) -> str:
    """A contact carrying nothing of the program (never mirrored)."""
    ids = r.ids("contacts")
    carriers = set(r.ids("contacts", **{C.registration_requested_by: "*"}))
    carriers |= set(r.ids("contacts", **{C.registration_status: "*"}))
    return next(i for i in ids if i not in carriers)


def test_first_run_without_checkpoint_is_a_full_sync(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        report = r.engine.incremental_sync()
        assert report.kind == "full"
        assert r.store.get_checkpoint(modified_since("deals")) == START.isoformat()
        r.later(5)
        assert r.engine.incremental_sync().kind == "incremental"


def test_reads_and_writes_only_what_changed(tmp_path: Path) -> None:
    with rig(tmp_path, archived_sweep_minutes=240) as r:
        settle(r)
        quiet = r.engine.incremental_sync()
        assert quiet.records_read == dict.fromkeys(quiet.records_read, 0)
        assert quiet.api_calls == {SEARCH: 4}
        assert quiet.patches == []
        r.later(30)
        contact = noise_contact(r)
        member_code = r.props("companies", r.ids("companies", **{C.program_type: "*"})[0])[C.code]
        r.edit("contacts", contact, **{C.registration_requested_by: member_code,
                                       C.registration_requested_at: "2026-11-02"})
        r.later(5)
        report = r.engine.incremental_sync()
        assert report.status == "ok"
        assert report.records_read["contacts"] == 1
        assert report.records_read["deals"] == 0
        assert report.api_calls[SEARCH] == 4  # one window per type
        assert report.api_calls[ASSOC_READ] == 1  # the contact's companies
        assert LIST not in report.api_calls  # the archived sweep is not due yet
        patched = {(p.object_type, p.object_id) for p in report.patches}
        assert ("contacts", contact) in patched
        assert report.api_calls[BATCH_UPDATE] == len({t for t, _ in patched})
        assert r.props("contacts", contact)[C.registration_status]


def test_record_changed_during_a_run_is_read_by_the_next(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        settle(r)
        deal = r.ids("deals")[0]
        r.later(1 / 60)  # the edit lands one second after the next run's start
        r.edit("deals", deal, **{C.attribution_override: "NOBODY",
                                 C.attribution_override_reason: "test"})
        r.later(-1 / 60)
        during = r.engine.incremental_sync()
        assert during.records_read["deals"] == 0
        r.later(5)  # within the lookback of the previous run's start
        after = r.engine.incremental_sync()
        assert after.records_read["deals"] == 1
        assert r.store.get_records("deals", [deal])[deal].properties[C.attribution_override] \
            == "NOBODY"


def test_search_lag_is_covered_by_the_lookback(tmp_path: Path) -> None:
    with rig(tmp_path, lag_ms=60_000) as r:
        settle(r)
        contact = noise_contact(r)
        code = r.props("companies", r.ids("companies", **{C.program_type: "*"})[0])[C.code]
        r.edit("contacts", contact, **{C.registration_requested_by: code,
                                       C.registration_requested_at: "2026-11-02"})
        missed = r.engine.incremental_sync()  # not searchable for another minute
        assert missed.records_read["contacts"] == 0
        r.later(5)
        caught = r.engine.incremental_sync()
        assert caught.records_read["contacts"] == 1
        assert r.props("contacts", contact)[C.registration_status]


def test_archived_records_leave_the_mirror(tmp_path: Path) -> None:
    with rig(tmp_path, archived_sweep_minutes=45) as r:
        settle(r)
        carrier = r.ids("contacts", **{C.registration_status: "registered"})[0]
        deal = r.ids("deals", **{C.attribution: "registered"})[0]
        assert r.store.get_records("contacts", [carrier])
        r.archive("contacts", carrier)
        r.archive("deals", deal)
        report = r.engine.incremental_sync()  # 60 min after the full sync: due
        assert report.api_calls[LIST] >= 4
        assert not r.store.get_records("contacts", [carrier])
        assert not r.store.get_records("deals", [deal])
        assert r.store.get_checkpoint(ARCHIVED_SWEEP) == r.clock.now().isoformat()
        assert not any(p.object_id in (carrier, deal) for p in report.patches)
        r.later(30)
        assert LIST not in r.engine.incremental_sync().api_calls  # swept 30 min ago


def test_dry_run_moves_nothing(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        settle(r)
        before = r.store.get_checkpoint(modified_since("contacts"))
        deal = r.ids("deals", **{C.attribution: "registered"})[0]
        r.edit("deals", deal, **{C.attribution_override: "P00002",
                                 C.attribution_override_reason: "agreed"})
        r.later(5)
        dry = r.engine.incremental_sync(dry_run=True)
        assert any(p.object_id == deal for p in dry.patches)
        assert dry.written == {}
        assert BATCH_UPDATE not in dry.api_calls
        assert r.store.get_checkpoint(modified_since("contacts")) == before
        assert C.attribution_override not in r.store.get_records("deals", [deal])[deal].properties
