"""§0 month/day arithmetic and R8.1 payout dates."""

from __future__ import annotations

from datetime import date

import pytest

from policies.dates import (
    add_days,
    add_months,
    months_between,
    next_payout_on_or_after,
    quarter_payout_date,
)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),
        (date(2024, 11, 15), 3, date(2025, 2, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2019, 1, 15), 12, date(2020, 1, 15)),
    ],
)
def test_r0_add_months_clamps_to_month_end(start: date, n: int, expected: date) -> None:
    assert add_months(start, n) == expected


def test_r0_month_sequence_is_taken_from_the_anchor() -> None:
    # repeated addition would drift 31 -> 29 -> 29; the anchor keeps the 31st where it exists
    start = date(2024, 1, 31)
    assert [add_months(start, j) for j in range(4)] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def test_r0_add_days_is_plain_calendar_days() -> None:
    assert add_days(date(2024, 1, 10), 180) == date(2024, 7, 8)
    assert add_days(date(2024, 7, 20), 90) == date(2024, 10, 18)


@pytest.mark.parametrize(
    ("start", "later"),
    [
        (date(2024, 1, 31), date(2024, 3, 1)),
        (date(2024, 1, 15), date(2024, 1, 15)),
        (date(2024, 1, 15), date(2026, 7, 16)),
        (date(2024, 5, 31), date(2023, 1, 1)),
    ],
)
def test_r7_1_months_between_finds_first_month_on_or_after(start: date, later: date) -> None:
    j = months_between(start, later)
    assert add_months(start, j) >= later or (j == 0 and later <= start)
    if j > 0:
        assert add_months(start, j - 1) < later


@pytest.mark.parametrize(
    ("month", "payout"),
    [
        (date(2024, 2, 10), date(2024, 5, 15)),
        (date(2024, 4, 1), date(2024, 8, 14)),
        (date(2024, 9, 30), date(2024, 11, 14)),
        (date(2024, 12, 1), date(2025, 2, 14)),
    ],
)
def test_r8_1_quarter_payout_dates(month: date, payout: date) -> None:
    assert quarter_payout_date(month, 45) == payout


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 5, 15), date(2024, 5, 15)),
        (date(2024, 5, 16), date(2024, 8, 14)),
        (date(2024, 5, 20), date(2024, 8, 14)),
        (date(2024, 11, 15), date(2025, 2, 14)),
        (date(2024, 1, 1), date(2024, 2, 14)),
    ],
)
def test_r8_2_next_payout_on_or_after(d: date, expected: date) -> None:
    assert next_payout_on_or_after(d, 45) == expected
