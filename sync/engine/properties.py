"""Which properties the engine reads per object type.

Each type is read with HubSpot's own properties the mappers use plus every contract property of
that type, inputs *and* outputs: the diff compares desired outputs with what the record holds
now, so the outputs must come back with every read. Subscriptions are read with ``hs_mrr``'s
history (R7.3); nothing else is read with history.
"""

from __future__ import annotations

from config.contract import CrmContract, ObjectType
from mappers.fields import HubSpotNames as H

__all__ = ["OBJECT_TYPES", "OUTPUT_TYPES", "history_properties", "read_properties"]

OBJECT_TYPES: tuple[str, ...] = ("companies", "contacts", "deals", "subscriptions")
"""Every object type the engine mirrors, in the order a sync reads them."""

OUTPUT_TYPES: tuple[ObjectType, ...] = ("companies", "contacts", "deals")
"""The object types the engine writes outputs on (subscriptions are read only)."""

_HUBSPOT_OWN: dict[str, tuple[str, ...]] = {
    "companies": (H.DOMAIN, H.WEBSITE, H.OWNER_ID, H.LIFECYCLE_STAGE, "hs_lastmodifieddate"),
    "contacts": (H.EMAIL, H.CONTACT_COMPANY_ID, "lastmodifieddate"),
    "deals": (
        H.DEAL_STAGE, H.CLOSE_DATE, H.CREATE_DATE, H.DEAL_CURRENCY, "hs_lastmodifieddate",
    ),
    "subscriptions": (
        H.SUB_STATUS, H.SUB_START, H.SUB_END, H.SUB_MRR, H.SUB_CURRENCY, "hs_lastmodifieddate",
    ),
}

_HISTORY: dict[str, tuple[str, ...]] = {"subscriptions": (H.SUB_MRR,)}


def read_properties(object_type: str, contract: CrmContract) -> tuple[str, ...]:
    """HubSpot's own properties of ``object_type`` the mappers read, then the contract's
    properties of that type (inputs and outputs), without duplicates, in a stable order.

    Raises ``KeyError`` for a type the engine does not read.
    """
    own = _HUBSPOT_OWN[object_type]
    custom = [s.name for s in contract.property_specs() if s.object_type == object_type]
    return tuple(dict.fromkeys((*own, *custom)))


def history_properties(object_type: str) -> tuple[str, ...]:
    """The properties of ``object_type`` read with their history (``hs_mrr`` on subscriptions)."""
    return _HISTORY.get(object_type, ())
