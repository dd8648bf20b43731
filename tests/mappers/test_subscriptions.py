"""MRR history from ``hs_mrr``'s property history (POLICY.md R7.3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from mappers.fields import FieldReader
from mappers.records import from_api
from mappers.subscriptions import mrr_history
from policies.model import MrrChange, Problem
from tests.mappers.builders import api_object, record

DAY_MS = 86_400_000


def ms(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_MS


def history(*points: tuple[date, str], current: str | None, start: date | None = None,
            updated: date | None = None) -> tuple[list[tuple[date, Decimal]], list[Problem]]:
    rec = record("subscriptions", "70", hs_mrr=current,
                 history={"hs_mrr": tuple((ms(d), v) for d, v in points)},
                 updated_at_ms=None if updated is None else ms(updated) + 5_000)
    problems: list[Problem] = []
    changes = mrr_history(FieldReader(rec, "subscription", problems), start)
    return [(c.effective, c.amount) for c in changes], problems


def test_r7_3_history_from_api_json_is_oldest_first() -> None:
    # HubSpot lists newest first; the worked example of R7.5 as one upgraded subscription.
    payload = api_object("70", properties={"hs_mrr": "400"}, propertiesWithHistory={"hs_mrr": [
        {"value": "400", "timestamp": "2019-07-15T09:00:00Z", "sourceType": "API"},
        {"value": "50", "timestamp": "2019-01-15T00:00:00Z", "sourceType": "API"}]})
    problems: list[Problem] = []
    changes = mrr_history(FieldReader(from_api("subscriptions", payload), "subscription",
                                      problems), date(2019, 1, 15))
    assert changes == (MrrChange(date(2019, 1, 15), Decimal("50")),
                       MrrChange(date(2019, 7, 15), Decimal("400")))
    assert problems == []


def test_r7_3_first_value_covers_the_billing_start() -> None:
    # Created (or imported) a week after its billing start: the first MRR is the starting one.
    changes, _ = history((date(2024, 1, 17), "100"), (date(2024, 3, 1), "120"), current="120",
                         start=date(2024, 1, 10))
    assert changes == [(date(2024, 1, 10), Decimal("100")), (date(2024, 3, 1), Decimal("120"))]


def test_r7_3_same_day_keeps_last_value_and_repeats_merge() -> None:
    changes, _ = history((date(2024, 1, 10), "100"), (date(2024, 1, 10), "90"),
                         (date(2024, 2, 1), "90"), (date(2024, 3, 1), "100.00"),
                         current="100.00", start=date(2024, 1, 10))
    assert changes == [(date(2024, 1, 10), Decimal("90")), (date(2024, 3, 1), Decimal("100"))]


def test_r7_3_current_value_newer_than_history_is_appended_at_updated_at() -> None:
    changes, _ = history((date(2024, 1, 10), "100"), current="150", start=date(2024, 1, 10),
                         updated=date(2024, 4, 2))
    assert changes == [(date(2024, 1, 10), Decimal("100")), (date(2024, 4, 2), Decimal("150"))]


def test_r7_3_no_history_read_uses_current_value_from_start() -> None:
    changes, _ = history(current="75", start=date(2024, 1, 10))
    assert changes == [(date(2024, 1, 10), Decimal("75"))]
    changes, _ = history(current="75")
    assert changes == [(date.min, Decimal("75"))]


def test_r7_3_cleared_and_unusable_history_values_are_skipped() -> None:
    changes, problems = history((date(2024, 1, 10), "100"), (date(2024, 2, 1), ""),
                                (date(2024, 3, 1), "lots"), (date(2024, 4, 1), "110"),
                                current="110", start=date(2024, 1, 10))
    assert changes == [(date(2024, 1, 10), Decimal("100")), (date(2024, 4, 1), Decimal("110"))]
    assert [(p.code, p.detail) for p in problems] == [("invalid_number", "hs_mrr='lots'")]


def test_r7_3_no_mrr_at_all_is_an_empty_history() -> None:
    assert history(current=None) == ([], [])
