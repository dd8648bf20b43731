"""Search filters compiled to predicates over records, with HubSpot's comparison rules.

Numbers compare numerically, dates and datetimes as epoch ms (filter values may be epoch ms or
ISO), ``hs_object_id`` as an integer; strings compare case-insensitively, enumerations exactly.
``associations.{type}`` filters match records linked to the given id.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandbox.errors import ApiError
from sandbox.schema import resolve_object_type
from sandbox.store import Record, TypeStore
from sandbox.values import parse_ms, to_number

__all__ = ["OPERATORS", "Predicate", "compile_filter", "sort_key"]

Predicate = Callable[[Record], bool]
Comparable = Decimal | int | str
OPERATORS = frozenset({"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
                       "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN",
                       "NOT_CONTAINS_TOKEN"})
_TOKEN_SPLIT = re.compile(r"[\s,;]+")
_LINKED = Callable[[str, int, str], list[tuple[int, list[int]]]]


def _invalid(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def _kind(store: TypeStore, name: str) -> str:
    if name == "hs_object_id":
        return "id"
    prop = store.props.get(name)
    if prop is None:
        return "string"
    return {"number": "number", "date": "date", "datetime": "date",
            "enumeration": "enum", "bool": "enum"}.get(prop.type, "string")


def _converter(kind: str) -> Callable[[str], Comparable | None]:
    if kind in ("number", "id"):
        return to_number
    if kind == "date":
        return parse_ms
    if kind == "enum":
        return lambda text: text
    return lambda text: text.lower()


def _getter(store: TypeStore, name: str, kind: str) -> Callable[[Record], Comparable | None]:
    if name == "hs_object_id":
        return lambda rec: Decimal(rec.id)
    if kind == "date":
        return lambda rec: store.epoch_ms(rec, name)
    convert = _converter(kind)

    def get(rec: Record) -> Comparable | None:
        value = store.raw(rec, name)
        return convert(value) if value else None

    return get


def sort_key(store: TypeStore, name: str) -> Callable[[Record], Comparable | None]:
    """A key function for sorting by ``name`` (None for records without a value)."""
    return _getter(store, name, _kind(store, name))


def _operand(filt: dict[str, Any], key: str, convert: Callable[[str], Any]) -> Any:
    raw = filt.get(key)
    if raw is None or isinstance(raw, dict | list):
        raise _invalid(f"Operator {filt.get('operator')} requires a value in '{key}'")
    converted = convert(str(raw).lower() if isinstance(raw, bool) else str(raw))
    if converted is None:
        raise _invalid(f"{raw} is not a valid value for property {filt.get('propertyName')}")
    return converted


def _token_match(pattern: str, text: str) -> bool:
    pattern, text = pattern.lower(), text.lower()
    tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
    if "*" in pattern:
        return fnmatch.fnmatchcase(text, pattern) or any(
            fnmatch.fnmatchcase(t, pattern) for t in tokens)
    return pattern in tokens or pattern == text


def compile_filter(store: TypeStore, filt: object, linked: _LINKED) -> Predicate:
    """A predicate for one search filter; 400 VALIDATION_ERROR for malformed filters."""
    if not isinstance(filt, dict):
        raise _invalid("Each filter must be an object")
    name, operator = filt.get("propertyName"), filt.get("operator", "EQ")
    if not isinstance(name, str) or not name:
        raise _invalid("Each filter needs a propertyName")
    if operator not in OPERATORS:
        raise _invalid(f"Invalid operator {operator!r}; use one of {sorted(OPERATORS)}")
    if name.startswith("associations."):
        return _association_filter(store, name, operator, filt, linked)
    kind = _kind(store, name)
    get = _getter(store, name, kind)
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        want = operator == "HAS_PROPERTY"
        return lambda rec: (get(rec) is not None) is want
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(_operand(filt, "value", lambda t: t))
        negate = operator == "NOT_CONTAINS_TOKEN"

        def tokens(rec: Record) -> bool:
            value = store.raw(rec, name)
            return bool(value) and _token_match(pattern, value or "")

        return (lambda rec: not tokens(rec)) if negate else tokens
    convert = _converter(kind)
    if operator in ("IN", "NOT_IN"):
        raw_values = filt.get("values")
        if not isinstance(raw_values, list):
            raise _invalid(f"Operator {operator} requires a list in 'values'")
        # HubSpot wants lowercase values for strings; values that do not convert match nothing.
        wanted = {v for v in (convert(str(r)) for r in raw_values) if v is not None}
        if operator == "IN":
            return lambda rec: get(rec) in wanted
        return lambda rec: get(rec) not in wanted
    value = _operand(filt, "value", convert)
    return _comparison(operator, get, value, filt, convert)


def _comparison(operator: str, get: Callable[[Record], Any], value: Any,
                filt: dict[str, Any], convert: Callable[[str], Any]) -> Predicate:
    if operator == "EQ":
        return lambda rec: get(rec) == value
    if operator == "NEQ":
        return lambda rec: get(rec) != value
    if operator == "BETWEEN":
        high = _operand(filt, "highValue", convert)
        return lambda rec: (v := get(rec)) is not None and value <= v <= high
    compare: dict[str, Callable[[Any], bool]] = {
        "LT": lambda v: v < value, "LTE": lambda v: v <= value,
        "GT": lambda v: v > value, "GTE": lambda v: v >= value,
    }
    check = compare[operator]

    def predicate(rec: Record) -> bool:
        current = get(rec)
        try:
            return current is not None and check(current)
        except TypeError:  # mixed kinds never match (e.g. a number filter on a text value)
            return False

    return predicate


def _association_filter(store: TypeStore, name: str, operator: str, filt: dict[str, Any],
                        linked: _LINKED) -> Predicate:
    to_type = resolve_object_type(name.split(".", 1)[1])
    if to_type is None:
        raise _invalid(f"Unknown association object type in {name}")
    if operator == "EQ":
        raw = [filt.get("value")]
    elif operator == "IN" and isinstance(filt.get("values"), list):
        raw = list(filt["values"])
    else:
        raise _invalid(f"{name} supports the EQ and IN operators")
    wanted = {int(v) for v in (str(r) for r in raw) if v.isascii() and v.isdigit()}
    from_type = store.type_name
    return lambda rec: any(to_id in wanted for to_id, _ in linked(from_type, rec.id, to_type))
