"""Profile sizes, the fixed anchor date and the owners the generated portal has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "DEFAULT_TODAY",
    "DIRECT_SALES_OWNER_IDS",
    "ID_BASE",
    "OWNERS",
    "PROFILES",
    "SALES_OWNER_IDS",
    "Counts",
]

# The generator never reads the clock: every date is laid out relative to this anchor.
DEFAULT_TODAY = date(2026, 11, 1)

# Owner ids of the direct-sales team (config: deals.direct_sales_owner_ids = ["71000001", ...]).
DIRECT_SALES_OWNER_IDS: tuple[str, ...] = ("71000001", "71000002")
# Ordinary account owners (not direct sales): companies they own stay registrable.
SALES_OWNER_IDS: tuple[str, ...] = ("72000001", "72000002", "72000003", "72000004")

OWNERS: tuple[dict[str, str], ...] = (
    {"id": "71000001", "email": "dana.direct@sandbox.example", "firstName": "Dana",
     "lastName": "Direct"},
    {"id": "71000002", "email": "diego.direct@sandbox.example", "firstName": "Diego",
     "lastName": "Direct"},
    {"id": "72000001", "email": "sam.sales@sandbox.example", "firstName": "Sam",
     "lastName": "Sales"},
    {"id": "72000002", "email": "alex.account@sandbox.example", "firstName": "Alex",
     "lastName": "Account"},
    {"id": "72000003", "email": "kim.kaufmann@sandbox.example", "firstName": "Kim",
     "lastName": "Kaufmann"},
    {"id": "72000004", "email": "lee.lopez@sandbox.example", "firstName": "Lee",
     "lastName": "Lopez"},
)

# First id per object type; ids are numeric strings, unique per object type.
ID_BASE = {"companies": 10_000_001, "contacts": 20_000_001, "deals": 30_000_001,
           "subscriptions": 40_000_001}


@dataclass(frozen=True, slots=True)
class Counts:
    """How many records of each kind a dataset has. ``members`` are among ``companies``."""

    contacts: int
    companies: int
    deals: int
    subscriptions: int
    members: int

    def __post_init__(self) -> None:
        for name in ("contacts", "companies", "deals", "subscriptions", "members"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


PROFILES: dict[str, Counts] = {
    "empty": Counts(0, 0, 0, 0, 0),
    "S": Counts(10_000, 3_000, 1_000, 1_000, 20),
    "M": Counts(250_000, 60_000, 20_000, 20_000, 300),
    "L": Counts(1_000_000, 200_000, 100_000, 100_000, 3_000),
}
