"""``RawRecord``: one HubSpot record, plain and frozen, as the sync engine hands it to the mappers.

Values stay HubSpot strings here (parsing is ``mappers.parse``'s job). ``from_api`` builds a record
from the CRM v3 object JSON (``id``, ``properties``, ``propertiesWithHistory``, ``associations``,
``archived``, ``updatedAt``); ``associations_from_v4`` reads a v4 association batch-read response
and ``RawRecord.with_associations`` attaches its result. Nothing here raises on odd input: missing
or malformed parts become empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mappers.parse import parse_timestamp_ms

__all__ = [
    "AssociationRef",
    "History",
    "RawRecord",
    "associations_from_v4",
    "canonical_object_type",
    "from_api",
]

History = tuple[tuple[int, str], ...]  # (timestamp ms, value), oldest first

# Object type ids and singular names HubSpot also uses for the four types we read.
_OBJECT_TYPES = {
    "0-1": "contacts", "contact": "contacts", "contacts": "contacts",
    "0-2": "companies", "company": "companies", "companies": "companies",
    "0-3": "deals", "deal": "deals", "deals": "deals",
    "0-69": "subscriptions", "subscription": "subscriptions", "subscriptions": "subscriptions",
}

# v3 objects answer associations with labels, not ids (research §1.2); the primary label is the
# bare ``x_to_y`` form. Ids per research §4.
_LABEL_TYPE_IDS = {
    "contact_to_company": 1, "contact_to_company_unlabeled": 279,
    "company_to_contact": 2, "company_to_contact_unlabeled": 280,
    "deal_to_company": 5, "deal_to_company_unlabeled": 341,
    "company_to_deal": 6, "company_to_deal_unlabeled": 342,
    "deal_to_contact": 3, "contact_to_deal": 4,
    "deal_to_subscription": 300, "subscription_to_deal": 299,
}


def canonical_object_type(name: str) -> str:
    """``contacts``/``companies``/``deals``/``subscriptions`` for any spelling HubSpot uses."""
    key = name.strip().lower()
    return _OBJECT_TYPES.get(key, key)


@dataclass(frozen=True, slots=True)
class AssociationRef:
    """One associated record and every association type id that links to it (sorted)."""

    to_id: str
    type_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One HubSpot record. ``properties`` values are strings or None (absent and empty alike).

    ``history`` holds, per property read with history, ``(timestamp ms, value)`` oldest first.
    ``associations`` holds, per canonical target type, one ``AssociationRef`` per associated id.
    """

    object_type: str
    object_id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    history: Mapping[str, History] = field(default_factory=dict)
    associations: Mapping[str, tuple[AssociationRef, ...]] = field(default_factory=dict)
    archived: bool = False
    updated_at_ms: int | None = None

    def prop(self, name: str) -> str | None:
        """The property's value, None when absent or empty."""
        value = self.properties.get(name)
        return value if value else None

    def with_associations(self, to_type: str, refs: Iterable[AssociationRef]) -> RawRecord:
        """A copy whose associations to ``to_type`` are replaced by ``refs``."""
        merged = dict(self.associations)
        merged[canonical_object_type(to_type)] = tuple(refs)
        return replace(self, associations=merged)


def from_api(object_type: str, payload: Mapping[str, Any]) -> RawRecord:
    """Build a ``RawRecord`` from HubSpot's object JSON (SimplePublicObject[WithAssociations]).

    The SDK models' ``to_dict()`` form (snake_case keys, datetimes) is read the same way.
    """
    raw_props = payload.get("properties") or {}
    properties = {
        str(k): (None if v is None else str(v)) for k, v in raw_props.items()
    } if isinstance(raw_props, Mapping) else {}
    return RawRecord(
        object_type=canonical_object_type(object_type),
        object_id=str(payload.get("id", "")),
        properties=properties,
        history=_history(_field(payload, "propertiesWithHistory", "properties_with_history")),
        associations=_v3_associations(payload.get("associations")),
        archived=payload.get("archived") is True,
        updated_at_ms=_ms_or_none(_field(payload, "updatedAt", "updated_at")),
    )


def _field(payload: Mapping[str, Any], camel: str, snake: str) -> Any:
    """The JSON key, or its snake_case form (the SDK models' ``to_dict()``)."""
    value = payload.get(camel)
    return payload.get(snake) if value is None else value


def _ms_or_none(raw: object) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):  # SDK models hold datetimes, the JSON holds strings
        moment = raw if raw.tzinfo is not None else raw.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    ms = parse_timestamp_ms(str(raw))
    return ms if isinstance(ms, int) else None


def _history(raw: object) -> dict[str, History]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, History] = {}
    for name, entries in raw.items():
        if not isinstance(entries, list):
            continue
        points: list[tuple[int, str]] = []
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            ms = _ms_or_none(entry.get("timestamp"))
            value = entry.get("value")
            if ms is not None:
                points.append((ms, "" if value is None else str(value)))
        # HubSpot lists newest first; a stable sort keeps same-instant entries in API order
        # reversed back to oldest first.
        points.reverse()
        points.sort(key=lambda p: p[0])
        out[str(name)] = tuple(points)
    return out


def _type_id(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text.isascii() and text.isdigit():
            return int(text)
        return _LABEL_TYPE_IDS.get(text)
    return None


def _collect(pairs: Iterable[tuple[str, int | None]]) -> tuple[AssociationRef, ...]:
    """Merge (to_id, type id) pairs into one ref per id, in first-seen order."""
    by_id: dict[str, set[int]] = {}
    for to_id, type_id in pairs:
        ids = by_id.setdefault(to_id, set())
        if type_id is not None:
            ids.add(type_id)
    return tuple(AssociationRef(to_id, tuple(sorted(ids))) for to_id, ids in by_id.items())


def _v3_associations(raw: object) -> dict[str, tuple[AssociationRef, ...]]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, tuple[AssociationRef, ...]] = {}
    for to_type, block in raw.items():
        results = block.get("results") if isinstance(block, Mapping) else None
        if not isinstance(results, list):
            continue
        pairs = [
            (str(item["id"]), _type_id(item.get("type")))
            for item in results
            if isinstance(item, Mapping) and item.get("id") is not None
        ]
        out[canonical_object_type(str(to_type))] = _collect(pairs)
    return out


def associations_from_v4(payload: Mapping[str, Any]) -> dict[str, tuple[AssociationRef, ...]]:
    """From-id -> refs, from a v4 ``associations/{from}/{to}/batch/read`` response (JSON, or
    the SDK's ``to_dict()`` form with ``_from``/``to_object_id``/``type_id``).

    Several results for one from-id (pages of the same record) are merged.
    """
    pairs: dict[str, list[tuple[str, int | None]]] = {}
    results = payload.get("results")
    for result in results if isinstance(results, list) else ():
        if not isinstance(result, Mapping):
            continue
        source = _field(result, "from", "_from")
        if not isinstance(source, Mapping) or source.get("id") is None:
            continue
        bucket = pairs.setdefault(str(source["id"]), [])
        targets = result.get("to")
        for target in targets if isinstance(targets, list) else ():
            raw_id = _field(target, "toObjectId", "to_object_id") if isinstance(
                target, Mapping) else None
            if raw_id is None:
                continue
            to_id = str(raw_id)
            types = _field(target, "associationTypes", "association_types")
            type_list = types if isinstance(types, list) else []
            bucket.append((to_id, None))
            for t in type_list:
                if isinstance(t, Mapping):
                    bucket.append((to_id, _type_id(_field(t, "typeId", "type_id"))))
    return {from_id: _collect(entries) for from_id, entries in pairs.items()}
