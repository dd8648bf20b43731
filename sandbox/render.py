"""Records to HubSpot's JSON shapes (SimplePublicObject and friends).

Unset properties are left out; the system properties (``hs_object_id``, creation and
modification dates) are always present; ``propertiesWithHistory`` lists values newest first,
each entry ``{value, timestamp, sourceType}``: HubSpot leaves ``sourceId``, ``sourceLabel`` and
``updatedByUserId`` out when it has none (never ``null``), and the sandbox keeps none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.associations import association_type
from sandbox.schema import DEFAULT_GET_PROPERTIES, SINGULAR
from sandbox.state import SandboxState
from sandbox.store import Record, TypeStore
from sandbox.values import iso_ms

__all__ = ["association_name", "record_json", "v4_targets"]


def _properties(store: TypeStore, rec: Record, names: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    system = ("hs_object_id", store.created_prop, store.modified_prop)
    for name in (*system, *names):
        if name in out:
            continue
        value = store.raw(rec, name)
        if value is not None:
            out[name] = value
    return out


def _with_history(store: TypeStore, rec: Record, names: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        if name not in store.props and name != "hs_object_id":
            continue  # unknown names are ignored, like in `properties`
        out[name] = [
            {"value": value, "timestamp": iso_ms(ts), "sourceType": source}
            for ts, value, source in reversed(store.history(rec, name))
        ]
    return out


def association_name(from_type: str, to_type: str, type_id: int) -> str:
    """The v3 ``type`` string of an association, e.g. ``contact_to_company``."""
    known = association_type(from_type, to_type, type_id)
    if known is not None:
        return known.name
    return f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"


def record_json(
    state: SandboxState,
    store: TypeStore,
    rec: Record,
    properties: list[str] | None = None,
    with_history: list[str] | None = None,
    associations: list[str] | None = None,
) -> dict[str, Any]:
    """One SimplePublicObject(WithAssociations); ``properties`` None means the type's defaults."""
    names = DEFAULT_GET_PROPERTIES[store.type_name] if properties is None else properties
    body: dict[str, Any] = {
        "id": str(rec.id),
        "properties": _properties(store, rec, names),
        "createdAt": iso_ms(rec.created_ms),
        "updatedAt": iso_ms(rec.updated_ms),
        "archived": rec.archived_ms is not None,
    }
    if rec.archived_ms is not None:
        body["archivedAt"] = iso_ms(rec.archived_ms)
    if with_history:
        body["propertiesWithHistory"] = _with_history(store, rec, with_history)
    if associations:
        linked: dict[str, Any] = {}
        for to_type in associations:
            results = [{"id": str(to_id), "type": association_name(store.type_name, to_type, t)}
                       for to_id, tids in state.linked(store.type_name, rec.id, to_type)
                       for t in tids]
            if results:
                linked[to_type] = {"results": results}
        if linked:
            body["associations"] = linked
    return body


def v4_targets(from_type: str, to_type: str,
               targets: list[tuple[int, list[int]]]) -> list[dict[str, Any]]:
    """v4 ``to`` entries: ``{toObjectId, associationTypes: [{category, typeId, label}]}``."""
    out = []
    for to_id, tids in targets:
        types = []
        for tid in tids:
            known = association_type(from_type, to_type, tid)
            types.append({"category": "HUBSPOT_DEFINED", "typeId": tid,
                          "label": known.label if known else None})
        out.append({"toObjectId": str(to_id), "associationTypes": types})
    return out
