"""The local mirror: one row per HubSpot record the engine cares about.

Upserts are one ``executemany`` of ``INSERT .. ON CONFLICT DO UPDATE`` per batch; streaming
walks the primary key in pages (keyset), so memory stays flat however big the mirror is and no
read transaction stays open between pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from sync.store.base import IN_CHUNK, OpsBase, PreparedRows, bulk_upsert, chunked
from sync.store.records import MirrorRecord
from sync.store.schema import decisions, ledger, mirror

__all__ = ["MirrorOps"]

_UPSERT_BATCH = 5_000
_PAGE = 2_000
_DATA_COLUMNS = (
    "properties", "history", "associations", "archived", "updated_at", "fetched_at",
)


def _to_row(rec: MirrorRecord, fetched_default: Any) -> dict[str, Any]:
    return {
        "object_type": rec.object_type,
        "object_id": rec.object_id,
        "properties": dict(rec.properties),
        "history": dict(rec.history),
        "associations": {k: list(v) for k, v in rec.associations.items()},
        "archived": rec.archived,
        "updated_at": rec.updated_at,
        "fetched_at": rec.fetched_at or fetched_default,
    }


def _from_row(row: Row[Any]) -> MirrorRecord:
    return MirrorRecord(
        object_type=row.object_type,
        object_id=row.object_id,
        properties=row.properties,
        history=row.history,
        associations=row.associations,
        archived=bool(row.archived),
        updated_at=row.updated_at,
        fetched_at=row.fetched_at,
    )


_DECISION_KIND = {"companies": "company", "contacts": "contact"}


def _delete_dependents(conn: Connection, object_type: str, ids: list[str]) -> None:
    """The rows that exist only because of these mirror records."""
    if object_type == "deals":
        conn.execute(delete(ledger).where(ledger.c.deal_id.in_(ids)))
    kind = _DECISION_KIND.get(object_type)
    if kind is not None:
        conn.execute(
            delete(decisions).where(decisions.c.record_kind == kind,
                                    decisions.c.record_id.in_(ids))
        )


class MirrorOps(OpsBase):
    def upsert_records(self, records: Iterable[MirrorRecord]) -> int:
        """Insert or replace records (all columns, ``archived`` included). Returns the count.

        A record seen again after being archived comes back un-archived unless it says so.
        """
        now = self._now()
        count = 0
        with self._write() as conn:
            for batch in chunked(records, _UPSERT_BATCH):
                # The last version of a record in one batch wins; ON CONFLICT refuses duplicates.
                rows = {(r.object_type, r.object_id): _to_row(r, now) for r in batch}
                bulk_upsert(conn, self._dialect, mirror, _DATA_COLUMNS, list(rows.values()))
                count += len(rows)
        return count

    def prepare_records(self, records: Iterable[MirrorRecord],
                        into: PreparedRows | None = None) -> PreparedRows:
        """``records`` bound for ``write_prepared``, added to ``into`` when given: the same
        rows ``upsert_records`` would write, ``fetched_at`` stamped now."""
        prepared = into or PreparedRows(self._sa_dialect, mirror, _DATA_COLUMNS,
                                        ("object_type", "object_id"))
        now = self._now()
        prepared.add([_to_row(r, now) for r in records])
        return prepared

    def mark_archived(self, object_type: str, ids: Iterable[str]) -> int:
        """Flag records as archived in HubSpot. Returns how many mirror rows changed."""
        changed = 0
        with self._write() as conn:
            for batch in chunked(ids, IN_CHUNK):
                result = conn.execute(
                    update(mirror)
                    .where(mirror.c.object_type == object_type, mirror.c.object_id.in_(batch))
                    .where(mirror.c.archived.is_(False))
                    .values(archived=True)
                )
                changed += result.rowcount
        return changed

    def delete_records(self, object_type: str, ids: Iterable[str]) -> int:
        """Remove records from the mirror, with what depends on them, in one transaction: a
        deal's ledger rows, a company's or contact's stored decision (DESIGN.md "Time only
        moves forward": a record archived, deleted or merged away takes them with it).
        Returns how many mirror rows were there."""
        deleted = 0
        with self._write() as conn:
            for batch in chunked(ids, IN_CHUNK):
                result = conn.execute(
                    delete(mirror).where(
                        mirror.c.object_type == object_type, mirror.c.object_id.in_(batch)
                    )
                )
                deleted += result.rowcount
                _delete_dependents(conn, object_type, batch)
        return deleted

    def get_records(self, object_type: str, ids: Iterable[str]) -> dict[str, MirrorRecord]:
        """The mirrored records among ``ids``, by id; unknown ids are simply absent."""
        found: dict[str, MirrorRecord] = {}
        with self._read() as conn:
            for batch in chunked(ids, IN_CHUNK):
                rows = conn.execute(
                    select(mirror).where(
                        mirror.c.object_type == object_type, mirror.c.object_id.in_(batch)
                    )
                ).all()
                found.update((row.object_id, _from_row(row)) for row in rows)
        return found

    def iter_records(
        self, object_type: str, *, include_archived: bool = False, page_size: int = _PAGE
    ) -> Iterator[MirrorRecord]:
        """Every record of a type in id order (string order), one page in memory at a time."""
        after: str | None = None
        while True:
            query = select(mirror).where(mirror.c.object_type == object_type)
            if not include_archived:
                query = query.where(mirror.c.archived.is_(False))
            if after is not None:
                query = query.where(mirror.c.object_id > after)
            query = query.order_by(mirror.c.object_id).limit(page_size)
            with self._read() as conn:
                page = [_from_row(row) for row in conn.execute(query).all()]
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].object_id

    def count_records(self, object_type: str, *, include_archived: bool = False) -> int:
        query = select(func.count()).select_from(mirror)
        query = query.where(mirror.c.object_type == object_type)
        if not include_archived:
            query = query.where(mirror.c.archived.is_(False))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def record_keys(self, object_type: str) -> set[str]:
        """The ids of every mirrored record of a type, archived ones included."""
        query = select(mirror.c.object_id).where(mirror.c.object_type == object_type)
        with self._read() as conn:
            return set(conn.execute(query).scalars())

