"""Policy outputs -> HubSpot property values, and the minimal patches that make the CRM agree.

``desired_outputs`` renders a ``ProgramResult`` in HubSpot's string forms: dates ``YYYY-MM-DD``,
money with exactly two decimals and no exponent, counts as integers, the commission rate as its
plain decimal (``0.2``), enumerations as option values, compliance reasons ``;``-joined, and ``""``
for "no value" (an empty string clears a HubSpot property). Registration outputs go on companies and
contacts, member outputs on member companies (merged with the same company's registration
outputs), deal outputs on deals.

``diff`` compares desired with current values *by property type* (numbers numerically, dates as
UTC dates whatever their form, absent == empty), so writing the desired values once and reading
them back yields no patch at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

from config.contract import CrmContract, ObjectType
from mappers.fields import sorted_ids
from mappers.parse import parse_bool, parse_date, parse_decimal, parse_multi
from policies.model import (
    DealOutput,
    MemberOutput,
    ProgramResult,
    RecordKind,
    RegistrationOutput,
)

__all__ = [
    "ObjectKey",
    "Patch",
    "clear_outputs",
    "deal_properties",
    "desired_outputs",
    "diff",
    "member_properties",
    "registration_properties",
]

ObjectKey = tuple[str, str]  # (HubSpot object type, record id)
_CENT = Decimal("0.01")
_OBJECT_TYPE = {RecordKind.COMPANY: "companies", RecordKind.CONTACT: "contacts"}
_OUTPUT_TYPES: dict[str, ObjectType] = {t: t for t in ("companies", "contacts", "deals")}


@dataclass(frozen=True, slots=True)
class Patch:
    """Properties to write on one record (only those whose value really differs).

    ``previous`` holds what the record showed for those properties before (absent: empty); a
    dry run's summary reads it. It takes no part in equality.
    """

    object_type: str
    object_id: str
    properties: Mapping[str, str]
    previous: Mapping[str, str | None] = field(default_factory=dict, compare=False)


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(_CENT, rounding=ROUND_HALF_UP):f}"


def _rate(value: Decimal | None) -> str:
    # normalize() drops trailing zeros (0.20 -> 0.2); "f" keeps it free of exponents (1E+2).
    return "" if value is None else f"{value.normalize():f}"


def _option(value: StrEnum | None) -> str:
    return "" if value is None else value.value


def registration_properties(out: RegistrationOutput, c: CrmContract) -> dict[str, str]:
    return {
        c.registration_status: out.status.value,
        c.registration_reason: out.reason,
        c.registered_to: out.registered_to or "",
        c.registered_domain: out.domain or "",
        c.registration_expires_at: _date(out.expires_at),
    }


def member_properties(out: MemberOutput, c: CrmContract) -> dict[str, str]:
    return {
        c.capacity_limit: str(out.capacity_limit),
        c.capacity_used: str(out.capacity_used),
        c.compliance_status: out.compliance_status.value,
        c.compliance_reasons: ";".join(out.compliance_reasons),
        c.gold_deadline: _date(out.gold_deadline),
        c.removal_date: _date(out.removal_date),
        c.commission_earned_total: _money(out.commission_earned_total),
        c.member_next_payout_date: _date(out.next_payout_date),
        c.member_next_payout_amount: _money(out.next_payout_amount),
    }


def deal_properties(out: DealOutput, c: CrmContract) -> dict[str, str]:
    return {
        c.deal_type: _option(out.deal_type),
        c.attribution: out.attribution.value,
        c.attribution_reason: out.attribution_reason,
        c.attributed_to: out.attributed_to or "",
        c.commission_plan: out.plan.value,
        c.commission_rate: _rate(out.rate),
        c.commission_start: _date(out.commission_start),
        c.commission_end: _date(out.commission_end),
        c.commission_status: out.commission_status.value,
        c.commission_earned: _money(out.earned),
        c.commission_paid: _money(out.paid),
        c.deal_next_payout_date: _date(out.next_payout_date),
        c.deal_next_payout_amount: _money(out.next_payout_amount),
    }


def desired_outputs(
    result: ProgramResult, contract: CrmContract
) -> dict[ObjectKey, dict[str, str]]:
    """Every output property of every record the result covers, as HubSpot strings."""
    out: dict[ObjectKey, dict[str, str]] = {}
    for (kind, record_id), registration in result.registrations.items():
        key = (_OBJECT_TYPE[kind], record_id)
        out.setdefault(key, {}).update(registration_properties(registration, contract))
    for company_id, member in result.members.items():
        key = ("companies", company_id)
        out.setdefault(key, {}).update(member_properties(member, contract))
    for deal_id, deal in result.deals.items():
        out.setdefault(("deals", deal_id), {}).update(deal_properties(deal, contract))
    return out


def clear_outputs(object_type: str, contract: CrmContract) -> dict[str, str]:
    """Every output property of ``object_type`` set to ``""``: for a record the result no longer
    covers (its request or membership was removed) but that still shows old outputs."""
    typed = _OUTPUT_TYPES.get(object_type)
    if typed is None:
        return {}
    return dict.fromkeys(sorted(contract.output_names(typed)), "")


def diff(
    desired: Mapping[ObjectKey, Mapping[str, str]],
    current: Mapping[ObjectKey, Mapping[str, str | None]],
    contract: CrmContract | None = None,
) -> list[Patch]:
    """Patches for the desired properties whose value differs from the current one.

    Values are compared after normalising by the property's type in ``contract`` (the default
    contract when None): numbers numerically (``"540"`` == ``"540.00"``), dates as UTC dates
    (``"2024-01-10"`` == ``"2024-01-10T00:00:00Z"`` == ``"1704844800000"``), bools by truth,
    compliance reasons as a set, text with surrounding space ignored; ``None`` == ``""``. A record
    missing from ``current`` counts as having no values. Patches come sorted by type then id.
    """
    kinds = _kinds(contract or _DEFAULT_CONTRACT)
    patches: list[Patch] = []
    for object_type in sorted({t for t, _ in desired}):
        ids = sorted_ids([i for t, i in desired if t == object_type])
        for object_id in ids:
            key = (object_type, object_id)
            now = current.get(key, {})
            # Equal text is equal after normalising too: only differing text is normalised.
            changed = {
                name: value
                for name, value in desired[key].items()
                if value != (held := now.get(name))
                and _normal(kinds.get((object_type, name)), value)
                != _normal(kinds.get((object_type, name)), held)
            }
            if changed:
                before = {name: now.get(name) for name in changed}
                patches.append(Patch(object_type, object_id, changed, before))
    return patches


_DEFAULT_CONTRACT = CrmContract()
_MULTI = "multi"


@lru_cache(maxsize=8)
def _kinds(contract: CrmContract) -> dict[tuple[str, str], str]:
    kinds: dict[tuple[str, str], str] = {
        (s.object_type, s.name): str(s.type) for s in contract.property_specs()
    }
    kinds[("companies", contract.compliance_reasons)] = _MULTI
    return kinds


def _normal(kind: str | None, raw: str | None) -> object:
    """A comparable form of ``raw``; unusable values stay as text (so they compare unequal)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    value: object
    if kind == "number":
        value = parse_decimal(text)
    elif kind in ("date", "datetime"):
        value = parse_date(text)
    elif kind == "bool":
        value = parse_bool(text)
    elif kind == _MULTI:
        return frozenset(parse_multi(text))
    else:
        return text
    return value if isinstance(value, Decimal | date | bool) else ("unusable", text)
