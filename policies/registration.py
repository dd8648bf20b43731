"""R2/R3: the ordered registration checks, re-registration, and a claim's status at ``as_of``.

These functions read and move a ``ClaimBook`` at the sweep's current date; the sweep in
``policies.sweep`` decides in what order they are called (R2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from config.terms import ProgramTerms
from policies.claims import Claim, ClaimBook
from policies.dates import add_days
from policies.members import capacity_at, is_member_at
from policies.model import Member, RegistrationStatus
from policies.reasons import Reason

__all__ = [
    "DomainFacts",
    "Verdict",
    "VerdictKind",
    "check_request",
    "claim_status",
    "plain_verdict",
    "reregister",
]


@dataclass(frozen=True, slots=True)
class DomainFacts:
    """What the companies of one domain say (R2.2.5, R2.2.6): any of them counts."""

    direct_sales: bool = False
    customer: bool = False


NO_FACTS = DomainFacts()


class VerdictKind(Enum):
    JOIN = "join"  # R2.2.3: the member already holds it; no new claim
    REGISTER = "register"  # R2.2.8
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of R2.2 at one request date; ``claim`` is the joined or the blocking claim."""

    kind: VerdictKind
    reason: str = Reason.NONE  # a Reason, or a code read back from a stored decision
    claim: Claim | None = None


# verdicts without a claim are plain values: one shared instance per (kind, reason code)
_PLAIN: dict[tuple[VerdictKind, str], Verdict] = {
    (kind, reason): Verdict(kind, reason) for kind in VerdictKind for reason in Reason
}


_REJECTED = {reason: _PLAIN[VerdictKind.REJECTED, reason] for reason in Reason}
_NOT_A_MEMBER = _REJECTED[Reason.NOT_A_MEMBER]
_CAPACITY = _REJECTED[Reason.CAPACITY_REACHED]
_DIRECT_SALES = _PLAIN[VerdictKind.UNAVAILABLE, Reason.OWNED_BY_DIRECT_SALES]
_CUSTOMER = _PLAIN[VerdictKind.UNAVAILABLE, Reason.EXISTING_CUSTOMER]
_REGISTER = _PLAIN[VerdictKind.REGISTER, Reason.NONE]


def plain_verdict(kind: VerdictKind, reason: str) -> Verdict:
    """``Verdict(kind, reason)`` without a claim (shared when ``reason`` is a ``Reason``)."""
    found = _PLAIN.get((kind, reason))
    return found if found is not None else Verdict(kind, reason)


def check_request(
    book: ClaimBook,
    terms: ProgramTerms,
    facts: DomainFacts,
    member: Member | None,
    domain: str | None,
    reason: Reason,
    t: date,
) -> Verdict:
    """R2.2: the first failing check decides a request by ``member`` at ``t`` for ``domain``
    (the record's R1.3 domain, or ``None`` with the R1 ``reason`` it has none).

    [decision R2.6] The re-registration limit is checked once the domain is known to be free
    (after check 4): the member's own latest claim on it ended having used its re-registrations.
    """
    if member is None or not is_member_at(member, t):
        return _NOT_A_MEMBER
    if domain is None:
        return _REJECTED[reason]
    active = book.active_claims(domain, t)
    for claim in active:
        if claim.member is member:
            return Verdict(VerdictKind.JOIN, claim=claim)
    if active:
        return Verdict(VerdictKind.UNAVAILABLE, Reason.REGISTERED_TO_OTHER_PARTNER, active[0])
    previous = book.claims_of(domain)
    if previous and previous[-1].member is member and _rereg_used(previous[-1], terms):
        return Verdict(VerdictKind.REJECTED, Reason.REREGISTRATION_LIMIT, previous[-1])
    if facts.direct_sales:
        return _DIRECT_SALES
    if facts.customer:
        return _CUSTOMER
    if book.active_count(member, t) >= capacity_at(member, t, terms.capacity):
        return _CAPACITY
    return _REGISTER


def _rereg_used(claim: Claim, terms: ProgramTerms) -> bool:
    used = 1 if claim.rereg_at is not None or claim.rereg_blocked_by is not None else 0
    return used >= terms.registration.max_reregistrations


def reregister(book: ClaimBook, terms: ProgramTerms, claim: Claim, r: date) -> Reason | None:
    """R2.6: apply a re-registration requested at ``r``; the reason when it cannot apply.

    Seamless when ``r`` is before expiry (effective at expiry), else effective at ``r`` unless
    another member registered the domain in between. Returns ``None`` when applied or blocked
    (the block shows on the claim), ``reregistration_limit`` when the claim used its
    re-registrations, ``not_a_member`` when the claim has already ended otherwise.
    """
    if claim.rereg_requested_at == r:
        return None  # several records of one claim carrying the same request: one request
    if _rereg_used(claim, terms):
        return Reason.REREGISTRATION_LIMIT
    stops = (claim.dereg_at, claim.converted_at, claim.left_at)
    if r < claim.start or any(s is not None and s <= r for s in stops):
        return Reason.NOT_A_MEMBER if claim.left_at is not None else Reason.NO_REGISTRATION
    days = terms.registration.reregistration_days
    claim.rereg_requested_at = r
    if r < claim.expires:
        claim.rereg_at = claim.expires
        claim.expires = add_days(claim.expires, days)
        book.end_changed(claim)
        return None
    for other in book.claims_of(claim.domain):
        if other.member is not claim.member and claim.expires <= other.start <= r:
            claim.rereg_blocked_by = other.member.code
            return None
    claim.rereg_at = r
    claim.expires = add_days(r, days)
    book.resume(claim)
    return None


def claim_status(
    claim: Claim, as_of: date, terms: ProgramTerms
) -> tuple[RegistrationStatus, Reason]:
    """R2.4-R2.8: the status every record of ``claim`` shows at ``as_of`` (R2.9)."""
    ended = claim.converted_at is not None or claim.dereg_at is not None
    ends = (
        []
        if not ended and claim.left_at is None
        else [
            (d, status, reason)
            for d, status, reason in (
                (claim.converted_at, RegistrationStatus.CONVERTED, Reason.NONE),
                (claim.dereg_at, RegistrationStatus.DEREGISTERED, Reason.NONE),
                (claim.left_at, RegistrationStatus.EXPIRED, Reason.MEMBER_LEFT),
            )
            if d is not None and d <= as_of and d < claim.expires
        ]
    )
    if ends:
        _, status, reason = min(ends, key=lambda e: e[0])
        return status, reason
    if claim.rereg_blocked_by is not None:
        return RegistrationStatus.UNAVAILABLE, Reason.REGISTERED_TO_OTHER_PARTNER
    if as_of >= claim.expires:
        return RegistrationStatus.EXPIRED, Reason.NONE
    if as_of >= add_days(claim.expires, -terms.registration.expiring_soon_days):
        return RegistrationStatus.EXPIRING_SOON, Reason.NONE
    if claim.rereg_at is not None:
        return RegistrationStatus.REREGISTERED, Reason.NONE
    return RegistrationStatus.REGISTERED, Reason.NONE
