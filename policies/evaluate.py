"""The whole program at ``as_of``: ``evaluate_program(program, terms, as_of)``.

Deterministic whatever the order of the input tuples (everything is sorted by ids and dates),
pure (no I/O, no clock), and total: bad input becomes a reason code or a ``Problem``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from itertools import chain

from config.terms import ProgramTerms
from policies.compliance import MemberFacts, compliance, gold_deadline, removal_date
from policies.domains import CompanyDomains, FreeEmailDomains
from policies.ledger import DealBook, subscription_owners
from policies.members import MemberDirectory, capacity_at
from policies.model import (
    CommissionMonth,
    Company,
    Deal,
    Member,
    MemberOutput,
    Problem,
    Program,
    ProgramResult,
    RecordKind,
    RegistrationOutput,
    RegistrationStatus,
)
from policies.payouts import deal_figures
from policies.reasons import ProblemCode, Reason
from policies.registration import DomainFacts, VerdictKind, claim_status
from policies.requests import RequestTable
from policies.sweep import Sweep, SweepInput, id_ranks

__all__ = ["FAR_AHEAD", "evaluate_program"]

_COMPANY, _CONTACT = RecordKind.COMPANY, RecordKind.CONTACT
_NO_REASON = Reason.NONE

FAR_AHEAD = timedelta(days=366)
"""A request dated more than this after ``as_of`` is pending and reported ``request_far_ahead``."""


def evaluate_program(program: Program, terms: ProgramTerms, as_of: date) -> ProgramResult:
    """Apply R1-R9 to the whole program as it stood at ``as_of`` (§0)."""
    free = FreeEmailDomains(terms.domains.free_email_domains)
    directory = MemberDirectory(program.members)
    companies = {c.company_id: c for c in program.companies}
    domains = CompanyDomains(companies, free)
    requests, problems = _request_items(program, companies, domains)
    # one id_key order for every sort below: the requests, the events, the deals, R7.6 ties
    ranks = id_ranks(chain((key[1] for key in requests.keys), (d.deal_id for d in program.deals)))
    requests.reorder(_request_order(requests, ranks))
    inp = SweepInput(
        terms,
        as_of,
        directory,
        companies,
        _domain_facts(companies.values(), terms, domains),
        domains,
        requests,
        tuple(program.deals),
        program.decisions,
        ranks,
    )
    sweep = Sweep(inp).run()
    deals = DealBook(
        terms,
        as_of,
        {s.subscription_id: s for s in program.subscriptions},
        subscription_owners(program.deals, sweep.closes, sweep.closed_at, ranks),
    )
    for deal in sorted(program.deals, key=lambda d: ranks[d.deal_id]):
        deal_id = deal.deal_id
        kind, found = sweep.deal_types.get(deal_id), sweep.closes.get(deal_id)
        deals.add(deal, kind, found, sweep.closed_at.get(deal_id))
    problems += _deal_date_problems(program.deals)
    members = _member_outputs(program.members, sweep, deals, terms, as_of, problems)
    registrations = _registration_outputs(requests, sweep, terms, as_of, problems)
    problems = [*directory.problems, *problems, *sweep.problems, *deals.problems]
    return ProgramResult(
        as_of=as_of,
        registrations=registrations,
        deals=deals.outputs,
        members=members,
        decisions=sweep.decisions,
        ledger=tuple(deals.ledger),
        problems=tuple(
            sorted(set(problems), key=lambda p: (p.record_kind, p.record_id, p.code, p.detail))
        ),
    )


def _request_items(
    program: Program, companies: dict[str, Company], domains: CompanyDomains
) -> tuple[RequestTable, list[Problem]]:
    """Every company and contact carrying a request (a code or a date), with its R1.3 domain:
    companies first, then contacts, each in input order (see ``_request_order``)."""
    table = RequestTable()
    problems: list[Problem] = []
    for company in companies.values():
        req = company.request
        if req is not None and (req.requested_by or req.requested_at):
            domain = domains.domain(company)
            reason = _NO_REASON if domain is not None else domains.reason(company)
            table.append(_COMPANY, company.company_id, req, domain, reason)
    for contact in program.contacts:
        req = contact.request
        if req is None or not (req.requested_by or req.requested_at):
            continue
        if contact.primary_company_id and contact.primary_company_id not in companies:
            problems.append(
                Problem(
                    "contact",
                    contact.contact_id,
                    ProblemCode.UNKNOWN_COMPANY,
                    contact.primary_company_id,
                )
            )
        resolution = domains.contact(contact)
        table.append(_CONTACT, contact.contact_id, req, resolution.domain, resolution.reason)
    return table, problems


def _request_order(requests: RequestTable, ranks: Mapping[str, int]) -> list[int]:
    """The rows of ``requests`` in R2.1 order: companies, then contacts, each by ``id_key``.

    Ties (numeric ids of one value, ``7`` and ``007``) keep the contacts' input order and put
    companies in text order, the order of the companies' ids.
    """
    keys = requests.keys
    rows = [ranks[key[1]] for key in keys]
    companies = sum(1 for key in keys if key[0] is _COMPANY)  # the company rows come first
    if len(set(rows[:companies])) == companies:
        order = sorted(range(companies), key=rows.__getitem__)
    else:
        order = sorted(range(companies), key=lambda i: (rows[i], keys[i][1]))
    return order + sorted(range(companies, len(rows)), key=rows.__getitem__)


def _deal_date_problems(deals: Iterable[Deal]) -> list[Problem]:
    """A close date before the create date is reported; the close date still counts (R5)."""
    return [
        Problem(
            "deal",
            d.deal_id,
            ProblemCode.CLOSE_BEFORE_CREATE,
            f"closed {d.close_date.isoformat()}, created {d.create_date.isoformat()}",
        )
        for d in deals
        if d.close_date is not None and d.create_date is not None and d.close_date < d.create_date
    ]


# the four possible facts, shared by every domain
_FACTS = {(d, c): DomainFacts(d, c) for d in (False, True) for c in (False, True)}


def _domain_facts(
    companies: Iterable[Company], terms: ProgramTerms, domains: CompanyDomains
) -> dict[str, DomainFacts]:
    """R2.2.5/R2.2.6 per domain: any company of the domain owned by direct sales / a customer."""
    owners = {o.strip() for o in terms.deals.direct_sales_owner_ids}
    facts: dict[str, DomainFacts] = {}
    for company in companies:
        direct = company.owner_id is not None and company.owner_id.strip() in owners
        customer = (company.lifecycle_stage or "").strip().lower() == "customer"
        if not (direct or customer):
            continue  # only a direct-sales or customer company says anything about its domain
        domain = domains.domain(company)
        if domain is not None:
            old = facts.get(domain, _FACTS[False, False])
            facts[domain] = _FACTS[old.direct_sales or direct, old.customer or customer]
    return facts


def _registration_outputs(
    requests: RequestTable,
    sweep: Sweep,
    terms: ProgramTerms,
    as_of: date,
    problems: list[Problem],
) -> dict[tuple[RecordKind, str], RegistrationOutput]:
    """R2.9: records of a claim show the claim; others show their own rejection."""
    out: dict[tuple[RecordKind, str], RegistrationOutput] = {}
    for key, req, domain in zip(requests.keys, requests.requests, requests.domains, strict=True):
        kind, record_id = key
        claim = sweep.record_claims.get(key)
        verdict = sweep.verdicts.get(key)
        if claim is not None:
            held, why = claim_status(claim, as_of, terms)
            out[key] = RegistrationOutput(
                kind,
                record_id,
                held,
                str(why),
                claim.member.code,
                claim.domain,
                claim.expires,
            )
            continue
        if verdict is not None:
            stored = sweep.decisions.get(key)
            domain = stored.domain if stored is not None else domain
            status = (
                RegistrationStatus.UNAVAILABLE
                if verdict.kind is VerdictKind.UNAVAILABLE
                else RegistrationStatus.REJECTED
            )
            reason = str(verdict.reason)
        elif req.requested_at is None:
            status, reason = RegistrationStatus.REJECTED, str(Reason.MISSING_REQUEST_DATE)
            problems.append(Problem(kind.value, record_id, ProblemCode.MISSING_REQUEST_DATE))
        else:  # §0: dated after as_of, decided on the day its date is reached
            status, reason = RegistrationStatus.PENDING, str(Reason.REQUESTED_IN_FUTURE)
            if req.requested_at > as_of + FAR_AHEAD:  # most likely a typo'd year
                problems.append(
                    Problem(
                        kind.value,
                        record_id,
                        ProblemCode.REQUEST_FAR_AHEAD,
                        req.requested_at.isoformat(),
                    )
                )
        out[key] = RegistrationOutput(kind, record_id, status, reason, None, domain, None)
    return out


def _member_outputs(
    members: Iterable[Member],
    sweep: Sweep,
    deals: DealBook,
    terms: ProgramTerms,
    as_of: date,
    problems: list[Problem],
) -> dict[str, MemberOutput]:
    """R3 capacity, R8 totals and R9 compliance for every member."""
    lines = deals.member_lines
    if deals.repeated_deal_ids:  # a line then counts for its deal id's last attributed member
        lines = {}
        for line in deals.ledger:
            lines.setdefault(deals.member_of_deal[line.deal_id].company_id, []).append(line)
    out: dict[str, MemberOutput] = {}
    for member in sorted(members, key=lambda m: m.company_id):
        limit = capacity_at(member, as_of, terms.capacity)
        used = sweep.book.active_count(member, as_of)
        facts = MemberFacts(
            limit,
            used,
            member.company_id in deals.awaiting_paperwork,
            member.company_id in sweep.registered_members,
        )
        status, flags = compliance(member, facts, terms, as_of)
        own = _one_currency(member, lines.get(member.company_id, []), problems)
        figures = deal_figures(own, as_of)
        out[member.company_id] = MemberOutput(
            member.company_id,
            limit,
            used,
            status,
            flags,
            gold_deadline(member, terms),
            removal_date(member, terms, as_of),
            figures.earned,
            figures.next_payout_date,
            figures.next_payout_amount,
        )
    return out


def _one_currency(
    member: Member, lines: list[CommissionMonth], problems: list[Problem]
) -> list[CommissionMonth]:
    """§0 no FX: a member's totals use its first ledger currency; others are reported."""
    if not lines:
        return lines
    currency = lines[0].currency
    same = [line for line in lines if line.currency == currency]
    if len(same) != len(lines):
        problems.append(
            Problem(
                "member", member.company_id, ProblemCode.MIXED_CURRENCIES, f"totals in {currency}"
            )
        )
    return same
