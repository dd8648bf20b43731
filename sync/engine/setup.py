"""``init``: the property group and every contract property on companies, contacts and deals.

It evolves the contract of a portal set up by an older version as well as it sets up a new one.
Per object type it reads the property definitions once, then:

- creates the group when none of the contract's properties exists yet (a 409 is fine);
- creates every missing contract property with ONE batch create call (per 100);
- adds the options an enumeration property lacks (``pending`` for a portal initialised before
  it existed), keeping every option it has: HubSpot records may still hold any of them, so an
  option is never removed.

An initialised portal therefore costs one read per object type and no write. A property of the
wrong type cannot be changed in place (HubSpot forbids it); it is reported, ``doctor`` says what
to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.contract import CrmContract, PropertySpec
from sync.gateway import Gateway, property_definition

__all__ = ["InitReport", "init_portal", "missing_options"]

_TYPES = ("companies", "contacts", "deals")


@dataclass(frozen=True, slots=True)
class InitReport:
    """What ``init`` created (``type/name``), the options it added (``type/name:option``), how
    many properties already existed, and the ones of the wrong type (``type/name``)."""

    groups_created: list[str] = field(default_factory=list)
    properties_created: list[str] = field(default_factory=list)
    properties_existing: int = 0
    options_added: list[str] = field(default_factory=list)
    properties_mismatched: list[str] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return bool(self.groups_created or self.properties_created or self.options_added)

    def to_dict(self) -> dict[str, Any]:
        return {"groups_created": list(self.groups_created),
                "properties_created": list(self.properties_created),
                "properties_existing": self.properties_existing,
                "options_added": list(self.options_added),
                "properties_mismatched": list(self.properties_mismatched)}


@dataclass(slots=True)
class _Found:
    groups: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    existing: int = 0
    options: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def init_portal(gateway: Gateway, contract: CrmContract) -> InitReport:
    """Bring the portal's contract properties up to ``contract`` (see module)."""
    found = _Found()
    for object_type in _TYPES:
        specs = [s for s in contract.property_specs() if s.object_type == object_type]
        held = {str(p.get("name")): p for p in gateway.get_properties(object_type)}
        _init_type(gateway, contract, object_type, specs, held, found)
    return InitReport(found.groups, found.created, found.existing, found.options,
                      found.mismatched)


def _init_type(
    gateway: Gateway,
    contract: CrmContract,
    object_type: str,
    specs: Sequence[PropertySpec],
    held: Mapping[str, Mapping[str, Any]],
    found: _Found,
) -> None:
    missing = [s for s in specs if s.name not in held]
    if missing and not any(s.name in held for s in specs):
        label = contract.group_name.replace("_", " ").capitalize()
        if gateway.create_property_group(object_type, contract.group_name, label):
            found.groups.append(f"{object_type}/{contract.group_name}")
    if missing:
        created, _ = gateway.create_properties(
            object_type, [property_definition(s, contract.group_name) for s in missing])
        found.created += [f"{object_type}/{name}" for name in created]
        found.existing += len(missing) - len(created)  # a 409: created meanwhile
    for spec in specs:
        current = held.get(spec.name)
        if current is None:
            continue
        found.existing += 1
        if current.get("type") != spec.type:
            found.mismatched.append(f"{object_type}/{spec.name}")
            continue
        lacking = missing_options(spec, current)
        if lacking:
            options = [*_kept_options(current), *_new_options(spec, lacking, current)]
            gateway.update_property(object_type, spec.name, {"options": options})
            found.options += [f"{object_type}/{spec.name}:{value}" for value in lacking]


def missing_options(spec: PropertySpec, current: Mapping[str, Any]) -> list[str]:
    """The enumeration values of ``spec`` the portal's definition lacks, in contract order."""
    if spec.type != "enumeration":
        return []
    held = {str(o.get("value")) for o in _options(current)}
    return [value for value in spec.options if value not in held]


def _options(current: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = current.get("options")
    return [o for o in raw if isinstance(o, Mapping)] if isinstance(raw, list) else []


def _kept_options(current: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every option the portal has, as an update input (PATCH replaces the list)."""
    return [
        {"label": str(o.get("label") or o.get("value")), "value": str(o.get("value")),
         "displayOrder": int(o.get("displayOrder", i)), "hidden": bool(o.get("hidden", False))}
        for i, o in enumerate(_options(current))
    ]


def _new_options(
    spec: PropertySpec, values: Sequence[str], current: Mapping[str, Any]
) -> list[dict[str, Any]]:
    after = len(_options(current))
    return [
        {"label": value.replace("_", " ").capitalize(), "value": value,
         "displayOrder": after + i, "hidden": False}
        for i, value in enumerate(values)
    ]
