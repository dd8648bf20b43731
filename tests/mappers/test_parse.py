"""Parsing of every HubSpot value format (POLICY.md §0): typed value, None, or a problem."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappers.parse import (
    INVALID_BOOL,
    INVALID_DATE,
    INVALID_ENUM,
    INVALID_NUMBER,
    Invalid,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_enum,
    parse_multi,
    parse_text,
    parse_timestamp_ms,
)
from policies.model import Tier


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-10", date(2024, 1, 10)),
        (" 2024-02-29 ", date(2024, 2, 29)),
        ("2024-01-10T00:00:00Z", date(2024, 1, 10)),
        ("2024-01-10T00:00:00.000Z", date(2024, 1, 10)),
        ("2024-01-10T23:59:59.999Z", date(2024, 1, 10)),
        ("2024-01-10T01:30:00+02:00", date(2024, 1, 9)),  # 23:30 UTC the day before
        ("2024-01-10T22:30:00-05:00", date(2024, 1, 11)),  # 03:30 UTC the day after
        ("2024-01-10T12:00:00", date(2024, 1, 10)),  # naive: read as UTC, like HubSpot
        ("1704844800000", date(2024, 1, 10)),
        ("1704931199999", date(2024, 1, 10)),  # last millisecond of the day
        ("0", date(1970, 1, 1)),
        ("-86400000", date(1969, 12, 31)),
    ],
)
def test_parse_date_accepts_every_hubspot_form(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_parse_date_empty_is_none(raw: str | None) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize(
    "raw",
    ["2024-02-30", "2023-02-29", "2024-13-01", "yesterday", "10/01/2024", "2024-1-10",
     "2024-01-10T25:00:00Z", "99999999999999999999", "1.5e12", "abcd-01-10", "NaN"],
)
def test_parse_date_bad_values_are_problems(raw: str) -> None:
    result = parse_date(raw)
    assert result == Invalid(INVALID_DATE, raw)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_parse_date_three_forms_agree(day: date) -> None:
    epoch_ms = (day - date(1970, 1, 1)).days * 86_400_000
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.isoformat()}T00:00:00.000Z") == day
    assert parse_date(str(epoch_ms)) == day


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-10T00:00:00.123Z", 1704844800123),
        ("1704844800000", 1704844800000),
        ("2024-01-10", 1704844800000),
        ("2024-01-10T02:00:00+02:00", 1704844800000),
    ],
)
def test_parse_timestamp_ms(raw: str, expected: int) -> None:
    assert parse_timestamp_ms(raw) == expected


def test_parse_timestamp_ms_empty_and_bad() -> None:
    assert parse_timestamp_ms("") is None
    assert parse_timestamp_ms(None) is None
    assert isinstance(parse_timestamp_ms("soon"), Invalid)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("540", Decimal("540")), ("540.00", Decimal("540.00")), (" -12.5 ", Decimal("-12.5")),
     ("1E+3", Decimal("1000")), ("0.2", Decimal("0.2"))],
)
def test_parse_decimal(raw: str, expected: Decimal) -> None:
    assert parse_decimal(raw) == expected


def test_parse_decimal_accepts_just_below_the_bound() -> None:
    assert parse_decimal("999999999999999.99") == Decimal("999999999999999.99")
    assert parse_decimal("-999999999999999") == Decimal("-999999999999999")
    assert parse_decimal("0E+40") == Decimal(0)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-inf", "12,50", "1,234.00", "ten", "1.2.3",
                                 "1000000000000000", "-1E+15", "1" + "0" * 30, "1e999999"])
def test_parse_decimal_bad_values_are_problems(raw: str) -> None:
    result = parse_decimal(raw)
    assert isinstance(result, Invalid)
    assert result.code == INVALID_NUMBER


def test_parse_decimal_empty_is_none() -> None:
    assert parse_decimal("") is None
    assert parse_decimal(None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("false", False), ("TRUE", True), (" False ", False), ("1", True),
     ("0", False), ("yes", True), ("no", False)],
)
def test_parse_bool(raw: str, expected: bool) -> None:
    assert parse_bool(raw) is expected


def test_parse_bool_bad_and_empty() -> None:
    assert parse_bool("maybe") == Invalid(INVALID_BOOL, "maybe")
    assert parse_bool("") is None
    assert parse_bool(None) is None


def test_parse_enum() -> None:
    assert parse_enum("gold", Tier) is Tier.GOLD
    assert parse_enum(" Platinum ", Tier) is Tier.PLATINUM
    assert parse_enum("", Tier) is None
    assert parse_enum("bronze", Tier) == Invalid(INVALID_ENUM, "bronze")


def test_parse_text_and_multi() -> None:
    assert parse_text("  acme  ") == "acme"
    assert parse_text(" ") is None
    assert parse_multi("a; b;;c ") == ("a", "b", "c")
    assert parse_multi("") == ()
    assert parse_multi(None) == ()


@given(st.text(max_size=40))
def test_parsers_never_raise(raw: str) -> None:
    for parser in (parse_date, parse_decimal, parse_bool, parse_timestamp_ms, parse_text):
        parser(raw)
    parse_enum(raw, Tier)


@pytest.mark.parametrize("raw", ["²", "１２３", "-٣"])
def test_non_ascii_digits_are_not_numbers(raw: str) -> None:
    assert isinstance(parse_date(raw), Invalid)
    assert isinstance(parse_timestamp_ms(raw), Invalid)
