"""Sticky decisions read back from what is already written on a record (POLICY.md R2.3).

The store records every decision; after a store loss (or on a first run against a portal where
another instance wrote), the outputs on the CRM records are the only memory of past outcomes. A
record that carries a request (``requested_by`` and ``requested_at``) and shows a registration
status yields a ``Decision`` for that request. Store decisions always win over read-back ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from config.contract import CrmContract
from config.terms import ProgramTerms
from mappers.parse import Invalid, parse_date, parse_enum, parse_text
from policies.model import Decision, RecordKind, RegistrationRequest, RegistrationStatus

__all__ = ["INVALID_REGISTRATION_STATUS", "merge_decisions", "read_back"]

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


def read_back(
    kind: RecordKind,
    record_id: str,
    request: RegistrationRequest | None,
    properties: Mapping[str, str | None],
    contract: CrmContract,
    terms: ProgramTerms,
) -> Decision | Invalid | None:
    """The decision the record's outputs show for its current request, if they show one.

    None when the record carries no complete request, shows no status, or shows a status that
    provably belongs to another request: registered to a different partner code, or (for a plain
    registration) an expiry that is not ``requested_at + expiry_days``. Such a record is simply
    decided again. An unknown status is an ``Invalid`` (code ``invalid_registration_status``).
    """
    if request is None or request.requested_by is None or request.requested_at is None:
        return None
    status = parse_enum(properties.get(contract.registration_status), RegistrationStatus)
    if status is None:
        return None
    if isinstance(status, Invalid):
        return Invalid(INVALID_REGISTRATION_STATUS, status.raw)
    registered_to = parse_text(properties.get(contract.registered_to))
    outcome = status
    if status in _REGISTERED_LATER:
        owner = request.requested_by.casefold()
        if registered_to is not None and registered_to.casefold() != owner:
            return None
        if status in _PLAIN_EXPIRY and request.reregistration_requested_at is None:
            expires = parse_date(properties.get(contract.registration_expires_at))
            expected = request.requested_at + timedelta(days=terms.registration.expiry_days)
            if expires is not None and expires != expected:
                return None
        outcome = S.REGISTERED
        registered_to = registered_to or request.requested_by
    return Decision(
        record_kind=kind,
        record_id=record_id,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        outcome=outcome,
        reason=parse_text(properties.get(contract.registration_reason)) or "",
        domain=parse_text(properties.get(contract.registered_domain)),
        registered_to=registered_to,
    )


def merge_decisions(
    store: Mapping[DecisionKey, Decision], crm: Mapping[DecisionKey, Decision]
) -> dict[DecisionKey, Decision]:
    """Every decision of both sources; for a record both know, the store's (it is exact)."""
    merged = dict(crm)
    merged.update(store)
    return merged
