"""HubSpot webhook events: parse a delivery, build dedup keys, decide what deserves work.

Events are hints, not truth: the worker re-reads the named records. So an event is reduced to
what identifies it (for dedup) and the records it names (for the targeted sync), and the raw
event is kept for the audit trail. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "InboxEvent",
    "MalformedDelivery",
    "is_own_echo",
    "parse_delivery",
    "records_named",
    "validate_event",
]

# Legacy subscription prefixes and generic objectTypeIds -> our object type names.
_PREFIX_TYPES = {"contact": "contacts", "company": "companies", "deal": "deals"}
_TYPE_IDS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-69": "subscriptions"}
# associationType values of associationChange events -> (from type, to type)
_ASSOC_TYPES = {
    "CONTACT_TO_COMPANY": ("contacts", "companies"),
    "COMPANY_TO_CONTACT": ("companies", "contacts"),
    "DEAL_TO_COMPANY": ("deals", "companies"),
    "COMPANY_TO_DEAL": ("companies", "deals"),
    "DEAL_TO_CONTACT": ("deals", "contacts"),
    "CONTACT_TO_DEAL": ("contacts", "deals"),
}


class MalformedDelivery(ValueError):
    """The body is not a JSON array of well-typed event objects: answered 400, never queued."""


MAX_ID = 2**63 - 1
MAX_TEXT = 4096
MAX_DEPTH = 8  # fields HubSpot may add later: any JSON value, but not a deeply nested one

# Every field HubSpot documents for CRM webhook events, and the JSON types it has.
_ID_FIELDS = frozenset({
    "eventId", "subscriptionId", "portalId", "appId", "attemptNumber", "objectId",
    "fromObjectId", "toObjectId", "primaryObjectId", "newObjectId", "associationTypeId",
    "numberOfPropertiesMoved",
})
_TEXT_FIELDS = frozenset({
    "subscriptionType", "eventType", "objectTypeId", "propertyName", "changeSource", "sourceId",
    "changeFlag", "associationType", "associationCategory", "fromObjectTypeId",
    "toObjectTypeId", "messageId", "messageType",
})
_BOOL_FIELDS = frozenset({"associationRemoved", "isPrimaryAssociation"})


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    return isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() \
        and value.isdigit()


def _depth_ok(value: Any) -> bool:
    """True when ``value`` nests no deeper than ``MAX_DEPTH`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _field_problem(name: str, value: Any) -> str | None:
    """Why one field's value is unusable, or None."""
    if name in _ID_FIELDS:
        ok = _is_id(value)
        want = "a non-negative 64-bit integer"
    elif name in _TEXT_FIELDS:
        ok = isinstance(value, str) and len(value) <= MAX_TEXT
        want = f"a string of at most {MAX_TEXT} characters"
    elif name in _BOOL_FIELDS:
        ok = isinstance(value, bool)
        want = "true or false"
    elif name == "occurredAt":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID
        want = "epoch milliseconds"
    elif name == "propertyValue":
        ok = value is None or isinstance(value, bool | int | float) or (
            isinstance(value, str) and len(value) <= 65_536)
        want = "a string, number, boolean or null"
    elif name == "mergedObjectIds":
        ok = isinstance(value, list) and len(value) <= 1000 and all(map(_is_id, value))
        want = "a list of ids"
    else:
        ok, want = _depth_ok(value), f"a JSON value nested at most {MAX_DEPTH} levels"
    return None if ok else f"{name} must be {want}"


def validate_event(item: Any) -> dict[str, Any]:
    """The event, checked field by field; ``MalformedDelivery`` names the first bad field."""
    if not isinstance(item, dict):
        raise MalformedDelivery("every event must be a JSON object")
    for name, value in item.items():
        problem = _field_problem(name, value)
        if problem is not None:
            raise MalformedDelivery(f"event field {problem}")
    subscription_type = item.get("subscriptionType") or item.get("eventType")
    if not isinstance(subscription_type, str) or not isinstance(item.get("occurredAt"), int):
        raise MalformedDelivery("event without subscriptionType or occurredAt")
    return item


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """One event as the inbox stores it."""

    dedup_key: str
    object_type: str | None  # None: a type we do not sync (kept, marked ignored by the worker)
    object_id: str | None
    subscription_type: str
    property_name: str | None
    occurred_at_ms: int
    payload: bytes  # the event's own JSON, for audit and dead letters
    item: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)
    """The same event parsed (what ``payload`` encodes), so nobody parses it twice."""


def _dedup_key(portal_id: int | str, event: Mapping[str, Any]) -> str:
    # HubSpot does not promise unique eventIds: key on everything that identifies the change.
    parts = (
        portal_id,
        event.get("subscriptionId"),
        event.get("eventId"),
        event.get("objectId"),
        event.get("occurredAt"),
        event.get("subscriptionType") or event.get("eventType"),
        event.get("propertyName"),
        event.get("propertyValue"),
        event.get("fromObjectId"),
        event.get("toObjectId"),
        event.get("associationRemoved"),
    )
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:40]


def _object_type(event: Mapping[str, Any], subscription_type: str) -> str | None:
    type_id = event.get("objectTypeId")
    if isinstance(type_id, str) and type_id in _TYPE_IDS:
        return _TYPE_IDS[type_id]
    prefix = subscription_type.split(".", 1)[0]
    return _PREFIX_TYPES.get(prefix)


def parse_delivery(body: bytes) -> list[InboxEvent]:
    """Parse one webhook POST body; raise ``MalformedDelivery`` on anything but an array of
    events whose every field has its documented type (one bad event refuses the delivery:
    HubSpot's retries of a poison message would only be wasted)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedDelivery("body is not JSON") from exc
    if not isinstance(document, list):
        raise MalformedDelivery("body must be a JSON array of events")
    events: list[InboxEvent] = []
    for raw in document:
        item = validate_event(raw)
        subscription_type = item.get("subscriptionType") or item.get("eventType")
        occurred = item["occurredAt"]
        assert isinstance(subscription_type, str)  # validate_event checked both
        object_id = item.get("objectId", item.get("fromObjectId"))
        events.append(
            InboxEvent(
                dedup_key=_dedup_key(item.get("portalId", ""), item),
                object_type=_object_type(item, subscription_type),
                object_id=str(object_id) if object_id is not None else None,
                subscription_type=subscription_type,
                property_name=item.get("propertyName"),
                occurred_at_ms=occurred,
                payload=orjson.dumps(item),
                item=item,
            )
        )
    return events


def records_named(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (object type, id) pairs an event asks us to re-read (both ends of an association)."""
    subscription_type = str(event.get("subscriptionType") or event.get("eventType") or "")
    if subscription_type.endswith("associationChange"):
        pair = _ASSOC_TYPES.get(str(event.get("associationType", "")))
        ends = [(event.get("fromObjectId"), 0), (event.get("toObjectId"), 1)]
        if pair is None:
            return []
        return [(pair[i], str(oid)) for oid, i in ends if oid is not None]
    object_type = _object_type(event, subscription_type)
    object_id = event.get("objectId")
    if object_type is None or object_id is None:
        return []
    return [(object_type, str(object_id))]


def is_own_echo(
    event: Mapping[str, Any], output_properties: Iterable[str], app_id: str | None
) -> bool:
    """True for events our own writes caused: a change of an output property, or one made by
    our own app. They must never trigger work (no write loops)."""
    name = event.get("propertyName")
    if isinstance(name, str) and name in frozenset(output_properties):
        return True
    if app_id is None:
        return False
    source = str(event.get("sourceId") or "")
    return source == app_id or source.endswith(f":{app_id}")
