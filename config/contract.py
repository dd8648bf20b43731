"""The CRM contract: the HubSpot property names the worker reads and writes (DESIGN.md).

Every custom name starts with a configurable prefix (default ``partner_``); HubSpot's own
properties (``dealstage``, ``domain``, ...) never change. ``CrmContract.property_specs()`` lists
the custom properties with their HubSpot types, which ``init`` creates and the sandbox knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["GROUP_NAME", "CrmContract", "PropertySpec", "contract_for_prefix"]

GROUP_NAME = "partner_program"

ObjectType = Literal["companies", "contacts", "deals"]
PropType = Literal["string", "number", "date", "datetime", "enumeration", "bool"]

PROGRAM_TYPES = ("provider", "partner")
TIERS = ("untiered", "gold", "platinum", "diamond", "elite")
HUBSPOT_PLANS = ("none", "starter", "professional", "enterprise")
EXITS = ("downgraded_to_provider", "left")
COMPLIANCE_STATUSES = ("ok", "attention", "non_compliant")
REGISTRATION_STATUSES = (
    "pending", "registered", "expiring_soon", "reregistered", "expired",
    "unavailable", "rejected", "deregistered", "converted",
)
DEAL_TYPES = ("registered", "co_selling", "partner_competition", "cross_sell", "unattributed")
ATTRIBUTIONS = ("registered", "cross_sell", "override", "unattributed")
PLANS = ("provider_12", "legacy_12", "partner_36", "none")
COMMISSION_STATUSES = (
    "accruing", "awaiting_paperwork", "forfeited", "completed", "ended_early", "not_eligible",
)


@dataclass(frozen=True, slots=True)
class PropertySpec:
    """One custom property: what ``init`` creates (HubSpot type, field type and options)."""

    object_type: ObjectType
    name: str
    label: str
    type: PropType
    output: bool
    options: tuple[str, ...] = ()

    @property
    def field_type(self) -> str:
        return {
            "string": "text",
            "number": "number",
            "date": "date",
            "datetime": "date",
            "enumeration": "select",
            "bool": "booleancheckbox",
        }[self.type]


@dataclass(frozen=True, slots=True)
class CrmContract:
    """Property names; build one with ``contract_for_prefix``. Attributes are full names."""

    prefix: str = "partner_"
    group_name: str = GROUP_NAME

    # Member companies: inputs
    program_type: str = field(init=False)
    code: str = field(init=False)
    tier: str = field(init=False)
    joined_at: str = field(init=False)
    gold_reached_at: str = field(init=False)
    paperwork_completed_at: str = field(init=False)
    certified: str = field(init=False)
    onboarding_completed_at: str = field(init=False)
    hubspot_plan: str = field(init=False)
    program_exit: str = field(init=False)
    program_exit_at: str = field(init=False)
    # Member companies: outputs
    capacity_limit: str = field(init=False)
    capacity_used: str = field(init=False)
    compliance_status: str = field(init=False)
    compliance_reasons: str = field(init=False)
    gold_deadline: str = field(init=False)
    removal_date: str = field(init=False)
    commission_earned_total: str = field(init=False)
    member_next_payout_date: str = field(init=False)
    member_next_payout_amount: str = field(init=False)
    # Registration requests (companies and contacts): inputs
    registration_requested_by: str = field(init=False)
    registration_requested_at: str = field(init=False)
    reregistration_requested_at: str = field(init=False)
    deregistration_requested_at: str = field(init=False)
    # Registration outputs
    registration_status: str = field(init=False)
    registration_reason: str = field(init=False)
    registered_to: str = field(init=False)
    registered_domain: str = field(init=False)
    registration_expires_at: str = field(init=False)
    # Deals: inputs
    shared_by: str = field(init=False)
    cross_sell_confirmed: str = field(init=False)
    attribution_override: str = field(init=False)
    attribution_override_reason: str = field(init=False)
    # Deals: outputs
    deal_type: str = field(init=False)
    attribution: str = field(init=False)
    attribution_reason: str = field(init=False)
    attributed_to: str = field(init=False)
    commission_plan: str = field(init=False)
    commission_rate: str = field(init=False)
    commission_start: str = field(init=False)
    commission_end: str = field(init=False)
    commission_status: str = field(init=False)
    commission_earned: str = field(init=False)
    commission_paid: str = field(init=False)
    deal_next_payout_date: str = field(init=False)
    deal_next_payout_amount: str = field(init=False)

    def __post_init__(self) -> None:
        p = self.prefix
        names = {
            "program_type": "program_type",
            "code": "code",
            "tier": "tier",
            "joined_at": "joined_at",
            "gold_reached_at": "gold_reached_at",
            "paperwork_completed_at": "paperwork_completed_at",
            "certified": "certified",
            "onboarding_completed_at": "onboarding_completed_at",
            "hubspot_plan": "hubspot_plan",
            "program_exit": "program_exit",
            "program_exit_at": "program_exit_at",
            "capacity_limit": "capacity_limit",
            "capacity_used": "capacity_used",
            "compliance_status": "compliance_status",
            "compliance_reasons": "compliance_reasons",
            "gold_deadline": "gold_deadline",
            "removal_date": "removal_date",
            "commission_earned_total": "commission_earned_total",
            # The member and the deal share these names on different objects (DESIGN.md).
            "member_next_payout_date": "next_payout_date",
            "member_next_payout_amount": "next_payout_amount",
            "registration_requested_by": "registration_requested_by",
            "registration_requested_at": "registration_requested_at",
            "reregistration_requested_at": "reregistration_requested_at",
            "deregistration_requested_at": "deregistration_requested_at",
            "registration_status": "registration_status",
            "registration_reason": "registration_reason",
            "registered_to": "registered_to",
            "registered_domain": "registered_domain",
            "registration_expires_at": "registration_expires_at",
            "shared_by": "shared_by",
            "cross_sell_confirmed": "cross_sell_confirmed",
            "attribution_override": "attribution_override",
            "attribution_override_reason": "attribution_override_reason",
            "deal_type": "deal_type",
            "attribution": "attribution",
            "attribution_reason": "attribution_reason",
            "attributed_to": "attributed_to",
            "commission_plan": "commission_plan",
            "commission_rate": "commission_rate",
            "commission_start": "commission_start",
            "commission_end": "commission_end",
            "commission_status": "commission_status",
            "commission_earned": "commission_earned",
            "commission_paid": "commission_paid",
            "deal_next_payout_date": "next_payout_date",
            "deal_next_payout_amount": "next_payout_amount",
        }
        for attr, suffix in names.items():
            object.__setattr__(self, attr, p + suffix)

    def property_specs(self) -> tuple[PropertySpec, ...]:
        """Every custom property of the contract, inputs and outputs, per object type."""
        S = PropertySpec
        member: list[PropertySpec] = [
            S("companies", self.program_type, "Partner program type", "enumeration", False,
              PROGRAM_TYPES),
            S("companies", self.code, "Partner code", "string", False),
            S("companies", self.tier, "Partner tier", "enumeration", False, TIERS),
            S("companies", self.joined_at, "Partner joined at", "date", False),
            S("companies", self.gold_reached_at, "Gold reached at", "date", False),
            S("companies", self.paperwork_completed_at, "Paperwork completed at", "date", False),
            S("companies", self.certified, "Partner certified", "bool", False, ("true", "false")),
            S("companies", self.onboarding_completed_at, "Onboarding completed at", "date", False),
            S("companies", self.hubspot_plan, "Own HubSpot plan", "enumeration", False,
              HUBSPOT_PLANS),
            S("companies", self.program_exit, "Program exit", "enumeration", False, EXITS),
            S("companies", self.program_exit_at, "Program exit at", "date", False),
            S("companies", self.capacity_limit, "Registration capacity", "number", True),
            S("companies", self.capacity_used, "Registrations in use", "number", True),
            S("companies", self.compliance_status, "Compliance status", "enumeration", True,
              COMPLIANCE_STATUSES),
            S("companies", self.compliance_reasons, "Compliance reasons", "string", True),
            S("companies", self.gold_deadline, "Gold deadline", "date", True),
            S("companies", self.removal_date, "Removal date", "date", True),
            S("companies", self.commission_earned_total, "Commission earned (total)", "number",
              True),
            S("companies", self.member_next_payout_date, "Next payout date", "date", True),
            S("companies", self.member_next_payout_amount, "Next payout amount", "number", True),
        ]
        registration: list[PropertySpec] = []
        carriers: tuple[ObjectType, ...] = ("companies", "contacts")
        for o in carriers:
            registration += [
                S(o, self.registration_requested_by, "Registration requested by", "string", False),
                S(o, self.registration_requested_at, "Registration requested at", "date", False),
                S(o, self.reregistration_requested_at, "Re-registration requested at", "date",
                  False),
                S(o, self.deregistration_requested_at, "Deregistration requested at", "date",
                  False),
                S(o, self.registration_status, "Registration status", "enumeration", True,
                  REGISTRATION_STATUSES),
                S(o, self.registration_reason, "Registration reason", "string", True),
                S(o, self.registered_to, "Registered to", "string", True),
                S(o, self.registered_domain, "Registered domain", "string", True),
                S(o, self.registration_expires_at, "Registration expires at", "date", True),
            ]
        deal: list[PropertySpec] = [
            S("deals", self.shared_by, "Shared by partner", "string", False),
            S("deals", self.cross_sell_confirmed, "Cross-sell confirmed", "bool", False,
              ("true", "false")),
            S("deals", self.attribution_override, "Attribution override", "string", False),
            S("deals", self.attribution_override_reason, "Attribution override reason", "string",
              False),
            S("deals", self.deal_type, "Partner deal type", "enumeration", True, DEAL_TYPES),
            S("deals", self.attribution, "Partner attribution", "enumeration", True, ATTRIBUTIONS),
            S("deals", self.attribution_reason, "Attribution reason", "string", True),
            S("deals", self.attributed_to, "Attributed to", "string", True),
            S("deals", self.commission_plan, "Commission plan", "enumeration", True, PLANS),
            S("deals", self.commission_rate, "Commission rate", "number", True),
            S("deals", self.commission_start, "Commission start", "date", True),
            S("deals", self.commission_end, "Commission end", "date", True),
            S("deals", self.commission_status, "Commission status", "enumeration", True,
              COMMISSION_STATUSES),
            S("deals", self.commission_earned, "Commission earned", "number", True),
            S("deals", self.commission_paid, "Commission paid", "number", True),
            S("deals", self.deal_next_payout_date, "Next payout date", "date", True),
            S("deals", self.deal_next_payout_amount, "Next payout amount", "number", True),
        ]
        return (*member, *registration, *deal)

    def output_names(self, object_type: ObjectType) -> frozenset[str]:
        return frozenset(
            s.name for s in self.property_specs() if s.object_type == object_type and s.output
        )


def contract_for_prefix(prefix: str = "partner_") -> CrmContract:
    if not prefix or not prefix.replace("_", "").isalnum() or not prefix[0].isalpha():
        raise ValueError(f"property prefix {prefix!r} must be letters, digits and '_'")
    return CrmContract(prefix=prefix.lower())
