"""``init``: the property group and every contract property on companies, contacts and deals.

Idempotent: HubSpot answers 409 for what exists, which the gateway reports as "not created".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.contract import CrmContract
from sync.gateway import Gateway, property_definition

__all__ = ["InitReport", "init_portal"]

_TYPES = ("companies", "contacts", "deals")


@dataclass(frozen=True, slots=True)
class InitReport:
    """What ``init`` created (``type/name``) and how many properties already existed."""

    groups_created: list[str] = field(default_factory=list)
    properties_created: list[str] = field(default_factory=list)
    properties_existing: int = 0

    @property
    def created_anything(self) -> bool:
        return bool(self.groups_created or self.properties_created)

    def to_dict(self) -> dict[str, Any]:
        return {"groups_created": list(self.groups_created),
                "properties_created": list(self.properties_created),
                "properties_existing": self.properties_existing}


def init_portal(gateway: Gateway, contract: CrmContract) -> InitReport:
    """Create the group on each type, then each contract property in it (see module)."""
    groups: list[str] = []
    created: list[str] = []
    existing = 0
    label = contract.group_name.replace("_", " ").capitalize()
    for object_type in _TYPES:
        if gateway.create_property_group(object_type, contract.group_name, label):
            groups.append(f"{object_type}/{contract.group_name}")
    for spec in contract.property_specs():
        definition = property_definition(spec, contract.group_name)
        if gateway.create_property(spec.object_type, definition):
            created.append(f"{spec.object_type}/{spec.name}")
        else:
            existing += 1
    return InitReport(groups, created, existing)
