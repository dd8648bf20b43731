"""Small builders of ``RawRecord`` values and HubSpot JSON for the mapper tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.contract import CrmContract
from config.terms import ProgramTerms, load_terms
from mappers.records import AssociationRef, RawRecord

CONTRACT = CrmContract()
TERMS: ProgramTerms = load_terms()


def record(
    object_type: str,
    object_id: str,
    props: Mapping[str, str | None] | None = None,
    *,
    history: dict[str, tuple[tuple[int, str], ...]] | None = None,
    assoc: dict[str, list[tuple[str, tuple[int, ...]]]] | None = None,
    archived: bool = False,
    updated_at_ms: int | None = None,
    **properties: str | None,
) -> RawRecord:
    return RawRecord(
        object_type=object_type,
        object_id=object_id,
        properties={**(props or {}), **properties},
        history=history or {},
        associations={
            to_type: tuple(AssociationRef(i, t) for i, t in refs)
            for to_type, refs in (assoc or {}).items()
        },
        archived=archived,
        updated_at_ms=updated_at_ms,
    )


def member(
    company_id: str, code: str | None, kind: str = "partner",
    extra: Mapping[str, str] | None = None,
) -> RawRecord:
    c = CONTRACT
    props: dict[str, str | None] = {c.program_type: kind, c.code: code, "domain": "m.example"}
    props.update(extra or {})
    return record("companies", company_id, props)


def api_object(object_id: str, **fields: Any) -> dict[str, Any]:
    """HubSpot object JSON with the required fields and whatever the test adds."""
    base: dict[str, Any] = {
        "id": object_id,
        "properties": {"hs_object_id": object_id},
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-02T03:04:05.678Z",
        "archived": False,
    }
    base.update(fields)
    return base
