"""Seed data handed to the sandbox's state in bulk (the generator yields it; tests build it).

Records are streamed (iterables), so a profile-L load never holds two copies of the data.
Property values are HubSpot strings, exactly as the API would return them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Dataset", "SeedAssociation", "SeedProperty", "SeedRecord"]


@dataclass(slots=True)
class SeedRecord:
    object_type: str  # "contacts", "companies", "deals", "subscriptions"
    object_id: str  # numeric string, unique per object type
    properties: dict[str, str]
    created_at_ms: int
    updated_at_ms: int
    # Older values, oldest first, as (timestamp ms, value); the current value is in `properties`.
    history: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeedAssociation:
    from_type: str
    from_id: str
    to_type: str
    to_id: str
    type_id: int | None = None  # None: HubSpot's default (primary where it has one) for the pair
    primary: bool = False


@dataclass(frozen=True, slots=True)
class SeedProperty:
    """A custom property definition the seed data needs (the contract's, usually)."""

    object_type: str
    name: str
    label: str
    type: str  # string, number, date, datetime, enumeration, bool
    field_type: str
    group_name: str
    options: tuple[str, ...] = ()


@dataclass(slots=True)
class Dataset:
    properties: Iterable[SeedProperty] = ()
    records: Iterable[SeedRecord] = ()
    associations: Iterable[SeedAssociation] = ()
    owners: Iterable[dict[str, str]] = ()  # {"id", "email", "firstName", "lastName"}
