"""What each member may see, read from the program's store: ``ProgramView``.

One pass over the mirror and the last written outputs groups, per member code and per domain, the
member-facing outputs (DESIGN.md "Member portals", Out):

* a registration request the member made (on a company or a contact): status, reason, and the
  expiry only when the registration is the member's own (the expiry of another member's
  registration is that member's business);
* a deal attributed to the member with a commission plan: plan, earned, paid, and the next
  payout date and amount, on the domain of the deal's primary company (deals on one domain add
  up).

The mirror is read, not the outputs log: it holds the outputs as last read or written, so a
fresh store over a portal already in sync shows the same views.

Nothing else is ever put in a view: no other member's code, no input.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from config.contract import CrmContract
from mappers.fields import DEAL_TO_COMPANY_PRIMARY
from mappers.parse import parse_date, parse_decimal
from policies.domains import email_domain, registrable_domain
from sync.portals.contract import MemberContract
from sync.store import MirrorRecord, Store

__all__ = ["MemberView", "ProgramView"]

MemberView = dict[str, dict[str, str]]  # domain -> member-portal property -> value


@dataclass(slots=True)
class _Commission:
    plan: str = ""
    earned: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    payouts: dict[date, Decimal] = field(default_factory=dict)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _decimal(raw: str | None) -> Decimal:
    value = parse_decimal(raw)
    return value if isinstance(value, Decimal) else Decimal(0)


class ProgramView:
    """Member views at the time of ``build`` (see module). ``member(code)`` never fails."""

    def __init__(self, views: dict[str, MemberView]) -> None:
        self._views = views

    def member(self, code: str) -> MemberView:
        return self._views.get(code.upper(), {})

    @classmethod
    def build(cls, store: Store, contract: CrmContract) -> ProgramView:
        member = MemberContract(contract)
        views: dict[str, MemberView] = defaultdict(dict)
        _registrations(store, contract, member, views)
        _commissions(store, contract, views)
        return cls(dict(views))


def _request_domain(rec: MirrorRecord, outputs: Mapping[str, str | None],
                    contract: CrmContract) -> str | None:
    kept = outputs.get(contract.registered_domain)
    if kept:
        return kept
    props = rec.properties
    if rec.object_type == "companies":
        return registrable_domain(props.get("domain")) or registrable_domain(props.get("website"))
    return email_domain(props.get("email"))


def _registrations(store: Store, contract: CrmContract, member: MemberContract,
                   views: dict[str, MemberView]) -> None:
    for object_type in ("companies", "contacts"):  # companies first: they win a shared domain
        for rec in store.iter_records(object_type):
            written = rec.properties  # the mirror holds outputs as read and as last written
            code = (written.get(contract.registration_requested_by) or "").strip().upper()
            status = written.get(contract.registration_status)
            if not code or not status:
                continue  # no request, or not decided and written yet
            domain = _request_domain(rec, written, contract)
            if domain is None or contract.registration_status in views[code].get(domain, {}):
                continue
            own = (written.get(contract.registered_to) or "").strip().upper() == code
            expires = (written.get(contract.registration_expires_at) or "") if own else ""
            values = dict(zip(member.registration_outputs,
                              (status, written.get(contract.registration_reason) or "", expires),
                              strict=True))
            views[code].setdefault(domain, {}).update(values)


def _primary_company(links: list[str]) -> str | None:
    """The deal's primary company from mirrored links (``"id:type,type"``); a lone link counts
    as primary, several without a primary give none (the program reports that case)."""
    parsed = [(head, tail.split(",")) for head, _, tail in (link.partition(":") for link in links)]
    primary = [i for i, types in parsed if str(DEAL_TO_COMPANY_PRIMARY) in types]
    if len(primary) == 1:
        return primary[0]
    return parsed[0][0] if len(parsed) == 1 else None


def _commissions(store: Store, contract: CrmContract, views: dict[str, MemberView]) -> None:
    found: dict[tuple[str, str], _Commission] = {}
    owners: dict[str, tuple[str, str]] = {}  # deal id -> (member code, company id)
    outputs: dict[str, Mapping[str, str | None]] = {}
    for rec in store.iter_records("deals"):
        written = rec.properties
        code = (written.get(contract.attributed_to) or "").strip().upper()
        primary = _primary_company(rec.associations.get("companies") or [])
        if code and primary and written.get(contract.commission_plan) not in (None, "", "none"):
            owners[rec.object_id] = (code, primary)
            outputs[rec.object_id] = written
    company_recs = store.get_records("companies", {c for _, c in owners.values() if c})
    for deal_id in sorted(owners, key=lambda i: (len(i), i)):
        code, company_id = owners[deal_id]
        company = company_recs.get(company_id)
        if company is None:
            continue
        props = company.properties
        domain = registrable_domain(props.get("domain")) or registrable_domain(props.get("website"))
        if domain is None:
            continue
        written = outputs[deal_id]
        entry = found.setdefault((code, domain), _Commission(
            plan=written.get(contract.commission_plan) or ""))
        entry.earned += _decimal(written.get(contract.commission_earned))
        entry.paid += _decimal(written.get(contract.commission_paid))
        payout = parse_date(written.get(contract.deal_next_payout_date))
        if isinstance(payout, date):
            amount = _decimal(written.get(contract.deal_next_payout_amount))
            entry.payouts[payout] = entry.payouts.get(payout, Decimal(0)) + amount
    for (code, domain), entry in found.items():
        next_date = min(entry.payouts) if entry.payouts else None
        views[code].setdefault(domain, {}).update({
            contract.commission_plan: entry.plan,
            contract.commission_earned: _money(entry.earned),
            contract.commission_paid: _money(entry.paid),
            contract.member_next_payout_date: next_date.isoformat() if next_date else "",
            contract.member_next_payout_amount:
                _money(entry.payouts[next_date]) if next_date else "",
        })
