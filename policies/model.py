"""Frozen value types the rules engine takes and gives (POLICY.md, DESIGN.md CRM contract).

Inputs are what the mappers produce from HubSpot records: already typed (``date``, ``Decimal``),
but not yet judged: domains are raw strings (R1 resolves them), partner codes may name nobody.
Outputs carry, for every record, exactly what the CRM contract writes, plus reason codes so each
value can be explained. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

__all__ = [
    "Attribution",
    "CommissionMonth",
    "CommissionStatus",
    "Company",
    "ComplianceStatus",
    "Contact",
    "Deal",
    "DealOutput",
    "DealType",
    "Decision",
    "ExitKind",
    "Member",
    "MemberKind",
    "MemberOutput",
    "MonthState",
    "MrrChange",
    "Plan",
    "Problem",
    "Program",
    "ProgramResult",
    "RecordKind",
    "RegistrationOutput",
    "RegistrationRequest",
    "RegistrationStatus",
    "Subscription",
    "Tier",
]


class MemberKind(StrEnum):
    PROVIDER = "provider"
    PARTNER = "partner"


class Tier(StrEnum):
    UNTIERED = "untiered"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"
    ELITE = "elite"


class ExitKind(StrEnum):
    DOWNGRADED = "downgraded_to_provider"
    LEFT = "left"


class RecordKind(StrEnum):
    """HubSpot object kinds a registration request can sit on. Order matters for R2.1 ties."""

    COMPANY = "company"
    CONTACT = "contact"


class RegistrationStatus(StrEnum):
    PENDING = "pending"  # §0: requested for a date after as_of; nothing decided yet
    REGISTERED = "registered"
    EXPIRING_SOON = "expiring_soon"
    REREGISTERED = "reregistered"
    EXPIRED = "expired"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    DEREGISTERED = "deregistered"
    CONVERTED = "converted"


class DealType(StrEnum):
    """R4: how a shared deal was worked."""

    REGISTERED = "registered"
    CO_SELLING = "co_selling"
    PARTNER_COMPETITION = "partner_competition"
    CROSS_SELL = "cross_sell"
    UNATTRIBUTED = "unattributed"


class Attribution(StrEnum):
    """R5: who earns revenue share, and why."""

    REGISTERED = "registered"
    CROSS_SELL = "cross_sell"
    OVERRIDE = "override"
    UNATTRIBUTED = "unattributed"


class Plan(StrEnum):
    PROVIDER_12 = "provider_12"
    LEGACY_12 = "legacy_12"
    PARTNER_36 = "partner_36"
    NONE = "none"


class CommissionStatus(StrEnum):
    ACCRUING = "accruing"
    AWAITING_PAPERWORK = "awaiting_paperwork"
    FORFEITED = "forfeited"
    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"
    NOT_ELIGIBLE = "not_eligible"


class ComplianceStatus(StrEnum):
    OK = "ok"
    ATTENTION = "attention"
    NON_COMPLIANT = "non_compliant"


class MonthState(StrEnum):
    """State of one revenue month of one subscription, for one qualifying transaction."""

    PAYABLE = "payable"  # received, paperwork in time: paid on ``pay_date``
    AWAITING_PAPERWORK = "awaiting_paperwork"  # received, paperwork still possible
    FORFEITED = "forfeited"  # received, but paperwork missed its deadline (R8.2)


_T = TypeVar("_T")


def _slot_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` that fills each slot through its
    descriptor.

    The generated ``__init__`` of a frozen dataclass calls ``object.__setattr__`` per field to
    get past the frozen ``__setattr__``; setting through the slot descriptor makes the same
    object in about half the time. Used on the types the engine builds once per ledger month,
    deal or record. Like ``dataclasses`` itself, it compiles the ``__init__`` from source.
    """
    params, lines = [], []
    namespace: dict[str, object] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if not f.init or f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: only plain fields are supported")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        lines.append(f"    _set_{f.name}(self, {f.name})\n")
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(lines)}", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    setattr(cls, "__init__", init)  # noqa: B010 (mypy refuses assigning a method)
    return cls


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A program member: a company with ``partner_program_type`` set."""

    company_id: str
    code: str | None
    kind: MemberKind
    tier: Tier = Tier.UNTIERED
    joined_at: date | None = None
    gold_reached_at: date | None = None
    paperwork_completed_at: date | None = None
    certified: bool = False
    onboarding_completed_at: date | None = None
    hubspot_plan: str = "none"
    exit: ExitKind | None = None
    exit_at: date | None = None


@dataclass(frozen=True, slots=True)
class RegistrationRequest:
    """The registration inputs on one company or contact (all optional: a record may carry none).

    ``requested_by`` is a partner code as typed by a person; it may name nobody.
    """

    requested_by: str | None = None
    requested_at: date | None = None
    reregistration_requested_at: date | None = None
    deregistration_requested_at: date | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """Any company the engine needs: members, request carriers, deals' primary companies."""

    company_id: str
    domain: str | None = None  # the ``domain`` property, raw
    website: str | None = None  # fallback (R1.3), raw
    owner_id: str | None = None  # ``hubspot_owner_id``
    lifecycle_stage: str | None = None
    request: RegistrationRequest | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: str
    email: str | None = None
    primary_company_id: str | None = None
    request: RegistrationRequest | None = None


