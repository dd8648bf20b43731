"""What the console's pages show and what its actions do, over plain HTTP with the fake engine:
commission figures against the statement builder, problem links, filters, busy, retries."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import httpx

from config.contract import CrmContract
from policies.model import CommissionMonth, MonthState, Problem
from sync.clock import FixedClock
from sync.statements import build_statement
from sync.store import InboxEvent, MirrorRecord, OutputChange, Store
from tests.console.conftest import csrf_of
from tests.webhooks.conftest import FakeEngine, event
from webhooks.console.data import member_rows, payout_calendar, record_url

C = CrmContract()
AS_OF = date(2025, 2, 15)


def _seed_program(store: Store, seed: int = 7) -> None:
    """Three members and a random ledger: months before and after ``AS_OF``, every state,
    two currencies, pay dates on both sides of ``AS_OF``."""
    rng = random.Random(seed)
    members = [("101", "P1", "partner", "gold"), ("102", "P2", "partner", "untiered"),
               ("103", "V1", "provider", "")]
    store.upsert_records([
        MirrorRecord("companies", cid, {C.program_type: kind, C.code: code, C.tier: tier,
                                        "domain": f"{code.lower()}.example.com"})
        for cid, code, kind, tier in members
    ] + [MirrorRecord("companies", "200", {"domain": "prospect.example.com"})])
    store.record_outputs([
        OutputChange("companies", "101", C.capacity_used, "3"),
        OutputChange("companies", "101", C.capacity_limit, "50"),
        OutputChange("companies", "101", C.compliance_status, "ok"),
        OutputChange("companies", "103", C.compliance_status, "non_compliant"),
    ], run_id=None)
    months = []
    for d in range(40):
        code = rng.choice(["P1", "P2", "V1"])
        currency = rng.choice(["USD", "EUR"])
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 500))
        for i in range(rng.randrange(1, 6)):
            state = rng.choice(list(MonthState))
            due = start + timedelta(days=90 + 31 * i)
            months.append(CommissionMonth(
                f"d{d}", f"s{d}", code, i, start + timedelta(days=31 * i), Decimal("100.00"),
                Decimal(rng.randrange(1, 100_000)) / 100, currency, due,
                due + timedelta(days=rng.choice([0, 30])) if state is MonthState.PAYABLE
                else None, state))
    store.replace_ledger_for_deals({m.deal_id for m in months}, months)


def test_member_commission_matches_the_statement_builder(store: Store) -> None:
    _seed_program(store)
    rows = {r.code: r for r in member_rows(store, C, AS_OF)}
    assert set(rows) == {"P1", "P2", "V1"}  # the prospect company is no member
    for code, row in rows.items():
        statement = build_statement(store, code, AS_OF, C)
        expected = [(t.currency, t.earned, t.paid_to_date, t.next_payout_date,
                     t.next_payout_amount) for t in statement.totals]
        got = [(m.currency, m.earned, m.paid, m.next_date, m.next_amount) for m in row.money]
        assert got == expected, code
    assert (rows["P1"].capacity_used, rows["P1"].capacity_limit) == ("3", "50")
    assert rows["V1"].compliance == "non_compliant"


def test_payout_calendar_totals_add_up_to_the_payable_ledger(store: Store) -> None:
    _seed_program(store)
    calendar = payout_calendar(store, AS_OF)
    for currency in ("USD", "EUR"):
        payable = sum(
            (m.amount for code in ("P1", "P2", "V1") for m in store.ledger_for_member(code)
             if m.currency == currency and m.state is MonthState.PAYABLE
             and m.month_start <= AS_OF), Decimal(0))
        shown = sum((v for (_q, c), v in calendar.totals.items() if c == currency), Decimal(0))
        assert shown == payable
    only_p1 = payout_calendar(store, AS_OF, member="P1")
    assert {c.member_code for c in only_p1.cells} == {"P1"}


async def test_members_page_filters_by_query(admin: httpx.AsyncClient, store: Store) -> None:
    _seed_program(store)
    page = (await admin.get("/console/members?type=provider")).text
    assert "V1" in page
    assert "P1</td>" not in page
    page = (await admin.get("/console/members?tier=gold")).text
    assert "P1</td>" in page
    assert "P2</td>" not in page
    page = (await admin.get("/console/members?q=nobody")).text
    assert "No member matches." in page


def test_record_links_use_the_portal_and_object_type() -> None:
    assert record_url(62515, "deal", "42") == (
        "https://app.hubspot.com/contacts/62515/record/0-3/42")
    assert record_url(62515, "member", "7").endswith("/record/0-2/7")
    assert record_url(62515, "subscription", "9").endswith("/record/0-69/9")
    assert record_url(None, "deal", "42") is None
    assert record_url(62515, "deal", "../x") is None


async def test_run_page_links_problems_once_the_portal_is_known(
    admin: httpx.AsyncClient, store: Store
) -> None:
    run_id = store.start_run("full", AS_OF, "cli")
    store.add_run_problems(run_id, [Problem("deal", "42", "unknown_partner_code", "NOPE")])
    store.finish_run(run_id, "ok", {"deals": {"read": 1, "written": 0},
                                    "api": {"calls": 5, "rate_limited": 1}})
    page = (await admin.get(f"/console/runs/{run_id}")).text
    assert "unknown_partner_code" in page
    assert "app.hubspot.com" not in page  # no portal id known yet: the id without a link
    store.inbox_insert([InboxEvent("k1", event(42))])  # an event names portal 62515
    page = (await admin.get(f"/console/runs/{run_id}")).text
    assert 'href="https://app.hubspot.com/contacts/62515/record/0-3/42"' in page
    assert "5 (1 answered 429)" in page
    assert (await admin.get("/console/runs/999")).status_code == 404


async def test_member_resync_lands_on_its_run(
    admin: httpx.AsyncClient, engine: FakeEngine
) -> None:
    csrf = csrf_of((await admin.get("/console/")).text)
    answer = await admin.post("/console/actions/resync",
                              data={"csrf": csrf, "scope": "member", "member": "P1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/runs/1"
    assert engine.calls == [("member", "P1")]
    answer = await admin.post("/console/actions/resync", data={
        "csrf": csrf, "scope": "records", "records": "deals:42, companies:7"})
    assert answer.headers["location"] == "/console/runs/2"
    assert engine.calls[-1] == ("targeted", ([("deals", "42"), ("companies", "7")], "admin"))


async def test_busy_and_bad_input_are_clear_pages(
    admin: httpx.AsyncClient, engine: FakeEngine
) -> None:
    csrf = csrf_of((await admin.get("/console/")).text)
    engine.busy = True
    answer = await admin.post("/console/actions/resync", data={"csrf": csrf, "scope": "all"})
    assert answer.status_code == 409
    assert "another sync is running" in answer.text.lower()
    engine.busy = False
    answer = await admin.post("/console/actions/resync", data={
        "csrf": csrf, "scope": "records", "records": "tickets:1"})
    assert answer.status_code == 400
    assert "is not TYPE:ID" in answer.text
    engine.raises = LookupError("no member NOPE")
    answer = await admin.post("/console/actions/resync",
                              data={"csrf": csrf, "scope": "member", "member": "NOPE"})
    assert answer.status_code == 404
    assert "no member NOPE" in answer.text
    assert engine.calls == []


async def test_retrying_a_dead_letter_resyncs_its_record_and_clears_it(
    admin: httpx.AsyncClient, engine: FakeEngine, store: Store, clock: FixedClock
) -> None:
    store.inbox_insert([InboxEvent("dead-1", event(42), "deals", "42", dead_reason="boom"),
                        InboxEvent("dead-2", {"subscriptionType": "x"}, dead_reason="bad")])
    page = (await admin.get("/console/")).text
    assert 'id="dead-count">2<' in page
    letters = {d.object_id: d.item_id for d in store.dead_letters()}
    csrf = csrf_of(page)
    answer = await admin.post(f"/console/dead-letters/{letters['42']}/retry",
                              data={"csrf": csrf})
    assert answer.status_code == 303
    assert engine.calls == [("targeted", ([("deals", "42")], "admin"))]
    assert store.dead_letter_count() == 1
    answer = await admin.post(f"/console/dead-letters/{letters[None]}/retry",
                              data={"csrf": csrf})
    assert answer.status_code == 422
    assert (await admin.post("/console/dead-letters/999/retry",
                             data={"csrf": csrf})).status_code == 404


async def test_a_failed_retry_keeps_the_dead_letter(
    admin: httpx.AsyncClient, engine: FakeEngine, store: Store
) -> None:
    store.inbox_insert([InboxEvent("dead-1", event(42), "deals", "42", dead_reason="boom")])
    engine.bad = {("deals", "42")}
    item_id = store.dead_letters()[0].item_id
    csrf = csrf_of((await admin.get("/console/")).text)
    answer = await admin.post(f"/console/dead-letters/{item_id}/retry", data={"csrf": csrf})
    assert answer.status_code == 303  # lands on the failed run
    assert store.dead_letter_count() == 1


async def test_docs_are_generated_from_the_openapi_document(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    for path in ("/admin/resync", "/admin/runs/{run_id}", "/webhooks/hubspot", "/metrics"):
        assert path in page
    assert "<script" not in page
    assert "<link" not in page
    assert "cdn" not in page.lower()
    assert (await client.get("/")).headers["location"] == "/console/"


async def test_members_page_shows_what_the_newest_run_wrote(
    admin: httpx.AsyncClient, store: Store
) -> None:
    _seed_program(store)
    assert "3 / 50" in (await admin.get("/console/members")).text
    run_id = store.start_run("targeted", AS_OF, "webhook")
    store.record_outputs([OutputChange("companies", "101", C.capacity_used, "4")], run_id)
    store.finish_run(run_id, "ok", {})
    page = (await admin.get("/console/members")).text
    assert "4 / 50" in page
    assert "3 / 50" not in page
