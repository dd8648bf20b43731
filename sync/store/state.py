"""Sticky decisions (R2.3), last written outputs, and checkpoints.

Checkpoints can be read anywhere but set only on a ``Transaction`` (``CheckpointWrites``), so a
checkpoint always moves in the same commit as the data it covers (STYLE.md point 8).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select

from policies.model import Decision, RecordKind, RegistrationStatus
from sync.store.base import IN_CHUNK, OpsBase, PreparedRows, bulk_upsert, chunked
from sync.store.records import OutputChange
from sync.store.schema import checkpoints, decisions, outputs

__all__ = ["CheckpointWrites", "StateOps"]

_DECISION_COLUMNS = (
    "requested_by", "requested_at", "outcome", "reason", "domain", "registered_to", "saved_at",
)
_OUTPUT_COLUMNS = ("value", "written_at", "run_id")
_BATCH = 5_000


def _output_row(c: OutputChange, now: Any, run_id: int | None) -> dict[str, Any]:
    return {"object_type": c.object_type, "object_id": c.object_id, "property": c.property,
            "value": c.value, "written_at": now, "run_id": run_id}


def _decision_row(d: Decision, now: Any) -> dict[str, Any]:
    return {
        "record_kind": d.record_kind.value,
        "record_id": d.record_id,
        "requested_by": d.requested_by,
        "requested_at": d.requested_at,
        "outcome": d.outcome.value,
        "reason": d.reason,
        "domain": d.domain,
        "registered_to": d.registered_to,
        "saved_at": now,
    }


class StateOps(OpsBase):
    def load_decisions(self) -> dict[tuple[RecordKind, str], Decision]:
        """Every stored decision, keyed by (record kind, record id)."""
        found: dict[tuple[RecordKind, str], Decision] = {}
        with self._read() as conn:
            for row in conn.execute(select(decisions)).all():
                kind = RecordKind(row.record_kind)
                found[(kind, row.record_id)] = Decision(
                    record_kind=kind,
                    record_id=row.record_id,
                    requested_by=row.requested_by,
                    requested_at=row.requested_at,
                    outcome=RegistrationStatus(row.outcome),
                    reason=row.reason,
                    domain=row.domain,
                    registered_to=row.registered_to,
                )
        return found

    def save_decisions(self, items: Iterable[Decision]) -> int:
        """Insert or replace decisions by (record kind, record id). Returns the count."""
        now = self._now()
        count = 0
        with self._write() as conn:
            for batch in chunked(items, _BATCH):
                rows = {(d.record_kind, d.record_id): _decision_row(d, now) for d in batch}
                bulk_upsert(conn, self._dialect, decisions, _DECISION_COLUMNS, list(rows.values()))
                count += len(rows)
        return count

    def load_outputs(
        self, object_type: str, ids: Iterable[str] | None = None
    ) -> dict[str, dict[str, str | None]]:
        """Last written output values: ``{object id: {property: value}}`` (all ids if None)."""
        found: dict[str, dict[str, str | None]] = {}
        base = select(outputs.c.object_id, outputs.c.property, outputs.c.value).where(
            outputs.c.object_type == object_type
        )
        with self._read() as conn:
            batches = [None] if ids is None else chunked(ids, IN_CHUNK)
            for batch in batches:
                query = base if batch is None else base.where(outputs.c.object_id.in_(batch))
                for object_id, prop, value in conn.execute(query).all():
                    found.setdefault(object_id, {})[prop] = value
        return found

    def record_outputs(self, changes: Iterable[OutputChange], run_id: int | None) -> int:
        """Remember values just written to HubSpot, stamped with the clock and the run."""
        now = self._now()
        count = 0
        with self._write() as conn:
            for batch in chunked(changes, _BATCH):
                rows = {(c.object_type, c.object_id, c.property): _output_row(c, now, run_id)
                        for c in batch}
                bulk_upsert(conn, self._dialect, outputs, _OUTPUT_COLUMNS, list(rows.values()))
                count += len(rows)
        return count

    def prepare_outputs(self, changes: Iterable[OutputChange], run_id: int | None,
                        into: PreparedRows | None = None) -> PreparedRows:
        """``changes`` bound for ``write_prepared``, added to ``into`` when given: the rows
        ``record_outputs`` would write, stamped now (when HubSpot confirmed the write)."""
        prepared = into or PreparedRows(self._sa_dialect, outputs, _OUTPUT_COLUMNS,
                                        ("object_type", "object_id", "property"))
        now = self._now()
        prepared.add([_output_row(c, now, run_id) for c in changes])
        return prepared

    def get_checkpoint(self, name: str) -> str | None:
        """The checkpoint's value, or None when it was never set."""
        query = select(checkpoints.c.value).where(checkpoints.c.name == name)
        with self._read() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return None if value is None else str(value)


class CheckpointWrites(OpsBase):
    """Only on ``Transaction``: a checkpoint moves with the data it covers."""

    def set_checkpoint(self, name: str, value: str | date) -> None:
        text = value.isoformat() if isinstance(value, date) else value
        with self._write() as conn:
            bulk_upsert(conn, self._dialect, checkpoints, ("value", "updated_at"),
                        [{"name": name, "value": text, "updated_at": self._now()}])
