"""HubSpot value formats and the small, pure helpers the generator lays dates out with.

Every property value is a string, as HubSpot answers it: dates ``YYYY-MM-DD``, datetimes ISO-8601
with milliseconds and ``Z``, numbers as decimal strings, booleans ``"true"``/``"false"``.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sandbox.values import iso_ms

__all__ = [
    "DAY_MS",
    "add_months",
    "day_ms",
    "days",
    "fmt_date",
    "fmt_money",
    "iso_ms",
    "mix",
]

DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MASK64 = (1 << 64) - 1


def fmt_date(day: date) -> str:
    """A HubSpot ``date`` value: ``YYYY-MM-DD`` (midnight UTC)."""
    return day.isoformat()


def day_ms(day: date) -> int:
    """Epoch milliseconds of ``day`` at midnight UTC."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS


def fmt_money(cents: int) -> str:
    """A HubSpot number for an amount of money: ``"1250.00"``."""
    return f"{cents // 100}.{cents % 100:02d}"


def add_months(day: date, months: int) -> date:
    """``day + months`` keeping the day of month, clamped to the month's end (POLICY.md §0)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def days(n: int) -> timedelta:
    return timedelta(days=n)


def mix(seed: int, stream: int, index: int) -> int:
    """A 64-bit hash of (seed, stream, index) (splitmix64 finaliser).

    Lets two independent passes (records, associations) agree on a choice for record ``index``
    without holding anything in memory.
    """
    z = (seed * 0x9E3779B97F4A7C15 + stream * 0xBF58476D1CE4E5B9 + index * 0x94D049BB133111EB)
    z &= _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)
