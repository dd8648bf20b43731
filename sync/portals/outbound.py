"""Out: a member's view onto the companies of its own portal, as minimal batch writes.

For each domain of the member's view, the portal's companies with that domain (search on
``domain``) get the view's values where they differ; a domain with no company gets one created
(``PARTNER_SYNC_PORTALS__CREATE_COMPANIES``, default on) or is reported as ``company_not_found``.
Companies that show member-facing outputs for a domain no longer in the view are cleared, so
nothing stale (or since moved to another member) stays visible. A run that changes nothing writes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mappers.parse import parse_date, parse_decimal
from policies.domains import registrable_domain
from policies.model import Problem
from sync.gateway import Gateway
from sync.portals.contract import MemberContract
from sync.portals.member_ops import create_companies, search_by_domain, search_having
from sync.portals.view import MemberView

__all__ = ["OutResult", "changes", "push_view"]


@dataclass(slots=True)
class OutResult:
    updated: int = 0
    created: int = 0
    cleared: int = 0
    problems: list[Problem] = field(default_factory=list)


def _normal(raw: str | None) -> object:
    """Comparable form: dates as dates, numbers as numbers, blank as None, else the text."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    for parse in (parse_decimal, parse_date):
        value = parse(text)
        if isinstance(value, Decimal | date):
            return value
    return text


def changes(desired: Mapping[str, str], current: Mapping[str, str | None]) -> dict[str, str]:
    """The desired values that differ from the current ones."""
    return {k: v for k, v in desired.items() if _normal(v) != _normal(current.get(k))}


def push_view(gateway: Gateway, view: MemberView, member: MemberContract, *,
              create: bool) -> OutResult:
    """Make the portal's companies show ``view`` (see module)."""
    result = OutResult()
    outputs = member.outputs
    updates: dict[str, dict[str, str]] = {}
    seen: set[str] = set()
    for rec in search_by_domain(gateway, list(view), outputs):
        domain = registrable_domain(rec.properties.get("domain"))
        if domain is None or domain not in view:
            continue
        seen.add(domain)
        patch = changes(view[domain], rec.properties)
        if patch:
            updates[rec.id] = patch
    shown = (member.program.registration_status, member.program.commission_plan)
    for rec in search_having(gateway, shown, ["domain", *outputs]):
        domain = registrable_domain(rec.properties.get("domain"))
        if rec.id in updates or (domain is not None and domain in view):
            continue
        stale = changes(dict.fromkeys(outputs, ""), rec.properties)
        if stale:
            updates[rec.id] = stale
            result.cleared += 1
    missing = sorted(set(view) - seen)
    if missing and create:
        inputs = [{"name": d, "domain": d, **{k: v for k, v in view[d].items() if v}}
                  for d in missing]
        made, failed = create_companies(gateway, inputs)
        result.created, result.problems = len(made), result.problems + failed
    else:
        result.problems += [Problem("company", d, "company_not_found",
                                    "no company with this domain in the member portal")
                            for d in missing]
    if updates:
        written = gateway.batch_update(
            "companies", [{"id": i, "properties": p} for i, p in sorted(updates.items())])
        result.updated = len(written.succeeded)
        result.problems += [Problem("company", ",".join(e.ids), "write_failed", e.message)
                            for e in written.errors]
    return result
