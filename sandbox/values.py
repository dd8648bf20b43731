"""Property value validation, normalisation and comparison, the way HubSpot treats values.

Every value is a string on the wire. Writes are checked against the property's type and
normalised to HubSpot's stored form: dates become ``YYYY-MM-DD`` (midnight UTC), datetimes ISO-8601
with milliseconds and ``Z``, booleans ``true``/``false``; an empty string clears a value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sandbox.schema import PropertyDef

__all__ = ["ValueProblem", "iso_ms", "normalize", "parse_ms", "to_number"]

_MAX_STRING = 65_536
_DAY_MS = 86_400_000


class ValueProblem(Exception):
    """A value HubSpot would refuse; ``code`` is HubSpot's error code (``INVALID_OPTION``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Day prefixes ("2024-03-05T") are shared by many timestamps, and "HH:MM:SS." strings by all
# days: table lookups make rendering a record ~7x cheaper than datetime.strftime (the sandbox's
# hottest function when serving batch reads).
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_PREFIX: dict[int, str] = {}
_CLOCK: tuple[str, ...] = ()
_MILLIS = tuple(f"{m:03d}Z" for m in range(1000))


def iso_ms(epoch_ms: int) -> str:
    """HubSpot's timestamp form: ``2022-02-17T19:22:45.581Z`` (UTC, milliseconds)."""
    days_, rest = divmod(epoch_ms, _DAY_MS)
    prefix = _DAY_PREFIX.get(days_)
    if prefix is None:
        prefix = date.fromordinal(days_ + _EPOCH_ORDINAL).isoformat() + "T"
        _DAY_PREFIX[days_] = prefix
    seconds, millis = divmod(rest, 1000)
    return prefix + _clock()[seconds] + _MILLIS[millis]


def _clock() -> tuple[str, ...]:
    # "HH:MM:SS." for every second of a day, built once on first use.
    global _CLOCK
    if not _CLOCK:
        _CLOCK = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}." for s in range(86_400))
    return _CLOCK


# Epoch milliseconds of 0001-01-01 and of the last millisecond of 9999-12-31: the range a
# timestamp can be rendered in. Beyond it a value is refused like any unparseable one.
_MIN_MS = (_EPOCH_ORDINAL - 1) * -_DAY_MS
_MAX_MS = (date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * _DAY_MS - 1


def parse_ms(raw: str) -> int | None:
    """Epoch milliseconds of an epoch-ms string, an ISO date or an ISO datetime; None if neither
    or if the moment lies outside years 1-9999 (so it can always be rendered)."""
    text = raw.strip()
    if not text:
        return None
    if text.isascii() and text.lstrip("-").isdigit():
        epoch_ms = int(text)
        return epoch_ms if _MIN_MS <= epoch_ms <= _MAX_MS else None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return (day - date(1970, 1, 1)).days * _DAY_MS
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # HubSpot reads naive timestamps as UTC
        moment = moment.replace(tzinfo=UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    return epoch_ms if _MIN_MS <= epoch_ms <= _MAX_MS else None


def to_number(raw: str) -> Decimal | None:
    """The value as a finite Decimal, or None."""
    try:
        number = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _as_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float | str):
        return str(raw)
    raise ValueProblem("INVALID_TYPE", f"{raw!r} is not a valid property value")


def normalize(prop: PropertyDef, raw: object) -> str:
    """The stored form of ``raw`` for ``prop``; raises ValueProblem when HubSpot would refuse it."""
    text = _as_text(raw)
    if text == "":
        return ""
    kind = prop.type
    if kind == "number":
        if to_number(text) is None:
            raise ValueProblem("INVALID_DECIMAL", f"{text} was not a valid number.")
        return text.strip()
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueProblem("INVALID_BOOLEAN", f"{text} was not a valid boolean.")
        return text.lower()
    if kind in ("date", "datetime"):
        return _normalize_date(prop, text)
    if kind == "enumeration":
        return _normalize_option(prop, text)
    if len(text) > _MAX_STRING:
        raise ValueProblem("INVALID_STRING", f"value for {prop.name} is longer than 65536 chars.")
    return text


def _normalize_date(prop: PropertyDef, text: str) -> str:
    epoch_ms = parse_ms(text)
    if epoch_ms is None:
        raise ValueProblem("INVALID_DATE", f"{text} was not a valid date or datetime.")
    if prop.type == "datetime":
        return iso_ms(epoch_ms)
    if epoch_ms % _DAY_MS != 0:
        raise ValueProblem("INVALID_DATE", f"{text} is at {iso_ms(epoch_ms)}, which is not "
                           "midnight UTC; date properties take midnight UTC values.")
    return iso_ms(epoch_ms)[:10]


def _normalize_option(prop: PropertyDef, text: str) -> str:
    if prop.external_options:
        return text
    # Multi-select (checkbox) values are ';'-joined; every part must be an option.
    parts = text.split(";") if prop.field_type == "checkbox" else [text]
    for part in parts:
        if part not in prop.options:
            raise ValueProblem(
                "INVALID_OPTION",
                f"{part} was not one of the allowed options: "
                + ", ".join(f"[label: {o}\nvalue: {o}]" for o in prop.options),
            )
    return text
