"""The engine's records <-> the store's mirror rows, and gateway records -> ``RawRecord``.

A mirror row keeps exactly what the mappers need to rebuild a ``RawRecord``:

- ``properties``: the values read (inputs and current outputs), HubSpot strings;
- ``history``: ``{property: [[timestamp ms, value], ...]}`` oldest first;
- ``associations``: ``{to type: ["id", "id:1,279", ...]}``, one entry per associated id, with
  the association type ids after a colon when known (they tell the primary company apart).

``to_mirror(from_mirror(row))`` gives back the same row (``fetched_at`` aside).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mappers.records import AssociationRef, RawRecord, from_api
from sync.gateway.models import CrmRecord
from sync.store import MirrorRecord

__all__ = ["associated_ids", "from_crm", "from_mirror", "to_mirror", "with_properties"]


def from_crm(object_type: str, record: CrmRecord) -> RawRecord:
    """A gateway record as the mappers' ``RawRecord`` (v3 association labels included)."""
    payload: dict[str, Any] = {
        "id": record.id,
        "properties": record.properties,
        "propertiesWithHistory": record.properties_with_history,
        "archived": record.archived,
        "updatedAt": record.updated_at,
    }
    if record.associations:
        payload["associations"] = {
            to_type: {"results": [{"id": r.id, "type": r.type} for r in refs]}
            for to_type, refs in record.associations.items()
        }
    return from_api(object_type, payload)


def to_mirror(record: RawRecord) -> MirrorRecord:
    """The mirror row of ``record`` (the store stamps ``fetched_at``)."""
    updated = (
        None if record.updated_at_ms is None
        else datetime.fromtimestamp(record.updated_at_ms / 1000, UTC)
    )
    return MirrorRecord(
        object_type=record.object_type,
        object_id=record.object_id,
        properties=dict(record.properties),
        history={name: [[ms, value] for ms, value in points]
                 for name, points in record.history.items()},
        associations={to_type: [_ref_text(ref) for ref in refs]
                      for to_type, refs in record.associations.items()},
        archived=record.archived,
        updated_at=updated,
    )


def from_mirror(row: MirrorRecord) -> RawRecord:
    """The ``RawRecord`` a mirror row was made from."""
    history = {
        str(name): tuple((int(ms), str(value)) for ms, value in points)
        for name, points in row.history.items()
    }
    associations = {
        str(to_type): tuple(_ref(text) for text in refs)
        for to_type, refs in row.associations.items()
    }
    updated_ms = None if row.updated_at is None else int(row.updated_at.timestamp() * 1000)
    return RawRecord(
        object_type=row.object_type,
        object_id=row.object_id,
        properties=dict(row.properties),
        history=history,
        associations=associations,
        archived=row.archived,
        updated_at_ms=updated_ms,
    )


def with_properties(record: RawRecord, values: Mapping[str, str]) -> RawRecord:
    """A copy of ``record`` whose properties are overlaid with ``values`` (written outputs)."""
    return replace(record, properties={**record.properties, **values})


def _ref_text(ref: AssociationRef) -> str:
    if not ref.type_ids:
        return ref.to_id
    return f"{ref.to_id}:{','.join(str(t) for t in ref.type_ids)}"


def _ref(text: str) -> AssociationRef:
    to_id, _, types = text.partition(":")
    return AssociationRef(to_id, tuple(int(t) for t in types.split(",") if t))


def associated_ids(records: Iterable[RawRecord], to_type: str) -> set[str]:
    """Every id ``records`` are associated with in ``to_type``."""
    return {ref.to_id for r in records for ref in r.associations.get(to_type, ())}
