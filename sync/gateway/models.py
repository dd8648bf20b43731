"""Plain values the gateway returns: records, pages, batch results, association links, access.

No SDK models leave the gateway. Property values stay HubSpot's strings (mappers parse them);
timestamps (``created_at``, ``updated_at``) stay HubSpot's ISO-8601 strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AccessReport",
    "AssociationLink",
    "AssociationRef",
    "BatchResult",
    "CrmRecord",
    "Page",
    "RecordError",
    "SearchPage",
]


@dataclass(frozen=True, slots=True)
class AssociationRef:
    """An associated record as list/get endpoints return it: id and snake_case type label."""

    id: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """One CRM object. ``associations`` maps the associated object type to its refs (deduped)."""

    id: str
    properties: dict[str, str | None]
    properties_with_history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    associations: dict[str, list[AssociationRef]] = field(default_factory=dict)
    archived: bool = False
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrmRecord:
        associations: dict[str, list[AssociationRef]] = {}
        for to_type, block in (data.get("associations") or {}).items():
            refs = [AssociationRef(str(r["id"]), r.get("type")) for r in block.get("results", ())]
            associations[to_type] = refs
        return cls(
            id=str(data["id"]),
            properties=dict(data.get("properties") or {}),
            properties_with_history=dict(data.get("propertiesWithHistory") or {}),
            associations=associations,
            archived=bool(data.get("archived", False)),
            created_at=data.get("createdAt"),
            updated_at=data.get("updatedAt"),
            archived_at=data.get("archivedAt"),
        )

    def associated_ids(self, to_type: str) -> list[str]:
        """Distinct ids associated in ``to_type`` (a record appears once per label otherwise)."""
        return list(dict.fromkeys(ref.id for ref in self.associations.get(to_type, ())))


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list endpoint; ``next_after`` is None on the last page."""

    records: list[CrmRecord]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results; ``total`` is HubSpot's count for the whole query."""

    records: list[CrmRecord]
    total: int
    next_after: str | None


@dataclass(frozen=True, slots=True)
class RecordError:
    """A batch input HubSpot refused (or that does not exist), with HubSpot's explanation.

    ``ids`` are the record ids HubSpot names; ``trace_ids`` the ``objectWriteTraceId`` values
    of refused write inputs (HubSpot names those inputs by trace id only).
    """

    ids: tuple[str, ...]
    category: str | None
    message: str
    status: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    trace_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class BatchResult:
    """Per-record outcome of a batch read or update (200 and 207 alike)."""

    succeeded: list[CrmRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    @property
    def failed_ids(self) -> list[str]:
        return [i for err in self.errors for i in err.ids]

    def extend(self, other: BatchResult) -> None:
        self.succeeded.extend(other.succeeded)
        self.errors.extend(other.errors)


@dataclass(frozen=True, slots=True)
class AssociationLink:
    """One associated record from associations v4: its id and every (category, typeId, label)."""

    to_id: str
    types: tuple[tuple[str, int, str | None], ...]

    @property
    def type_ids(self) -> tuple[int, ...]:
        return tuple(t[1] for t in self.types)

    def has_label(self, label: str) -> bool:
        return any((t[2] or "").lower() == label.lower() for t in self.types)


@dataclass(slots=True)
class AccessReport:
    """What ``check_access`` found. ``token`` is a fingerprint, never the token."""

    token: str
    token_ok: bool = True
    missing_scopes: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.token_ok and not self.missing_scopes and not self.problems
