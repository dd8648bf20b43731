"""Calendar arithmetic of POLICY.md §0 and R8.1: pure functions over ``datetime.date``.

Month arithmetic keeps the day of month, clamped to the target month's last day, and is always
taken from an anchor (``start + j months``), so sequences never drift.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

__all__ = [
    "add_days",
    "add_months",
    "days_in_month",
    "months_between",
    "next_payout_on_or_after",
    "quarter_end",
    "quarter_payout_date",
]


# calendar.monthrange also computes the weekday of the 1st, which the hot callers never need
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """The number of days of ``month`` (1-12) of ``year`` (Gregorian leap years)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS_IN_MONTH[month - 1]


def add_months(d: date, n: int) -> date:
    """``d + n months`` (§0): same day of month, clamped to the month's last day.

    2024-01-31 + 1 -> 2024-02-29; 2023-01-31 + 1 -> 2023-02-28. ``n`` may be negative.
    """
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(d.day, days_in_month(year, month)))


def add_days(d: date, n: int) -> date:
    """``d + n days``: plain calendar days (§0)."""
    return d + timedelta(days=n)


def months_between(start: date, later: date) -> int:
    """The smallest ``j >= 0`` with ``add_months(start, j) >= later`` (0 when ``later <= start``).

    Lets a caller jump straight to the first revenue month inside a window instead of walking
    every month from the anchor.
    """
    if later <= start:
        return 0
    j = max(0, (later.year - start.year) * 12 + (later.month - start.month) - 1)
    while add_months(start, j) < later:
        j += 1
    return j


def quarter_end(d: date) -> date:
    """The last day of the calendar quarter containing ``d``."""
    last_month = ((d.month - 1) // 3) * 3 + 3
    return date(d.year, last_month, days_in_month(d.year, last_month))


def quarter_payout_date(d: date, lag_days: int) -> date:
    """R8.1: payout date of the quarter containing ``d``: quarter end + ``lag_days``.

    With 45 days: Q1 -> May 15, Q2 -> Aug 14, Q3 -> Nov 14, Q4 -> Feb 14 of the next year.
    """
    return quarter_end(d) + timedelta(days=lag_days)


def next_payout_on_or_after(d: date, lag_days: int) -> date:
    """R8.2: the first quarterly payout date on or after ``d``.

    A quarter's payout ``end + lag`` is on or after ``d`` exactly when its end is on or after
    ``d - lag``, so the answer is the payout of the quarter containing ``d - lag``.
    """
    return quarter_payout_date(d - timedelta(days=lag_days), lag_days)
