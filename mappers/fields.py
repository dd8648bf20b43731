"""Reading typed fields off one ``RawRecord`` while collecting data problems.

``FieldReader`` is the one place where a parse failure becomes a ``policies.model.Problem``: the
field is then left ``None`` (or its documented default) and mapping goes on. Also here: HubSpot's
own property names (they never change, unlike the contract's custom names) and the choice of a
record's primary association.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final, TypeVar

from mappers.parse import Invalid, parse_bool, parse_date, parse_decimal, parse_enum
from mappers.records import AssociationRef, RawRecord
from policies.model import Problem

__all__ = [
    "AMBIGUOUS_PRIMARY_COMPANY",
    "CONTACT_TO_COMPANY_PRIMARY",
    "DEAL_TO_COMPANY_PRIMARY",
    "FieldReader",
    "HubSpotNames",
    "id_order",
    "primary_id",
    "sorted_ids",
]

E = TypeVar("E", bound=StrEnum)

AMBIGUOUS_PRIMARY_COMPANY: Final = "ambiguous_primary_company"
# HUBSPOT_DEFINED association type ids of the primary label (research §4).
CONTACT_TO_COMPANY_PRIMARY: Final = 1
DEAL_TO_COMPANY_PRIMARY: Final = 5


class HubSpotNames:
    """HubSpot-defined property names the worker reads (not configurable, not prefixed)."""

    DOMAIN: Final = "domain"
    WEBSITE: Final = "website"
    OWNER_ID: Final = "hubspot_owner_id"
    LIFECYCLE_STAGE: Final = "lifecyclestage"
    EMAIL: Final = "email"
    CONTACT_COMPANY_ID: Final = "associatedcompanyid"  # a contact's primary company, as a property
    DEAL_STAGE: Final = "dealstage"
    CLOSE_DATE: Final = "closedate"
    CREATE_DATE: Final = "createdate"
    DEAL_CURRENCY: Final = "deal_currency_code"
    SUB_STATUS: Final = "hs_status"
    SUB_START: Final = "hs_recurring_billing_start_date"
    SUB_END: Final = "hs_recurring_billing_end_date"
    SUB_MRR: Final = "hs_mrr"
    SUB_CURRENCY: Final = "hs_currency_code"


class FieldReader:
    """Typed reads of one record's properties; every unusable value is appended to ``problems``.

    ``kind`` is the ``Problem.record_kind`` reported ("company", "member", "deal", ...).
    """

    __slots__ = ("kind", "problems", "record")

    def __init__(self, record: RawRecord, kind: str, problems: list[Problem]) -> None:
        self.record = record
        self.kind = kind
        self.problems = problems

    def report(self, code: str, detail: str) -> None:
        self.problems.append(Problem(self.kind, self.record.object_id, code, detail))

    def text(self, name: str) -> str | None:
        raw = self.record.properties.get(name)
        # Inlined parse_text: this is the hot path of a 1.4M-record mapping.
        return (raw.strip() or None) if raw else None

    def lower(self, name: str) -> str | None:
        value = self.text(name)
        return None if value is None else value.lower()

    def date(self, name: str) -> date | None:
        raw = self.record.properties.get(name)
        if not raw:
            return None
        value = parse_date(raw)
        if isinstance(value, Invalid):
            self.report(value.code, f"{name}={raw!r}")
            return None
        return value

    def decimal(self, name: str) -> Decimal | None:
        raw = self.record.properties.get(name)
        value = parse_decimal(raw)
        if isinstance(value, Invalid):
            self.report(value.code, f"{name}={raw!r}")
            return None
        return value

    def flag(self, name: str) -> bool:
        """A bool property; absent, empty or unusable (reported) reads as False."""
        raw = self.record.properties.get(name)
        value = parse_bool(raw)
        if isinstance(value, Invalid):
            self.report(value.code, f"{name}={raw!r}")
            return False
        return bool(value)

    def option(self, name: str, options: type[E], code: str) -> E | None:
        """An enumeration; an unknown option is reported with ``code`` and read as None."""
        raw = self.record.properties.get(name)
        value = parse_enum(raw, options)
        if isinstance(value, Invalid):
            self.report(code, f"{name}={raw!r}")
            return None
        return value


def primary_id(
    record: RawRecord, to_type: str, primary_type_id: int, problems: list[Problem], kind: str
) -> str | None:
    """The id of the record's primary association to ``to_type``.

    The association carrying the primary type id wins. Without one, a lone association is taken
    as primary (HubSpot makes the first associated company primary, and v3 reads may list only the
    unlabeled type). Several candidates and no single primary: None and a problem
    ``ambiguous_primary_company``.
    """
    refs: tuple[AssociationRef, ...] = record.associations.get(to_type, ())
    if not refs:
        return None
    primaries = [ref.to_id for ref in refs if primary_type_id in ref.type_ids]
    if len(primaries) == 1:
        return primaries[0]
    if not primaries and len(refs) == 1:
        return refs[0].to_id
    candidates = primaries or [ref.to_id for ref in refs]
    problems.append(
        Problem(kind, record.object_id, AMBIGUOUS_PRIMARY_COMPANY,
                f"{to_type}: {', '.join(sorted_ids(candidates))}")
    )
    return None


def sorted_ids(ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """HubSpot ids in numeric order (non-numeric ids after, in text order); duplicates dropped."""
    return tuple(sorted(set(ids), key=id_order))


def id_order(record_id: str) -> tuple[int, int, str]:
    """Sort key of a HubSpot id: numeric ids by value, then any other id by text."""
    if record_id.isascii() and record_id.isdigit():
        return (0, int(record_id), "")
    return (1, 0, record_id)
