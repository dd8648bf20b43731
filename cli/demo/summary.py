"""The demo's figures, read back from the store (what the engine decided and wrote).

What a reader can rely on (every value is plain JSON: counts, ISO dates, money as strings with
two decimals):

- ``output_snapshot`` / ``output_changes``: the output values the records hold (from the
  mirror, which the engine updates with every write) and exactly which changed between two
  snapshots, record by record;
- ``build_summary``: registrations by status (companies and contacts), deals by attribution
  and by type, per member its commission earned, paid to date and next payout
  (``sync.statements.build_statement``: the same figures as ``partner-sync report``), the payout
  calendar (each future pay date -> amount per member and currency), the runs in the run log
  and the HubSpot API calls the gateway made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from config.contract import CrmContract
from policies.model import MonthState
from sync.statements import build_statement
from sync.store import Store

__all__ = ["OutputDiff", "build_summary", "output_changes", "output_snapshot"]

OutputType = Literal["companies", "contacts", "deals"]
OUTPUT_TYPES: tuple[OutputType, ...] = ("companies", "contacts", "deals")
Snapshot = dict[tuple[str, str], dict[str, str]]


@dataclass(frozen=True, slots=True)
class OutputDiff:
    object_type: str
    object_id: str
    property: str
    before: str | None
    after: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"object_type": self.object_type, "object_id": self.object_id,
                "property": self.property, "before": self.before, "after": self.after}


def output_snapshot(store: Store, c: CrmContract) -> Snapshot:
    """``{(type, id): {output property: value}}`` for every record holding an output."""
    snap: Snapshot = {}
    for object_type in OUTPUT_TYPES:
        names = c.output_names(object_type)
        for rec in store.iter_records(object_type):
            held = {n: v for n in names if (v := rec.properties.get(n))}
            if held:
                snap[(object_type, rec.object_id)] = held
    return snap


def output_changes(before: Snapshot, after: Snapshot) -> list[OutputDiff]:
    """Every (record, property) whose value differs, ordered by type, id and property."""
    found: list[OutputDiff] = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], int(k[1]))):
        old, new = before.get(key, {}), after.get(key, {})
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                found.append(OutputDiff(key[0], key[1], name, old.get(name), new.get(name)))
    return found


def _counts(store: Store, types: tuple[str, ...], prop: str) -> dict[str, int]:
    counter: Counter[str] = Counter()
    for object_type in types:
        for rec in store.iter_records(object_type):
            if value := rec.properties.get(prop):
                counter[value] += 1
    return dict(sorted(counter.items()))


def _members(store: Store, c: CrmContract, as_of: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    members = [r for r in store.iter_records("companies")
               if r.properties.get(c.program_type) and r.properties.get(c.code)]
    for rec in sorted(members, key=lambda r: r.properties.get(c.code) or ""):
        p = rec.properties
        code = p.get(c.code) or ""
        statement = build_statement(store, code, as_of, c)
        out.append({
            "code": code, "company_id": rec.object_id, "type": p.get(c.program_type),
            "tier": p.get(c.tier), "compliance": p.get(c.compliance_status),
            "totals": [t.to_dict() for t in statement.totals],
        })
    return out


def _calendar(store: Store, codes: list[str], as_of: date) -> dict[str, dict[str, dict[str, str]]]:
    """Future pay date -> member -> currency -> amount (payable months only)."""
    sums: dict[str, dict[str, dict[str, Decimal]]] = {}
    for code in codes:
        for m in store.ledger_for_member(code):
            if m.state is not MonthState.PAYABLE or m.pay_date is None or m.pay_date <= as_of:
                continue
            per_member = sums.setdefault(m.pay_date.isoformat(), {}).setdefault(code, {})
            currency = m.currency or ""
            per_member[currency] = per_member.get(currency, Decimal("0.00")) + m.amount
    return {day: {code: {cur: str(amount) for cur, amount in sorted(by_cur.items())}
                  for code, by_cur in sorted(members.items())}
            for day, members in sorted(sums.items())}


def _runs(store: Store) -> dict[str, Any]:
    runs = list(reversed(store.list_runs(limit=10_000)))
    return {
        "total": len(runs),
        "by_kind": dict(sorted(Counter(r.kind for r in runs).items())),
        "by_trigger": dict(sorted(Counter(r.trigger for r in runs).items())),
        "failed": sum(1 for r in runs if r.status == "failed"),
    }


def _api_calls(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    endpoints = snapshot.get("endpoints", {})
    return {
        "total": int(snapshot.get("totals", {}).get("calls", 0)),
        "rate_limited": int(snapshot.get("totals", {}).get("rate_limited", 0)),
        "by_endpoint": {label: int(s["calls"]) for label, s in sorted(endpoints.items())},
    }


def build_summary(
    store: Store, c: CrmContract, as_of: date, gateway_snapshot: Mapping[str, Any]
) -> dict[str, Any]:
    """The demo's closing figures at ``as_of`` (see module)."""
    members = _members(store, c, as_of)
    return {
        "as_of": as_of.isoformat(),
        "registrations_by_status": _counts(store, ("companies", "contacts"),
                                           c.registration_status),
        "deals_by_attribution": _counts(store, ("deals",), c.attribution),
        "deals_by_type": _counts(store, ("deals",), c.deal_type),
        "members": members,
        "payout_calendar": _calendar(store, [m["code"] for m in members], as_of),
        "runs": _runs(store),
        "api_calls": _api_calls(gateway_snapshot),
    }
