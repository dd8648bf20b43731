"""Sticky decisions read back from what is already written on a record (POLICY.md R2.3).

The store records every decision; after a store loss (or on a first run against a portal where
another instance wrote), the outputs on the CRM records are the only memory of past outcomes. A
record that carries a request (``requested_by`` and ``requested_at``) and shows a registration
status yields a ``Decision`` for that request. Store decisions always win over read-back ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from config.contract import CrmContract
from config.terms import ProgramTerms
from mappers.parse import Invalid, parse_date, parse_enum, parse_text
from policies.model import Decision, RecordKind, RegistrationRequest, RegistrationStatus
from policies.requests import NOT_DECIDED

__all__ = [
    "INVALID_REGISTRATION_STATUS",
    "Joined",
    "anchor_joined",
    "merge_decisions",
    "read_back",
]

INVALID_REGISTRATION_STATUS = "invalid_registration_status"

DecisionKey = tuple[RecordKind, str]

S = RegistrationStatus
# Statuses derived at as_of from a request that was decided ``registered`` (R2.5-R2.8): the
# decision at request time was ``registered``.
_REGISTERED_LATER = frozenset(
    {S.REGISTERED, S.EXPIRING_SOON, S.REREGISTERED, S.EXPIRED, S.CONVERTED, S.DEREGISTERED}
)
# Statuses whose written expiry is exactly request date + expiry days when the request is the
# one that was decided (R2.2.8) and no re-registration moved it (R2.6).
_PLAIN_EXPIRY = frozenset({S.REGISTERED, S.EXPIRING_SOON, S.EXPIRED})


@dataclass(frozen=True, slots=True)
class Joined:
    """A registered record whose written expiry is not its own request's: either the request
    joined another claim of the same member on the domain (R2.2.3), or the request date was
    edited after the decision. ``anchor_joined`` tells the two apart."""

    decision: Decision
    expires_at: date


def read_back(
    kind: RecordKind,
    record_id: str,
    request: RegistrationRequest | None,
    properties: Mapping[str, str | None],
    contract: CrmContract,
    terms: ProgramTerms,
) -> Decision | Joined | Invalid | None:
    """The decision the record's outputs show for its current request, if they show one.

    None when the record carries no complete request, shows no status, shows a non-decision
    (``pending``, or the reasons ``requested_in_future`` / ``missing_request_date`` that older
    versions wrote as ``rejected``: POLICY.md §0), or shows a registration of another partner
    code: such a record is simply decided again. A registration whose written
    expiry is not ``requested_at + expiry_days`` (and no re-registration moved it) comes back as
    ``Joined``, to be kept only if ``anchor_joined`` finds the claim it joined. An unknown status
    is an ``Invalid`` (code ``invalid_registration_status``).
    """
    if request is None or request.requested_by is None or request.requested_at is None:
        return None
    status = parse_enum(properties.get(contract.registration_status), RegistrationStatus)
    if status is None:
        return None
    if isinstance(status, Invalid):
        return Invalid(INVALID_REGISTRATION_STATUS, status.raw)
    reason = parse_text(properties.get(contract.registration_reason)) or ""
    if status is S.PENDING or reason in NOT_DECIDED:
        return None  # §0: a request not decided yet (or a legacy non-decision) is decided anew
    registered_to = parse_text(properties.get(contract.registered_to))
    outcome = status
    joined_expiry: date | None = None
    if status in _REGISTERED_LATER:
        owner = request.requested_by.casefold()
        if registered_to is not None and registered_to.casefold() != owner:
            return None
        if status in _PLAIN_EXPIRY and request.reregistration_requested_at is None:
            expires = parse_date(properties.get(contract.registration_expires_at))
            expected = request.requested_at + timedelta(days=terms.registration.expiry_days)
            if isinstance(expires, date) and expires != expected:
                joined_expiry = expires
        outcome = S.REGISTERED
        registered_to = registered_to or request.requested_by
    decision = Decision(
        record_kind=kind,
        record_id=record_id,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        outcome=outcome,
        reason=reason,
        domain=parse_text(properties.get(contract.registered_domain)),
        registered_to=registered_to,
    )
    return decision if joined_expiry is None else Joined(decision, joined_expiry)


def anchor_joined(
    joined: Iterable[Joined], known: Mapping[DecisionKey, Decision], terms: ProgramTerms
) -> dict[DecisionKey, Decision]:
    """The ``joined`` decisions whose written expiry is that of a known registered decision of
    the same member (codes compared case-insensitively) on the same domain: the claim they
    joined. The others (a request date edited after its decision) are left out: re-decided."""
    expiry = timedelta(days=terms.registration.expiry_days)
    claims = {
        (d.registered_to.casefold(), d.domain, d.requested_at + expiry)
        for d in known.values()
        if d.outcome is S.REGISTERED and d.registered_to is not None
    }
    out: dict[DecisionKey, Decision] = {}
    for item in joined:
        d = item.decision
        owner = (d.registered_to or d.requested_by).casefold()
        if (owner, d.domain, item.expires_at) in claims:
            out[(d.record_kind, d.record_id)] = d
    return out


def merge_decisions(
    store: Mapping[DecisionKey, Decision], crm: Mapping[DecisionKey, Decision]
) -> dict[DecisionKey, Decision]:
    """Every decision of both sources; for a record both know, the store's (it is exact)."""
    merged = dict(crm)
    merged.update(store)
    return merged
