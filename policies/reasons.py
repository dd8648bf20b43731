"""Every reason and problem code the engine writes, with the rule it comes from.

Reason codes land in ``partner_registration_reason``, ``partner_attribution_reason`` and
``partner_compliance_reasons``; problem codes name data problems (DESIGN.md "Bad input").
Values are stable strings: HubSpot views and workflows filter on them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ComplianceFlag", "ProblemCode", "Reason"]


class Reason(StrEnum):
    """Why a registration or a deal ended up as it did."""

    NONE = ""  # a positive outcome needs no explanation
    # R2.2 registration checks, in order
    NOT_A_MEMBER = "not_a_member"  # R2.2.1, R4.6, R5.6
    INVALID_DOMAIN = "invalid_domain"  # R1.2, R1.3, R2.2.2
    FREE_EMAIL_DOMAIN = "free_email_domain"  # R1.2, R1.3, R2.2.2
    REGISTERED_TO_OTHER_PARTNER = "registered_to_other_partner"  # R2.2.4, R2.6
    OWNED_BY_DIRECT_SALES = "owned_by_direct_sales"  # R2.2.5
    EXISTING_CUSTOMER = "existing_customer"  # R2.2.6, R4.5, R5.6
    CAPACITY_REACHED = "capacity_reached"  # R2.2.7, R3
    REREGISTRATION_LIMIT = "reregistration_limit"  # R2.6
    MISSING_REQUEST_DATE = "missing_request_date"  # R2.1: a code without a date is no request
    REQUESTED_IN_FUTURE = "requested_in_future"  # §0: request dated after as_of
    MEMBER_LEFT = "member_left"  # R9.2: the holder left the program, its claims end
    # R5.6 unattributed deals, most specific first
    NOT_CLOSED = "not_closed"  # R5: stage not closed-won or no close date (yet)
    DEAL_WITHOUT_COMPANY = "deal_without_company"  # R5: no purchase domain
    NO_REGISTRATION = "no_registration"  # R5.1
    REGISTRATION_EXPIRED = "registration_expired"  # R5.1, R2.5
    REGISTRATION_DEREGISTERED = "registration_deregistered"  # R2.7
    REGISTRATION_CONVERTED = "registration_converted"  # R2.8: an earlier close converted it
    DOMAIN_MISMATCH = "domain_mismatch"  # R5.1: the sharer holds another domain of the company
    CO_SELLING = "co_selling"  # R4.3, R5.2
    OVERRIDE_WITHOUT_REASON = "override_without_reason"  # R5.5: the override was ignored
    MISSING_CREATE_DATE = "missing_create_date"  # R4: a shared deal needs its create date


class ProblemCode(StrEnum):
    """Data problems: reported, then the record (or the bad part of it) is skipped."""

    UNKNOWN_PARTNER_CODE = "unknown_partner_code"  # R2.1, R4, R5.5
    DUPLICATE_PARTNER_CODE = "duplicate_partner_code"  # R2.1: codes must be unique
    MEMBER_WITHOUT_CODE = "member_without_code"  # a member nobody can name
    MEMBER_WITHOUT_JOIN_DATE = "member_without_join_date"  # R2.2.1 cannot place it in time
    INVALID_DOMAIN = "invalid_domain"  # R1.2
    MISSING_REQUEST_DATE = "missing_request_date"  # R2.1
    UNKNOWN_COMPANY = "unknown_company"  # an association names a company we do not have
    DEAL_WITHOUT_COMPANY = "deal_without_company"  # R5: no primary company
    MISSING_CREATE_DATE = "missing_create_date"  # R4
    OVERRIDE_WITHOUT_REASON = "override_without_reason"  # R5.5
    UNKNOWN_SUBSCRIPTION = "unknown_subscription"  # R7: association to a missing subscription
    SUBSCRIPTION_WITHOUT_START = "subscription_without_start"  # R7.1
    SUBSCRIPTION_WITHOUT_MRR = "subscription_without_mrr"  # R7.3
    # R7.6: counted for its earliest-closed qualifying deal only, reported on the others
    SUBSCRIPTION_COUNTED_ELSEWHERE = "subscription_counted_elsewhere"
    MIXED_CURRENCIES = "mixed_currencies"  # §0: no FX, other currencies are left out
    IGNORED_REREGISTRATION = "ignored_reregistration"  # R2.6: no claim to re-register
    IGNORED_DEREGISTRATION = "ignored_deregistration"  # R2.7: no claim to deregister
    REQUEST_FAR_AHEAD = "request_far_ahead"  # §0: pending, but dated over a year ahead
    CLOSE_BEFORE_CREATE = "close_before_create"  # R5: the close date counts as written


class ComplianceFlag(StrEnum):
    """R9.4 compliance flags written on the member (``;``-separated)."""

    GOLD_DEADLINE_NOTICE = "gold_deadline_notice"  # attention
    REMOVAL_DUE = "removal_due"  # non_compliant
    OVER_CAPACITY = "over_capacity"  # non_compliant
    PAPERWORK_MISSING = "paperwork_missing"  # attention
    NO_ACTIVE_SUBSCRIPTION = "no_active_subscription"  # non_compliant
    CERTIFICATION_MISSING = "certification_missing"  # non_compliant
    ONBOARDING_OVERDUE = "onboarding_overdue"  # non_compliant
    NO_REGISTRATION_YET = "no_registration_yet"  # attention
