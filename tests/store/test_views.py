"""The console's read-only summaries, on SQLite and PostgreSQL: members found by their type
property, exact ledger sums per group, dead letters, the portal id of the newest event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from policies.model import CommissionMonth, MonthState
from sync.store import InboxEvent, MirrorRecord, Store


def _month(deal: str, i: int, code: str, amount: str, state: MonthState,
           pay: date | None, start: date) -> CommissionMonth:
    # one subscription per deal: a month counts for one deal only (R7.6)
    return CommissionMonth(deal, f"s-{deal}", code, i, start, Decimal("10"), Decimal(amount), "USD",
                           date(2024, 7, 1), pay, state)


def test_member_records_are_the_companies_with_the_type_property(store: Store) -> None:
    store.upsert_records([
        MirrorRecord("companies", "1", {"t": "partner", "code": "P1"}),
        MirrorRecord("companies", "2", {"t": None}),
        MirrorRecord("companies", "3", {"t": ""}),
        MirrorRecord("companies", "4", {"other": "x"}),
        MirrorRecord("companies", "5", {"t": "provider"}, archived=True),
        MirrorRecord("contacts", "6", {"t": "partner"}),
    ])
    assert store.member_records("t") == [("1", {"t": "partner", "code": "P1"})]


def test_ledger_groups_sum_exactly_per_group(store: Store) -> None:
    pay = date(2024, 7, 15)
    months = [
        _month("d1", 0, "P1", "0.10", MonthState.PAYABLE, pay, date(2024, 1, 1)),
        _month("d1", 1, "P1", "0.20", MonthState.PAYABLE, pay, date(2024, 2, 1)),
        _month("d1", 2, "P1", "0.30", MonthState.PAYABLE, pay, date(2024, 8, 1)),
        _month("d2", 0, "P1", "5.55", MonthState.FORFEITED, None, date(2024, 1, 1)),
    ]
    store.replace_ledger_for_deals({"d1", "d2"}, months)
    groups = {(g.state, g.pay_date, g.started): (g.months, g.amount)
              for g in store.ledger_groups(date(2024, 6, 30))}
    assert groups == {
        ("payable", pay, True): (2, Decimal("0.30")),  # exact: 0.1 + 0.2 as floats is not
        ("payable", pay, False): (1, Decimal("0.30")),
        ("forfeited", None, True): (1, Decimal("5.55")),
    }


def test_dead_letters_and_the_newest_portal_id(store: Store) -> None:
    assert store.newest_portal_id() is None
    store.inbox_insert([
        InboxEvent("a", {"portalId": 111}, "deals", "1", dead_reason="boom"),
        InboxEvent("b", {"portalId": 222}),
    ])
    assert store.dead_letter_count() == 1
    (letter,) = store.dead_letters()
    assert (letter.object_id, letter.last_error, letter.payload) == ("1", "boom",
                                                                      {"portalId": 111})
    assert store.dead_letter(letter.item_id) == letter
    assert store.dead_letter(letter.item_id + 1) is None  # not dead
    assert store.newest_portal_id() == 222


def test_the_data_version_moves_when_a_run_starts_and_when_it_finishes(store: Store) -> None:
    empty = store.data_version()
    assert empty == (None, None)
    run_id = store.start_run("full", None, "cli")
    started = store.data_version()
    assert started == (run_id, None)
    store.finish_run(run_id, "ok", {})
    finished = store.data_version()
    assert finished[0] == run_id
    assert finished[1] is not None
    assert store.data_version() == finished  # stable while nothing runs


def test_a_portal_id_of_superscript_digits_is_no_portal_id(store: Store) -> None:
    # "²".isdigit() is True but int() refuses it: the console asked for it and got a 500
    store.inbox_insert([InboxEvent("c", {"portalId": "²"})])
    assert store.newest_portal_id() is None
    store.inbox_insert([InboxEvent("d", {"portalId": "333"})])
    assert store.newest_portal_id() == 333