@dataclass(frozen=True, slots=True)
class MrrChange:
    """One entry of ``hs_mrr``'s history: ``amount`` in force from ``effective`` (a UTC date)."""

    effective: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    status: str | None = None  # hs_status: active, past_due, unpaid, canceled, expired, ...
    start_date: date | None = None  # hs_recurring_billing_start_date
    end_date: date | None = None  # hs_recurring_billing_end_date (or cancellation)
    mrr_history: tuple[MrrChange, ...] = ()  # oldest first; the last one is the current value
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Deal:
    deal_id: str
    stage: str | None = None
    close_date: date | None = None
    create_date: date | None = None
    primary_company_id: str | None = None
    subscription_ids: tuple[str, ...] = ()
    shared_by: str | None = None  # partner code
    cross_sell_confirmed: bool = False
    override_code: str | None = None
    override_reason: str | None = None
    currency: str | None = None


@_slot_init
@dataclass(frozen=True, slots=True)
class Decision:
    """A sticky registration decision (R2.3), as recorded in the store or read off the record.

    It stays valid while the request's ``requested_by``/``requested_at`` are unchanged.
    ``outcome`` is the decision at request time (``registered``, ``reregistered`` counts as
    ``registered``, ``rejected`` or ``unavailable``); later statuses are derived at ``as_of``.
    """

    record_kind: RecordKind
    record_id: str
    requested_by: str
    requested_at: date
    outcome: RegistrationStatus
    reason: str
    domain: str | None
    registered_to: str | None = None


@dataclass(frozen=True, slots=True)
class Program:
    """Everything the whole-program evaluation reads. Order of the tuples does not matter."""

    members: tuple[Member, ...] = ()
    companies: tuple[Company, ...] = ()
    contacts: tuple[Contact, ...] = ()
    deals: tuple[Deal, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    decisions: Mapping[tuple[RecordKind, str], Decision] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


@_slot_init
@dataclass(frozen=True, slots=True)
class Problem:
    """A data problem on one record: reported in the run log and as a reason code, then skipped."""

    record_kind: str  # "company", "contact", "deal", "subscription", "member"
    record_id: str
    code: str
    detail: str = ""


@_slot_init
@dataclass(frozen=True, slots=True)
class RegistrationOutput:
    record_kind: RecordKind
    record_id: str
    status: RegistrationStatus
    reason: str
    registered_to: str | None
    domain: str | None
    expires_at: date | None


@_slot_init
@dataclass(frozen=True, slots=True)
class CommissionMonth:
    """One line of the commission ledger: one revenue month of one subscription of one deal."""

    deal_id: str
    subscription_id: str
    member_code: str
    month_index: int
    month_start: date
    mrr: Decimal
    amount: Decimal
    currency: str | None
    due_date: date  # payout date of the month's quarter (R8.1)
    pay_date: date | None  # when it is (or will be) paid; None unless PAYABLE
    state: MonthState


@_slot_init
@dataclass(frozen=True, slots=True)
class DealOutput:
    deal_id: str
    deal_type: DealType | None  # None: not a shared deal
    attribution: Attribution
    attribution_reason: str
    attributed_to: str | None
    plan: Plan
    rate: Decimal | None
    commission_start: date | None
    commission_end: date | None
    commission_status: CommissionStatus
    earned: Decimal
    paid: Decimal
    next_payout_date: date | None
    next_payout_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class MemberOutput:
    company_id: str
    capacity_limit: int
    capacity_used: int
    compliance_status: ComplianceStatus
    compliance_reasons: tuple[str, ...]
    gold_deadline: date | None
    removal_date: date | None
    commission_earned_total: Decimal
    next_payout_date: date | None
    next_payout_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class ProgramResult:
    """The whole program at ``as_of``: outputs per record, new decisions, ledger, problems."""

    as_of: date
    registrations: Mapping[tuple[RecordKind, str], RegistrationOutput]
    deals: Mapping[str, DealOutput]
    members: Mapping[str, MemberOutput]
    decisions: Mapping[tuple[RecordKind, str], Decision]
    ledger: tuple[CommissionMonth, ...]
    problems: tuple[Problem, ...]
