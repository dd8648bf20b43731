"""What a member portal holds: the request inputs and member-facing outputs on companies.

Names are the program's contract names (``partner_registration_status``, ...), all on companies
in the group ``partner_program``; commission properties that the program keeps on deals are
created on companies here, since a member's customer is a company in its own portal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from config.contract import CrmContract, PropertySpec

__all__ = ["MemberContract"]


@dataclass(frozen=True, slots=True)
class MemberContract:
    """The member-portal property names, derived from the program's ``CrmContract``."""

    program: CrmContract

    @property
    def requests(self) -> tuple[str, ...]:
        """Request dates a member may set (registration, re-registration, deregistration)."""
        c = self.program
        return (c.registration_requested_at, c.reregistration_requested_at,
                c.deregistration_requested_at)

    @property
    def requested_by(self) -> str:
        return self.program.registration_requested_by

    @property
    def registration_outputs(self) -> tuple[str, ...]:
        c = self.program
        return (c.registration_status, c.registration_reason, c.registration_expires_at)

    @property
    def commission_outputs(self) -> tuple[str, ...]:
        c = self.program
        return (c.commission_plan, c.commission_earned, c.commission_paid,
                c.member_next_payout_date, c.member_next_payout_amount)

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.registration_outputs + self.commission_outputs

    def property_specs(self) -> list[PropertySpec]:
        """Every member-portal property, as company properties."""
        wanted = set(self.requests) | {self.requested_by} | set(self.outputs)
        found: dict[str, PropertySpec] = {}
        for spec in self.program.property_specs():
            if spec.name in wanted and spec.name not in found:
                found[spec.name] = dataclasses.replace(spec, object_type="companies")
        return [found[name] for name in sorted(found)]
