"""The chronological sweep (R2.1, R2.3, R4, R5): every dated event of the program, in order.

Events up to ``as_of`` (§0) are sorted by date, then phase, then object id:
re-registrations (0) [decision R2.6: the former holder's re-registration goes before new
requests of the same day], company requests (1), contact requests (2), shared-deal requests
(3) [decision R2.1/R4.1: a deal's implied request comes after explicit requests of the same
day], then deal closes (4) [R5.3: a registration decided on the close date qualifies].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from config.terms import ProgramTerms
from policies.claims import Claim, ClaimBook
from policies.dates import add_days
from policies.deals import Attributed, attribute_at_close, shared_deal_type
from policies.domains import DomainResolution, FreeEmailDomains, company_domain, company_domains
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
    reregister,
)
from policies.requests import RequestItem, decide_request

__all__ = ["Sweep", "SweepInput", "id_key"]

Key = tuple[RecordKind, str]


def id_key(object_id: str) -> tuple[int, int, str]:
    """HubSpot ids are numeric strings: order them as numbers, anything else after, by text."""
    return (0, int(object_id), "") if object_id.isdigit() else (1, 0, object_id)


@dataclass(frozen=True, slots=True)
class SweepInput:
    """What the sweep reads: terms, as_of, members, companies, per-domain facts, requests, deals."""

    terms: ProgramTerms
    as_of: date
    directory: MemberDirectory
    companies: Mapping[str, Company]
    facts: Mapping[str, DomainFacts]
    free: FreeEmailDomains
    requests: tuple[RequestItem, ...]
    deals: tuple[Deal, ...]
    decisions: Mapping[Key, Decision]


@dataclass(slots=True)
class Sweep:
    """The sweep's state and findings; run with ``Sweep(inp).run()``."""

    inp: SweepInput
    book: ClaimBook = field(default_factory=ClaimBook)
    record_claims: dict[Key, Claim] = field(default_factory=dict)
    verdicts: dict[Key, Verdict] = field(default_factory=dict)
    decisions: dict[Key, Decision] = field(default_factory=dict)
    deal_types: dict[str, tuple[DealType, str]] = field(default_factory=dict)
    closes: dict[str, tuple[date, Attributed]] = field(default_factory=dict)
    registered_members: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    def run(self) -> Sweep:
        """Process every event dated on or before ``as_of`` in R2.1 order; returns ``self``."""
        events: list[tuple[date, int, tuple[int, int, str], int, Callable[[date], None]]] = []
        as_of = self.inp.as_of
        closed_won = frozenset(s.strip().lower() for s in self.inp.terms.deals.closed_won_stages)
        for item in self.inp.requests:
            req = item.request
            phase = 1 if item.kind is RecordKind.COMPANY else 2
            key = id_key(item.record_id)
            if req.requested_at is not None and req.requested_at <= as_of:
                handler = self._request_handler(item)
                events.append((req.requested_at, phase, key, len(events), handler))
            r = req.reregistration_requested_at
            if r is not None and r <= as_of:
                events.append((r, 0, key, len(events), self._rereg_handler(item)))
        for deal in self.inp.deals:
            key = id_key(deal.deal_id)
            t = deal.create_date
            if deal.shared_by and t is not None and t <= as_of:
                events.append((t, 3, key, len(events), self._shared_handler(deal)))
            c = deal.close_date
            if c is not None and c <= as_of and (deal.stage or "").strip().lower() in closed_won:
                events.append((c, 4, key, len(events), self._close_handler(deal)))
        # the running index makes every tuple unique, so handlers are never compared; it
        # follows the (kind, id)-sorted request list, so ties stay deterministic
        events.sort()
        for when, _, _, _, handle in events:
            handle(when)
        return self

    # -- registration requests (R2) ---------------------------------------------------------

    def _request_handler(self, item: RequestItem) -> Callable[[date], None]:
        def handle(t: date) -> None:
            decided = decide_request(self, item, t)
            self.verdicts[item.key] = decided.verdict
            if decided.decision is not None:
                self.decisions[item.key] = decided.decision
            if decided.claim is not None:
                self.record_claims[item.key] = decided.claim
                self._apply_deregistration(decided.claim, item.request, t)

        return handle

    def _apply_deregistration(self, claim: Claim, req: RegistrationRequest, t: date) -> None:
        """R2.7: a record's deregistration date ends its claim from x (ignored before t)."""
        x = req.deregistration_requested_at
        if x is None or x > self.inp.as_of or x < t:
            return
        if claim.dereg_at is None or x < claim.dereg_at:
            claim.dereg_at = x
            self.book.end_changed(claim)

    def _rereg_handler(self, item: RequestItem) -> Callable[[date], None]:
        def handle(r: date) -> None:
            claim = self.record_claims.get(item.key)
            reason = Reason.NO_REGISTRATION if claim is None else None
            if claim is not None:
                reason = reregister(self.book, self.inp.terms, claim, r)
            if reason is not None:
                self.problems.append(
                    Problem(
                        item.kind.value,
                        item.record_id,
                        ProblemCode.IGNORED_REREGISTRATION,
                        reason.value,
                    )
                )

        return handle

    def open_claim(self, member: Member, domain: str, t: date) -> Claim:
        """R2.2.8: a new claim expiring ``t + expiry_days``; a member that left ends it (R9.2)."""
        claim = self.book.open(
            member, domain, t, add_days(t, self.inp.terms.registration.expiry_days)
        )
        if member.exit is ExitKind.LEFT and member.exit_at is not None:
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

    def _resolve(self, company: Company | None) -> DomainResolution:
        if company is None:
            return DomainResolution(None, Reason.DEAL_WITHOUT_COMPANY)
        return company_domain(company, self.inp.free)

    def _shared_handler(self, deal: Deal) -> Callable[[date], None]:
        def handle(t: date) -> None:
            sharer = self.lookup_member(deal.shared_by, "deal", deal.deal_id)
            resolution = self._resolve(self._deal_company(deal))
            verdict = check_request(
                self.book, self.inp.terms, self.facts_of(resolution.domain), sharer, resolution, t
            )
            if verdict.kind is VerdictKind.REGISTER and sharer is not None and resolution.domain:
                self.open_claim(sharer, resolution.domain, t)  # R4.1
            self.deal_types[deal.deal_id] = shared_deal_type(verdict, deal)

        return handle

    def _close_handler(self, deal: Deal) -> Callable[[date], None]:
        def handle(c: date) -> None:
            company = self._deal_company(deal)
            if company is None:
                self.closes[deal.deal_id] = (
                    c,
                    Attributed(Attribution.UNATTRIBUTED, Reason.DEAL_WITHOUT_COMPANY),
                )
                return
            resolution = self._resolve(company)
            others = [d for d in company_domains(company) if d != resolution.domain]
            sharer = self.inp.directory.get(deal.shared_by)
            found = attribute_at_close(
                self.book,
                self.facts_of(resolution.domain),
                resolution.domain,
                others,
                sharer,
                self._override(deal),
                deal.cross_sell_confirmed,
                c,
            )
            if found.attribution is Attribution.UNATTRIBUTED and resolution.domain is None:
                found = Attributed(Attribution.UNATTRIBUTED, resolution.reason)
            if found.claim is not None:  # R2.8: the registration converts at c
                found.claim.converted_at = c
                self.book.end_changed(found.claim)
            self.closes[deal.deal_id] = (c, found)

        return handle

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
