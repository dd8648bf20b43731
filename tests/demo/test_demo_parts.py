"""The demo's pure parts: record choices, output diffs, the shifted clock, bounded waits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from cli.demo.events import DemoError, Waiter
from cli.demo.pick import pick_open_deal, pick_prospect, usable_members
from cli.demo.summary import output_changes
from cli.demo.world import ShiftedClock
from config.contract import CrmContract
from sync.clock import FixedClock
from sync.store import MirrorRecord

C = CrmContract()
AS_OF = date(2026, 11, 1)


def company(object_id: str, **props: str) -> MirrorRecord:
    return MirrorRecord("companies", object_id, props)


def member(object_id: str, code: str, *, used: str = "1", paperwork: bool = True,
           extra: dict[str, str] | None = None) -> MirrorRecord:
    props = {C.program_type: "partner", C.code: code, C.joined_at: "2024-01-01",
             C.capacity_limit: "10", C.capacity_used: used, **(extra or {})}
    if paperwork:
        props[C.paperwork_completed_at] = "2024-02-01"
    return company(object_id, **props)


def test_usable_members_are_joined_unexited_below_capacity_paperwork_first() -> None:
    records = [
        member("1", "NOPAPER", paperwork=False),
        member("2", "FULL", used="10"),
        member("3", "LEFT", extra={C.program_exit: "left"}),
        member("4", "LATER", extra={C.joined_at: "2026-12-01"}),
        member("5", "OK"),
        company("6", domain="plain.com"),
    ]
    assert usable_members(records, C, AS_OF) == ["OK", "NOPAPER"]


def test_prospect_is_a_plain_company_with_a_domain_nobody_else_uses() -> None:
    companies = [
        company("1", domain="shared.com"),
        company("2", domain="shared.com"),
        company("3", domain="cust.com", lifecyclestage="customer"),
        company("4", domain="direct.com", hubspot_owner_id="71000001"),
        company("5", domain="asked.com", **{C.registration_requested_by: "P1"}),
        company("6", domain="mailed.com"),
        company("8", domain="free.com"),
        member("7", "P1", extra={"domain": "member.com"}),
    ]
    contacts = [MirrorRecord("contacts", "9", {"email": "x@mailed.com"})]
    chosen = pick_prospect(companies, contacts, C, ["71000001"])
    assert chosen is not None
    assert chosen.object_id == "8"
    assert pick_prospect(companies[:6], contacts, C, ["71000001"]) is None


def deal(object_id: str, by: str, created: date, *, stage: str = "contractsent",
         deal_type: str = "registered", subs: bool = False) -> MirrorRecord:
    associations = {"companies": [f"1{object_id}:5,341"]}
    if subs:
        associations["subscriptions"] = ["40000001"]
    return MirrorRecord("deals", object_id, {
        C.shared_by: by, "dealstage": stage, C.deal_type: deal_type,
        "createdate": f"{created.isoformat()}T10:00:00.000Z"}, associations=associations)


def test_open_deal_is_registered_recent_and_of_the_best_member() -> None:
    recent = AS_OF - timedelta(days=30)
    deals = [
        deal("1", "B", recent),
        deal("2", "A", AS_OF - timedelta(days=180)),  # its registration expired today
        deal("3", "A", recent, stage="closedwon"),
        deal("4", "A", recent, deal_type="co_selling"),
        deal("5", "A", recent, subs=True),
        deal("6", "A", recent),
        deal("7", "C", recent),  # not a usable member
    ]
    choice = pick_open_deal(deals, C, ["A", "B"], as_of=AS_OF, expiry_days=180,
                            primary_type_ids=[5])
    assert choice is not None
    assert (choice.deal_id, choice.member, choice.company_id) == ("6", "A", "16")
    assert pick_open_deal(deals[1:5], C, ["A"], as_of=AS_OF, expiry_days=180,
                          primary_type_ids=[5]) is None


def test_output_changes_lists_every_changed_value_including_cleared_ones() -> None:
    before = {("deals", "2"): {"a": "1", "b": "x"}, ("companies", "10"): {"s": "registered"}}
    after = {("deals", "2"): {"a": "2", "b": "x"}, ("companies", "10"): {},
             ("companies", "9"): {"s": "expired"}}
    assert [(ch.object_type, ch.object_id, ch.property, ch.before, ch.after)
            for ch in output_changes(before, after)] == [
        ("companies", "9", "s", None, "expired"),
        ("companies", "10", "s", "registered", None),
        ("deals", "2", "a", "1", "2"),
    ]


def test_shifted_clock_keeps_time_flowing_on_another_date() -> None:
    wall = FixedClock(datetime(2030, 5, 5, 8, 30, tzinfo=UTC))
    clock = ShiftedClock(AS_OF, wall)
    assert clock.today() == AS_OF
    wall.advance(timedelta(hours=2))
    assert clock.now() == datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
    clock.move_to(date(2026, 11, 14))
    assert clock.today() == date(2026, 11, 14)
    assert clock.now().time() == wall.now().time()


def test_waiter_measures_and_gives_up() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    waiter = Waiter(timeout_s=1.0, poll_s=0.25, monotonic=lambda: now[0], sleep=sleep)
    calls = iter([False, False, True])
    assert waiter.until("x", lambda: next(calls)) == 0.5
    with pytest.raises(DemoError, match="timed out after 1 s waiting for y"):
        waiter.until("y", lambda: False)
