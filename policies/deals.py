"""R4 (shared-deal type) and R5 (attribution at close) for one deal at one date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from policies.claims import Claim, ClaimBook
from policies.members import is_member_at
from policies.model import Attribution, Deal, DealType, Member
from policies.reasons import Reason
from policies.registration import DomainFacts, Verdict, VerdictKind

__all__ = ["Attributed", "attribute_at_close", "shared_deal_type", "unattributed"]


_JOIN, _REGISTER = VerdictKind.JOIN, VerdictKind.REGISTER  # loaded per deal: globals are cheaper
# the answers are plain pairs: shared, not built per deal
_TYPED: dict[DealType, tuple[DealType, str]] = {kind: (kind, Reason.NONE) for kind in DealType}
_UNTYPED: dict[str, tuple[DealType, str]] = {
    reason: (DealType.UNATTRIBUTED, reason) for reason in Reason
}


def shared_deal_type(verdict: Verdict, deal: Deal) -> tuple[DealType, str]:
    """R4: how a shared deal was worked, from the R2.2 verdict of its implied request.

    [decision R4] R4 lists direct sales before "another member holds d"; we follow R2.2's
    order (another member's active registration first) so a deal and a record requesting the
    same domain on the same day get the same answer.
    """
    if verdict.kind is _JOIN or verdict.kind is _REGISTER:
        return _TYPED[DealType.REGISTERED]
    if verdict.reason == Reason.REGISTERED_TO_OTHER_PARTNER:
        return _TYPED[DealType.PARTNER_COMPETITION]
    if verdict.reason == Reason.OWNED_BY_DIRECT_SALES:
        return _TYPED[DealType.CO_SELLING]
    if verdict.reason == Reason.EXISTING_CUSTOMER and deal.cross_sell_confirmed:
        return _TYPED[DealType.CROSS_SELL]
    found = _UNTYPED.get(verdict.reason)
    return found if found is not None else (DealType.UNATTRIBUTED, verdict.reason)


@dataclass(frozen=True, slots=True)
class Attributed:
    """R5 outcome; ``claim`` is the registration the close converts (R2.8), if any."""

    attribution: Attribution
    reason: Reason
    member: Member | None = None
    claim: Claim | None = None


# outcomes without a member carry nothing else: one shared instance per reason
_UNATTRIBUTED = {reason: Attributed(Attribution.UNATTRIBUTED, reason) for reason in Reason}


def unattributed(reason: Reason) -> Attributed:
    """``Attributed(UNATTRIBUTED, reason)``, shared (the outcome of most closes)."""
    return _UNATTRIBUTED[reason]


def attribute_at_close(
    book: ClaimBook,
    facts: DomainFacts,
    domain: str | None,
    other_domains: Sequence[str],
    sharer: Member | None,
    override: Member | None,
    cross_sell_confirmed: bool,
    c: date,
) -> Attributed:
    """R5: who earns revenue share on a deal closed at ``c`` on purchase ``domain``.

    ``override`` is an already validated override (member found, reason given: R5.5).
    ``other_domains`` are the company's other registrable domains (``website`` vs ``domain``)
    used only to explain a ``domain_mismatch``.
    """
    if override is not None:
        return Attributed(Attribution.OVERRIDE, Reason.NONE, override)
    if domain is None:
        return _UNATTRIBUTED[Reason.INVALID_DOMAIN]
    for claim in book.active_claims(domain, c):
        if is_member_at(claim.member, c):  # R5.1, R5.2: whatever the deal type
            return Attributed(Attribution.REGISTERED, Reason.NONE, claim.member, claim)
    if facts.customer and cross_sell_confirmed and sharer and is_member_at(sharer, c):
        return Attributed(Attribution.CROSS_SELL, Reason.NONE, sharer)  # R5.4
    return _UNATTRIBUTED[_unattributed_reason(book, facts, domain, other_domains, sharer, c)]


def _unattributed_reason(
    book: ClaimBook,
    facts: DomainFacts,
    domain: str,
    other_domains: Sequence[str],
    sharer: Member | None,
    c: date,
) -> Reason:
    """R5.6: the most specific reason nothing qualifies, from the latest claim to general facts."""
    started = [claim for claim in book.claims_of(domain) if claim.start <= c]
    if started:
        last = started[-1]
        for when, reason in (
            (last.converted_at, Reason.REGISTRATION_CONVERTED),
            (last.dereg_at, Reason.REGISTRATION_DEREGISTERED),
            (last.left_at, Reason.NOT_A_MEMBER),
        ):
            if when is not None and when <= c:
                return reason
        return Reason.REGISTRATION_EXPIRED
    if facts.customer:
        return Reason.EXISTING_CUSTOMER
    if facts.direct_sales:
        return Reason.CO_SELLING
    if sharer is not None:
        for other in other_domains:
            if any(claim.member is sharer for claim in book.active_claims(other, c)):
                return Reason.DOMAIN_MISMATCH
        if not is_member_at(sharer, c):
            return Reason.NOT_A_MEMBER
    return Reason.NO_REGISTRATION
