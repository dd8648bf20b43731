"""Data-problem report: what the run log, ``doctor`` and ``report`` print about unusable records.

``build_report`` turns the problems of the mappers and of the rules engine into sorted,
de-duplicated lines that each name the problem code, the record, a detail and the POLICY.md rule
id behind it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from mappers.fields import id_order
from policies.model import Problem

__all__ = ["ProblemLine", "ProblemReport", "build_report", "rule_for"]

# Problem code -> the rule (POLICY.md / DESIGN.md "Bad input") that makes the value unusable.
_RULES = {
    # mappers: values that cannot be parsed (POLICY.md §0: dates, money)
    "invalid_date": "§0",
    "invalid_number": "§0",
    "invalid_bool": "§0",
    "invalid_enum": "§0",
    # mappers: members and requests
    "unknown_program_type": "R2.1",
    "incomplete_registration_request": "R2.1",
    "invalid_registration_status": "R2.3",
    "unknown_tier": "R3",
    "unknown_program_exit": "R9.2",
    "unknown_hubspot_plan": "R9.4",
    # mappers: associations and deals
    "ambiguous_primary_company": "R1.3",
    "missing_close_date": "R5",
    # rules engine (policies.reasons.ProblemCode) codes met in the same report
    "unknown_partner_code": "R2.1",
    "duplicate_partner_code": "R2.1",
    "member_without_code": "R2.1",
    "missing_request_date": "R2.1",
    "member_without_join_date": "R2.2.1",
    "invalid_domain": "R1.2",
    "free_email_domain": "R1.2",
    "ignored_reregistration": "R2.6",
    "ignored_deregistration": "R2.7",
    "missing_create_date": "R4",
    "unknown_company": "R5",
    "deal_without_company": "R5",
    "override_without_reason": "R5.5",
    "unknown_subscription": "R7",
    "subscription_counted_elsewhere": "R7.6",
    "request_far_ahead": "§0",
    "close_before_create": "R5",
    "subscription_without_start": "R7.1",
    "subscription_without_mrr": "R7.3",
    "mixed_currencies": "§0",
}


def rule_for(code: str) -> str:
    """The rule id behind a problem code, ``""`` when the code is not one we know."""
    return _RULES.get(code, "")


@dataclass(frozen=True, slots=True, order=True)
class ProblemLine:
    """One reportable problem on one record."""

    record_kind: str
    record_id: str
    code: str
    detail: str
    rule_id: str

    def as_row(self) -> dict[str, str]:
        """A flat row for CSV/JSON output and structured logs."""
        return {
            "code": self.code,
            "record_kind": self.record_kind,
            "record_id": self.record_id,
            "detail": self.detail,
            "rule_id": self.rule_id,
        }


@dataclass(frozen=True, slots=True)
class ProblemReport:
    """Problem lines sorted by record kind, record id (numerically), code and detail."""

    lines: tuple[ProblemLine, ...] = ()

    def counts(self) -> dict[str, int]:
        """Lines per problem code, most frequent first (ties by code)."""
        counted = Counter(line.code for line in self.lines)
        return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))

    def for_record(self, record_kind: str, record_id: str) -> tuple[ProblemLine, ...]:
        return tuple(
            line for line in self.lines
            if line.record_kind == record_kind and line.record_id == record_id
        )

    def rows(self) -> list[dict[str, str]]:
        return [line.as_row() for line in self.lines]


def build_report(problems: Iterable[Problem]) -> ProblemReport:
    """The report of ``problems`` (from any source); identical problems are listed once."""
    unique = {
        ProblemLine(p.record_kind, p.record_id, p.code, p.detail, rule_for(p.code))
        for p in problems
    }
    return ProblemReport(tuple(sorted(unique, key=_order)))


def _order(line: ProblemLine) -> tuple[str, tuple[int, int, str], str, str]:
    return (line.record_kind, id_order(line.record_id), line.code, line.detail)
