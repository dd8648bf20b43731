"""R2.1-R2.3 for one record's request at its date: honour a sticky decision or decide anew."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from config.terms import ProgramTerms
from policies.claims import Claim, ClaimBook
from policies.domains import DomainResolution
from policies.members import MemberDirectory, normalize_code
from policies.model import Decision, Member, RecordKind, RegistrationRequest, RegistrationStatus
from policies.reasons import Reason
from policies.registration import (
    DomainFacts,
    Verdict,
    VerdictKind,
    check_request,
    plain_verdict,
)

__all__ = [
    "NOT_DECIDED",
    "Decided",
    "RequestContext",
    "RequestItem",
    "RequestTable",
    "decide_request",
    "is_decision",
]


class RequestContext(Protocol):
    """What deciding one request reads from the sweep around it (``policies.sweep.Sweep``)."""

    @property
    def book(self) -> ClaimBook: ...
    @property
    def terms(self) -> ProgramTerms: ...
    @property
    def directory(self) -> MemberDirectory: ...
    @property
    def stored_decisions(self) -> Mapping[tuple[RecordKind, str], Decision]: ...

    def facts_of(self, domain: str | None) -> DomainFacts: ...
    def lookup_member(self, code: str | None, kind: str, record_id: str) -> Member | None: ...
    def open_claim(self, member: Member, domain: str, t: date) -> Claim: ...


# read per request: module globals, not Enum members (a class attribute lookup each on 3.11)
# and no dict keyed by a plain Enum (its __hash__ is a Python call)
_JOIN, _REGISTER, _UNAVAILABLE = VerdictKind.JOIN, VerdictKind.REGISTER, VerdictKind.UNAVAILABLE
_REGISTERED, _REJECTED = RegistrationStatus.REGISTERED, RegistrationStatus.REJECTED
_UNAVAILABLE_STATUS = RegistrationStatus.UNAVAILABLE


def _outcome(kind: VerdictKind) -> RegistrationStatus:
    """The decision a verdict records: joined or registered, rejected, unavailable."""
    if kind is _JOIN or kind is _REGISTER:
        return _REGISTERED
    return _UNAVAILABLE_STATUS if kind is _UNAVAILABLE else _REJECTED


_KIND_NAME = {kind: str(kind.value) for kind in RecordKind}  # ``.value`` is slow on 3.11
_HELD = (RegistrationStatus.REGISTERED, RegistrationStatus.REREGISTERED)
# §0: outcomes that decided nothing (a request not dated yet, or dated after the as_of it was
# seen at); a stored or read-back one of these is never honoured, the request is decided anew.
NOT_DECIDED = frozenset({Reason.REQUESTED_IN_FUTURE.value, Reason.MISSING_REQUEST_DATE.value})


def is_decision(stored: Decision) -> bool:
    """§0: whether ``stored`` records a real decision (not ``pending`` or a non-decision)."""
    return stored.outcome is not RegistrationStatus.PENDING and stored.reason not in NOT_DECIDED


class RequestItem:
    """A company's or contact's request with the domain the record resolves to today (R1.3):
    one row of a ``RequestTable``."""

    __slots__ = ("domain", "key", "kind", "reason", "record_id", "request")

    kind: RecordKind
    record_id: str
    request: RegistrationRequest
    domain: str | None
    reason: Reason
    # ``(kind, record_id)``, built once (see ``RequestTable.keys``)
    key: Any

    def __init__(
        self,
        kind: RecordKind,
        record_id: str,
        request: RegistrationRequest,
        resolution: DomainResolution,
    ) -> None:
        self.kind = kind
        self.record_id = record_id
        self.request = request
        self.domain = resolution.domain
        self.reason = resolution.reason
        key: tuple[RecordKind, str] = (kind, record_id)
        self.key = key


class RequestTable:
    """Every request of one evaluation as columns, row ``i`` being one record's request.

    A whole program has a request per record, alive for the whole evaluation: columns keep no
    object per request besides its key, which the outputs need anyway (fewer objects for the
    cyclic collector to count and scan).
    """

    __slots__ = ("domains", "keys", "reasons", "requests")

    def __init__(self) -> None:
        # ``(kind, record_id)`` per row, built once: looked up several times per request and
        # kept in the result's registrations and decisions. Typed ``Any`` so that mypyc keeps
        # this one tuple object: a value typed ``tuple[RecordKind, str]`` is stored unpacked by
        # compiled code and every read would build a new tuple.
        self.keys: list[Any] = []
        self.requests: list[RegistrationRequest] = []
        self.domains: list[str | None] = []  # the record's R1.3 domain, or None
        self.reasons: list[Reason] = []  # and the R1 reason when None

    def __len__(self) -> int:
        return len(self.keys)

    def append(
        self,
        kind: RecordKind,
        record_id: str,
        request: RegistrationRequest,
        domain: str | None,
        reason: Reason,
    ) -> None:
        """Add a row: the request on record ``(kind, record_id)`` and the record's R1.3 domain
        (or ``None`` and the R1 reason it has none)."""
        key: tuple[RecordKind, str] = (kind, record_id)
        self.keys.append(key)
        self.requests.append(request)
        self.domains.append(domain)
        self.reasons.append(reason)

    def reorder(self, order: list[int]) -> None:
        """Put row ``order[0]`` first, then ``order[1]``, ..."""
        self.keys = [self.keys[i] for i in order]
        self.requests = [self.requests[i] for i in order]
        self.domains = [self.domains[i] for i in order]
        self.reasons = [self.reasons[i] for i in order]

    def item(self, i: int) -> RequestItem:
        """Row ``i`` as one value."""
        kind, record_id = self.keys[i]
        resolution = DomainResolution(self.domains[i], self.reasons[i])
        item = RequestItem(kind, record_id, self.requests[i], resolution)
        item.key = self.keys[i]
        return item


Decided = tuple[Verdict, Decision | None, Claim | None]
"""What deciding one request found: the verdict, the decision to record, the claim it holds
(a plain tuple: built once per request, unpacked once)."""


def decide_request(sweep: RequestContext, table: RequestTable, i: int, t: date) -> Decided:
    """R2.2 at ``t`` for request ``i`` of ``table``, unless a stored decision for the unchanged
    request is honoured (R2.3).

    A registered decision keeps its captured domain (R1.4) even if the record changed since.
    """
    req, key, domain = table.requests[i], table.keys[i], table.domains[i]
    stored = sweep.stored_decisions.get(key)
    if (
        stored is not None
        and stored.requested_at == t
        and is_decision(stored)
        and normalize_code(stored.requested_by) == normalize_code(req.requested_by)
    ):
        honoured = _honour(sweep, domain, stored, t)
        if honoured is not None:
            return honoured
    record_kind, record_id = key
    member = sweep.lookup_member(req.requested_by, _KIND_NAME[record_kind], record_id)
    verdict = check_request(
        sweep.book, sweep.terms, sweep.facts_of(domain), member, domain, table.reasons[i], t
    )
    claim: Claim | None = None
    kind = verdict.kind
    if kind is _REGISTER and member is not None and domain is not None:
        claim = sweep.open_claim(member, domain, t)
    elif kind is _JOIN:
        claim = verdict.claim
    decision = None
    if req.requested_by is not None and req.requested_by.strip():
        decision = Decision(
            record_kind,
            record_id,
            req.requested_by,
            t,
            _outcome(kind),
            str(verdict.reason),
            domain,
            claim.member.code if claim is not None else None,
        )
    return verdict, decision, claim


def _honour(
    sweep: RequestContext, own_domain: str | None, stored: Decision, t: date
) -> Decided | None:
    """Replay a stored outcome; ``None`` when it cannot be replayed (then decide anew)."""
    if stored.outcome in _HELD:
        member = sweep.directory.get(stored.registered_to or stored.requested_by)
        domain = stored.domain or own_domain
        if member is None or domain is None:
            return None
        for claim in sweep.book.active_claims(domain, t):
            if claim.member is member:
                return Verdict(VerdictKind.JOIN, claim=claim), stored, claim
        # [decision R2.3] honoured even if the book now disagrees (the store is the truth)
        claim = sweep.open_claim(member, domain, t)
        return plain_verdict(VerdictKind.REGISTER, Reason.NONE), stored, claim
    if stored.outcome is RegistrationStatus.REJECTED:
        return plain_verdict(VerdictKind.REJECTED, stored.reason), stored, None
    if stored.outcome is RegistrationStatus.UNAVAILABLE:
        return plain_verdict(VerdictKind.UNAVAILABLE, stored.reason), stored, None
    return None
