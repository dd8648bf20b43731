"""Tolerant parsers of HubSpot property values (every value is a string on the wire).

Each parser takes the raw string (or None) and returns the typed value, ``None`` when the value is
absent or empty (HubSpot omits empty properties or sends ``""``), or an ``Invalid`` naming the
problem. None of them raises. Date parsing is cached: a sync sees the same few thousand dates over
and over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

__all__ = [
    "INVALID_BOOL",
    "INVALID_DATE",
    "INVALID_ENUM",
    "INVALID_NUMBER",
    "MAX_DECIMAL",
    "Invalid",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_enum",
    "parse_multi",
    "parse_text",
    "parse_timestamp_ms",
]

INVALID_DATE = "invalid_date"
INVALID_NUMBER = "invalid_number"
INVALID_BOOL = "invalid_bool"
INVALID_ENUM = "invalid_enum"

E = TypeVar("E", bound=StrEnum)

_EPOCH = date(1970, 1, 1)
_DAY_MS = 86_400_000
# Python's date range, in epoch ms: anything outside is not a date HubSpot could hold.
_MIN_MS = (date.min - _EPOCH).days * _DAY_MS
_MAX_MS = ((date.max - _EPOCH).days + 1) * _DAY_MS - 1
_MAX_DECIMAL_EXPONENT = 15
MAX_DECIMAL = Decimal(10) ** _MAX_DECIMAL_EXPONENT
"""Numbers are usable below this magnitude (a quadrillion, far above any real MRR)."""
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


@dataclass(frozen=True, slots=True)
class Invalid:
    """A value that cannot be used: ``code`` is a data-problem code, ``raw`` the value as read."""

    code: str
    raw: str


def parse_text(raw: str | None) -> str | None:
    """The value with surrounding white space removed; None when nothing is left."""
    if raw is None:
        return None
    text = raw.strip()
    return text or None


def parse_date(raw: str | None) -> date | Invalid | None:
    """A UTC calendar date from ``YYYY-MM-DD``, an ISO datetime (``Z``, offset or naive = UTC)
    or an epoch-milliseconds string."""
    if raw is None:
        return None
    return _parse_date_cached(raw)


@lru_cache(maxsize=1 << 16)
def _parse_date_cached(raw: str) -> date | Invalid | None:
    text = raw.strip()
    if not text:
        return None
    # The common case, a date property, is a fixed-width slice: no regex, no datetime.
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            return Invalid(INVALID_DATE, raw)
    ms = _epoch_ms(text)
    if isinstance(ms, Invalid):
        return Invalid(INVALID_DATE, raw)
    return _EPOCH + timedelta(days=ms // _DAY_MS)


def parse_timestamp_ms(raw: str | None) -> int | Invalid | None:
    """Epoch milliseconds from an epoch-ms string, an ISO datetime or a date (midnight UTC)."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    ms = _epoch_ms(text)
    return Invalid(INVALID_DATE, raw) if isinstance(ms, Invalid) else ms


def _epoch_ms(text: str) -> int | Invalid:
    digits = text[1:] if text[:1] == "-" else text
    if digits.isascii() and digits.isdigit():
        ms = int(text)
        return ms if _MIN_MS <= ms <= _MAX_MS else Invalid(INVALID_DATE, text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return Invalid(INVALID_DATE, text)
    if moment.tzinfo is None:  # HubSpot reads naive timestamps as UTC
        moment = moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return Invalid(INVALID_DATE, text)
    days = (utc.date() - _EPOCH).days
    seconds = utc.hour * 3600 + utc.minute * 60 + utc.second
    return days * _DAY_MS + seconds * 1000 + utc.microsecond // 1000


def parse_decimal(raw: str | None) -> Decimal | Invalid | None:
    """A finite Decimal (plain or exponent notation) below ``MAX_DECIMAL`` in magnitude; NaN,
    infinities, text and larger numbers are invalid."""
    text = parse_text(raw)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return Invalid(INVALID_NUMBER, text)
    if not number.is_finite() or (number and number.adjusted() >= _MAX_DECIMAL_EXPONENT):
        # Why the bound: money is rounded to cents within Decimal's 28 digits; a typo'd 30-digit
        # MRR would make that rounding raise and fail the whole run instead of this record.
        return Invalid(INVALID_NUMBER, text)
    return number


def parse_bool(raw: str | None) -> bool | Invalid | None:
    """HubSpot writes ``true``/``false``; people and imports also write yes/no, 1/0, on/off."""
    text = parse_text(raw)
    if text is None:
        return None
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return Invalid(INVALID_BOOL, text)


def parse_enum(raw: str | None, options: type[E]) -> E | Invalid | None:
    """The option whose internal value matches ``raw`` (case and surrounding space ignored)."""
    text = parse_text(raw)
    if text is None:
        return None
    try:
        return options(text.lower())
    except ValueError:
        return Invalid(INVALID_ENUM, text)


def parse_multi(raw: str | None) -> tuple[str, ...]:
    """The parts of a ``;``-joined multi-select value, stripped, empty parts dropped."""
    if raw is None:
        return ()
    return tuple(part for part in (p.strip() for p in raw.split(";")) if part)
