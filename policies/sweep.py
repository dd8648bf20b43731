"""The chronological sweep (R2.1, R2.3, R4, R5): every dated event of the program, in order.

Events up to ``as_of`` (§0) are sorted by date, then phase, then object id:
re-registrations (0) [decision R2.6: the former holder's re-registration goes before new
requests of the same day], company requests (1), contact requests (2), shared-deal requests
(3) [decision R2.1/R4.1: a deal's implied request comes after explicit requests of the same
day], then deal closes (4) [R5.3: a registration decided on the close date qualifies].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from config.terms import ProgramTerms
from policies.claims import Claim, ClaimBook
from policies.deals import Attributed, attribute_at_close, shared_deal_type, unattributed
from policies.domains import CompanyDomains
from policies.members import MemberDirectory
from policies.model import (
    Attribution,
    Company,
    Deal,
    DealType,
    Decision,
    ExitKind,
    Member,
    Problem,
    RecordKind,
    RegistrationRequest,
)
from policies.reasons import ProblemCode, Reason
from policies.registration import (
    NO_FACTS,
    DomainFacts,
    Verdict,
    VerdictKind,
    check_request,
    plain_verdict,
    reregister,
)
from policies.requests import RequestTable, decide_request

__all__ = ["Sweep", "SweepInput", "id_key", "id_ranks"]

Key = tuple[RecordKind, str]


def id_key(object_id: str) -> tuple[int, int, str]:
    """HubSpot ids are numeric strings: order them as numbers, anything else after, by text."""
    numeric = object_id.isascii() and object_id.isdigit()  # "²".isdigit() too, but int() fails
    return (0, int(object_id), "") if numeric else (1, 0, object_id)


def id_ranks(ids: Iterable[str]) -> dict[str, int]:
    """Each id's position in ``id_key`` order; ids with equal keys (``7``, ``007``) tie.

    ``id_key`` puts numeric ids first, by value, then the others by text; sorting the two
    groups apart (ints, then distinct strings) gives that order without a key tuple per id.
    Sorting by the rank is sorting by ``id_key`` (a stable sort keeps ties in input order), and
    one rank table serves every sort of an evaluation (ranks of any subset keep their order).
    """
    distinct = set(ids)
    numeric = [i for i in distinct if i.isdigit() and i.isascii()]
    if not numeric:  # HubSpot ids always are; ids of other sources may not be
        return {object_id: r for r, object_id in enumerate(sorted(distinct))}
    value_rank = {v: r for r, v in enumerate(sorted({int(i) for i in numeric}))}
    ranks = {i: value_rank[int(i)] for i in numeric}
    after = len(value_rank)
    for r, object_id in enumerate(sorted(distinct.difference(numeric))):
        ranks[object_id] = after + r
    return ranks


# event phases: their order is the R2.1 order of events of one day (see module docstring)
_REREG, _COMPANY, _CONTACT, _SHARED, _CLOSE = range(5)
# read per event: a module global is cheaper to load than an Enum member on 3.11
_LEFT, _COMPANY_KIND, _REGISTER = ExitKind.LEFT, RecordKind.COMPANY, VerdictKind.REGISTER
_UNATTRIBUTED = Attribution.UNATTRIBUTED
_DEAL_WITHOUT_COMPANY, _NO_REASON = Reason.DEAL_WITHOUT_COMPANY, Reason.NONE
_WITHOUT_COMPANY = unattributed(Reason.DEAL_WITHOUT_COMPANY)


@dataclass(frozen=True, slots=True)
class SweepInput:
    """What the sweep reads: terms, as_of, members, companies, per-domain facts, requests, deals."""

    terms: ProgramTerms
    as_of: date
    directory: MemberDirectory
    companies: Mapping[str, Company]
    facts: Mapping[str, DomainFacts]
    domains: CompanyDomains
    requests: RequestTable
    deals: tuple[Deal, ...]
    decisions: Mapping[Key, Decision]
    ranks: Mapping[str, int]  # ``id_ranks`` of every request's and deal's id (at least)


@dataclass(slots=True)
class Sweep:
    """The sweep's state and findings; run with ``Sweep(inp).run()``."""

    inp: SweepInput
    book: ClaimBook = field(default_factory=ClaimBook)
    record_claims: dict[Key, Claim] = field(default_factory=dict)
    verdicts: dict[Key, Verdict] = field(default_factory=dict)
    decisions: dict[Key, Decision] = field(default_factory=dict)
    deal_types: dict[str, tuple[DealType, str]] = field(default_factory=dict)
    closes: dict[str, Attributed] = field(default_factory=dict)  # R5 outcome of each close
    closed_at: dict[str, date] = field(default_factory=dict)  # and its date
    registered_members: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    # what deciding a request reads (``RequestContext``), as plain attributes of the hot path
    terms: ProgramTerms = field(init=False)
    directory: MemberDirectory = field(init=False)
    stored_decisions: Mapping[Key, Decision] = field(init=False)
    _expiry: timedelta = field(init=False)  # R2.2.8: a new claim's term

    def __post_init__(self) -> None:
        self.terms = self.inp.terms
        self.directory = self.inp.directory
        self.stored_decisions = self.inp.decisions
        self._expiry = timedelta(days=self.inp.terms.registration.expiry_days)

    def run(self) -> Sweep:
        """Process every event dated on or before ``as_of`` in R2.1 order; returns ``self``."""
        requests, deals = self.inp.requests.requests, self.inp.deals
        keys, ref_bits, phase_shift = self._events()
        keys.sort()
        ref_mask = (1 << ref_bits) - 1
        # each event's date is its record's (an event exists only for a record with the date)
        for key in keys:
            ref, phase = key & ref_mask, key >> phase_shift & 7
            if phase == _CLOSE:
                deal = deals[ref]
                if deal.close_date is not None:
                    self._on_close(deal, deal.close_date)
            elif phase == _SHARED:
                deal = deals[ref]
                if deal.create_date is not None:
                    self._on_shared(deal, deal.create_date)
            elif phase == _REREG:
                r = requests[ref].reregistration_requested_at
                if r is not None:
                    self._on_rereg(ref, r)
            else:
                t = requests[ref].requested_at
                if t is not None:
                    self._on_request(ref, t)
        return self

    def _events(self) -> tuple[list[int], int, int]:
        """Every event as one int sort key: its day, phase, object id rank and ``ref`` (its
        position in ``requests`` or ``deals``) in bit fields, most significant first.

        ``rank`` orders object ids as ``id_key`` does (equal keys, equal rank), and events of
        one day, phase and rank are of one kind, so ``ref`` orders them as the (kind, id)-sorted
        input does: plain int order is the R2.1 order with deterministic ties, without a tuple
        or a handler object per event (the events are the sweep's largest allocation). The
        event's date is its record's, found again from the phase. Also returns the width of
        the ``ref`` field and the shift of the phase field.
        """
        as_of = self.inp.as_of
        closed_won = frozenset(s.strip().lower() for s in self.inp.terms.deals.closed_won_stages)
        ranks, table, deals = self.inp.ranks, self.inp.requests, self.inp.deals
        ref_bits = max(len(table), len(deals), 1).bit_length()
        phase_shift = ref_bits + len(ranks).bit_length()
        keys: list[int] = []
        for ref, (key, req) in enumerate(zip(table.keys, table.requests, strict=True)):
            record_id = key[1]
            t = req.requested_at
            if t is not None and t <= as_of:
                phase = _COMPANY if key[0] is _COMPANY_KIND else _CONTACT
                keys.append(
                    (t.toordinal() << 3 | phase) << phase_shift | ranks[record_id] << ref_bits | ref
                )
            r = req.reregistration_requested_at
            if r is not None and r <= as_of:
                keys.append(
                    (r.toordinal() << 3 | _REREG) << phase_shift
                    | ranks[record_id] << ref_bits
                    | ref
                )
        for ref, deal in enumerate(deals):
            t = deal.create_date
            if deal.shared_by and t is not None and t <= as_of:
                keys.append(
                    (t.toordinal() << 3 | _SHARED) << phase_shift
                    | ranks[deal.deal_id] << ref_bits
                    | ref
                )
            c = deal.close_date
            if c is not None and c <= as_of and (deal.stage or "").strip().lower() in closed_won:
                keys.append(
                    (c.toordinal() << 3 | _CLOSE) << phase_shift
                    | ranks[deal.deal_id] << ref_bits
                    | ref
                )
        return keys, ref_bits, phase_shift

    # -- registration requests (R2) ---------------------------------------------------------

    def _on_request(self, ref: int, t: date) -> None:
        table = self.inp.requests
        verdict, decision, claim = decide_request(self, table, ref, t)
        key = table.keys[ref]
        if verdict.claim is not None:  # kept for its kind and reason: the claim is held elsewhere
            verdict = plain_verdict(verdict.kind, verdict.reason)
        self.verdicts[key] = verdict
        if decision is not None:
            self.decisions[key] = decision
        if claim is not None:
            self.record_claims[key] = claim
            if table.requests[ref].deregistration_requested_at is not None:
                self._apply_deregistration(claim, table.requests[ref], t)

    def _apply_deregistration(self, claim: Claim, req: RegistrationRequest, t: date) -> None:
        """R2.7: a record's deregistration date ends its claim from x (ignored before t)."""
        x = req.deregistration_requested_at
        if x is None or x > self.inp.as_of or x < t:
            return
        if claim.dereg_at is None or x < claim.dereg_at:
            claim.dereg_at = x
            self.book.end_changed(claim)

    def _on_rereg(self, ref: int, r: date) -> None:
        key = self.inp.requests.keys[ref]
        claim = self.record_claims.get(key)
        reason = Reason.NO_REGISTRATION if claim is None else None
        if claim is not None:
            reason = reregister(self.book, self.inp.terms, claim, r)
        if reason is not None:
            kind, record_id = key
            self.problems.append(
                Problem(
                    kind.value,
                    record_id,
                    ProblemCode.IGNORED_REREGISTRATION,
                    reason.value,
                )
            )

    def open_claim(self, member: Member, domain: str, t: date) -> Claim:
        """R2.2.8: a new claim expiring ``t + expiry_days``; a member that left ends it (R9.2)."""
        claim = self.book.open(member, domain, t, t + self._expiry)
        if member.exit is _LEFT and member.exit_at is not None:
            claim.left_at = member.exit_at
            self.book.end_changed(claim)
        self.registered_members.add(member.company_id)
        return claim

    def facts_of(self, domain: str | None) -> DomainFacts:
        return self.inp.facts.get(domain, NO_FACTS) if domain is not None else NO_FACTS

    def lookup_member(self, code: str | None, kind: str, record_id: str) -> Member | None:
        """The member a code names; an unknown non-empty code is a data problem."""
        member = self.inp.directory.get(code)
        if member is None and code and code.strip():
            self.problems.append(Problem(kind, record_id, ProblemCode.UNKNOWN_PARTNER_CODE, code))
        return member

    # -- deals (R4, R5) ---------------------------------------------------------------------

    def _deal_company(self, deal: Deal) -> Company | None:
        if deal.primary_company_id is None:
            return None
        return self.inp.companies.get(deal.primary_company_id)

    def _on_shared(self, deal: Deal, t: date) -> None:
        sharer = self.lookup_member(deal.shared_by, "deal", deal.deal_id)
        company = self._deal_company(deal)
        if company is None:
            domain, reason = None, _DEAL_WITHOUT_COMPANY
        else:
            domain = self.inp.domains.domain(company)
            reason = _NO_REASON if domain is not None else self.inp.domains.reason(company)
        verdict = check_request(
            self.book, self.inp.terms, self.facts_of(domain), sharer, domain, reason, t
        )
        if verdict.kind is _REGISTER and sharer is not None and domain:
            self.open_claim(sharer, domain, t)  # R4.1
        self.deal_types[deal.deal_id] = shared_deal_type(verdict, deal)

    def _on_close(self, deal: Deal, c: date) -> None:
        company = self._deal_company(deal)
        if company is None:
            self.closes[deal.deal_id], self.closed_at[deal.deal_id] = _WITHOUT_COMPANY, c
            return
        domains = self.inp.domains
        domain = domains.domain(company)
        sharer = self.inp.directory.get(deal.shared_by)
        # the company's other domains only explain a sharer's domain mismatch (R5.6); with
        # one of domain and website set, a resolved domain is the company's only one
        others: list[str] = []
        if sharer is not None and (
            domain is None or (company.domain is not None and company.website is not None)
        ):
            others = [d for d in domains.all_of(company) if d != domain]
        found = attribute_at_close(
            self.book,
            self.facts_of(domain),
            domain,
            others,
            sharer,
            self._override(deal) if deal.override_code else None,
            deal.cross_sell_confirmed,
            c,
        )
        if found.attribution is _UNATTRIBUTED and domain is None:
            found = unattributed(domains.reason(company))
        if (
            found.attribution is _UNATTRIBUTED
            and deal.override_code
            and _override_lacks_reason(deal)
        ):
            # R5.5: the admin meant an override; say on the deal why it did not take.
            found = unattributed(Reason.OVERRIDE_WITHOUT_REASON)
        if found.claim is not None:  # R2.8: the registration converts at c
            found.claim.converted_at = c
            self.book.end_changed(found.claim)
        self.closes[deal.deal_id], self.closed_at[deal.deal_id] = found, c

    def _override(self, deal: Deal) -> Member | None:
        """R5.5: an override counts only with a non-empty reason and a known member."""
        if not (deal.override_code and deal.override_code.strip()):
            return None
        if not (deal.override_reason and deal.override_reason.strip()):
            self.problems.append(
                Problem(
                    "deal", deal.deal_id, ProblemCode.OVERRIDE_WITHOUT_REASON, deal.override_code
                )
            )
            return None
        return self.lookup_member(deal.override_code, "deal", deal.deal_id)


def _override_lacks_reason(deal: Deal) -> bool:
    """R5.5: an override code is set but its reason is empty (reported as a Problem too)."""
    code, reason = deal.override_code, deal.override_reason
    return bool(code and code.strip()) and not (reason and reason.strip())
