"""A record leaving the mirror brings its mirrored partners' links up to date in the same run.

HubSpot announces no association change when it archives or merges a record: a deal whose
Primary company is merged away, and which was already linked to the survivor, gets only the
company's deletion event. The run that drops the company must re-read the deal, so its outputs
equal those of a fresh full sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from cli.runtime import build_runtime
from mappers.fields import DEAL_TO_COMPANY_PRIMARY
from sandbox.associations import default_type_ids
from sandbox.server import RunningSandbox
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from tests.engine.conftest import EngineFactory
from tests.engine.conftest import settings_for as conftest_settings
from tests.engine.e2_rig import C, Rig, rig, settings_for
from tests.engine.seed import Seed


def primary_company(r: Rig, deal: str) -> str:
    row = r.store.get_records("deals", [deal])[deal]
    refs = [text.partition(":") for text in row.associations.get("companies", [])]
    return next(i for i, _, types in refs if str(DEAL_TO_COMPANY_PRIMARY) in types.split(","))


def linked_deal(r: Rig) -> tuple[str, str, str]:
    """A closed-won deal with a plain Primary company A, linked also to plain company B."""
    plain = [i for i in r.ids("companies") if not r.props("companies", i).get(C.program_type)]
    for deal in r.ids("deals", dealstage="closedwon"):
        linked = {str(i) for i, _ in r.state.linked("deals", int(deal), "companies")}
        primary = [str(i) for i, types in r.state.linked("deals", int(deal), "companies")
                   if DEAL_TO_COMPANY_PRIMARY in types]
        if primary and primary[0] in plain and len(linked) == 1:
            other = next(i for i in plain if i not in linked)
            r.state.associate("deals", int(deal), "companies", int(other),
                              default_type_ids("deals", "companies", primary=False))
            return deal, primary[0], other
    raise AssertionError("the dataset has no closed-won deal with a plain Primary company")


def move_primary_and_archive(r: Rig, deal: str, gone: str, survivor: str) -> None:
    """HubSpot's visible effects of merging company ``gone`` into ``survivor``."""
    r.later(10)
    r.state.associate("deals", int(deal), "companies", int(survivor),
                      default_type_ids("deals", "companies", primary=True))
    r.archive("companies", gone)


@contextmanager
def fresh_engine(r: Rig, tmp_path: Path) -> Iterator[SyncEngine]:
    """An engine on a new, empty store against the same sandbox."""
    settings = settings_for(r.sandbox.url, tmp_path / "fresh.db")
    store = Store.from_url(settings.store.url)
    store.migrate()
    gateway = Gateway(settings.hubspot, clock=r.time.monotonic, sleep=r.time.sleep)
    try:
        yield SyncEngine(settings, gateway=gateway, store=store, clock=r.clock)
    finally:
        gateway.close()
        store.close()


def assert_as_fresh_full_sync(r: Rig, tmp_path: Path, deal: str, survivor: str) -> None:
    assert primary_company(r, deal) == survivor
    with fresh_engine(r, tmp_path) as fresh:
        fresh.init_portal()
        planned = fresh.full_sync(dry_run=True)
    assert planned.status == "ok"
    assert [p for p in planned.patches if p.object_id == deal] == []


def test_deletion_event_rereads_the_deals_of_a_merged_away_company(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        deal, gone, survivor = linked_deal(r)
        assert r.engine.full_sync().status == "ok"
        assert primary_company(r, deal) == gone
        move_primary_and_archive(r, deal, gone, survivor)
        report = r.engine.targeted_sync([("companies", gone)])
        assert report.status == "ok"
        assert not r.store.get_records("companies", [gone])
        assert r.props("deals", deal).get(C.attribution_reason) != "deal_without_company"
        assert_as_fresh_full_sync(r, tmp_path, deal, survivor)


def test_archived_sweep_rereads_the_deals_of_a_merged_away_company(tmp_path: Path) -> None:
    with rig(tmp_path, archived_sweep_minutes=0) as r:
        deal, gone, survivor = linked_deal(r)
        assert r.engine.full_sync().status == "ok"
        move_primary_and_archive(r, deal, gone, survivor)
        r.later(10)
        report = r.engine.incremental_sync()
        assert report.status == "ok"
        assert not r.store.get_records("companies", [gone])
        assert_as_fresh_full_sync(r, tmp_path, deal, survivor)


def test_a_type_resync_rereads_the_deals_of_a_merged_away_company(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        deal, gone, survivor = linked_deal(r)
        assert r.engine.full_sync().status == "ok"
        move_primary_and_archive(r, deal, gone, survivor)
        report = r.engine.resync_type("companies")
        assert report.status == "ok"
        assert not r.store.get_records("companies", [gone])
        assert r.props("deals", deal).get(C.attribution_reason) != "deal_without_company"
        assert_as_fresh_full_sync(r, tmp_path, deal, survivor)


def test_write_answered_not_found_rereads_the_partners_in_the_same_call(
    sandbox: RunningSandbox, make_engine: EngineFactory, tmp_path: Path
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    prospect = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    first = seed.deal(prospect, date(2024, 2, 1), date(2024, 1, 20))
    second = seed.deal(prospect, date(2024, 2, 1), date(2024, 1, 21))
    sub = seed.subscription(first, "100", date(2024, 2, 1))
    seed.links.append(type(seed.links[-1])("deals", second, "subscriptions", sub))
    engine = make_engine(seed.dataset())
    engine.full_sync(as_of=date(2024, 6, 15))
    store = sandbox.state.types["deals"]
    sandbox.state.archive(store, store.records[int(first)])  # the mirror still holds it

    report = engine.reevaluate(as_of=date(2024, 7, 15))

    assert ("deal", first, "record_gone") in {
        (p.record_kind, p.record_id, p.code) for p in report.problems}
    fresh = build_runtime(conftest_settings(sandbox.url, tmp_path / "fresh.db"),
                          clock=FixedClock(datetime(2024, 7, 15, 12, tzinfo=UTC)))
    try:
        planned = fresh.engine.full_sync(as_of=date(2024, 7, 15), dry_run=True)
    finally:
        fresh.close()
    assert planned.status == "ok"
    assert planned.patches == []
