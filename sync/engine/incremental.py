"""The incremental sync: read what changed since the last checkpoint, then apply.

For each type the read is one fixed window on the last-modified property (``lastmodifieddate``
for contacts, ``hs_lastmodifieddate`` otherwise), ``[checkpoint - lookback, run start]``, both
ends in epoch ms, sorted by ``hs_object_id`` and walked past the 10,000-result cap by restarting
from the last id + 1 (``Gateway.search_all``), so any number of records sharing one timestamp
is read exactly once. The upper bound is the run's start: a record changed during the run is
left to the next run, whose window starts ``lookback_minutes`` before this run's start and so
also catches records the search index showed late (HubSpot's search lag).

What is searched: contacts with a request or a status (the carriers), every modified company,
deal and subscription; records that show exactly what the mirror holds are dropped
(``echo.unchanged``: our own writes coming back, which cost no association read and no write);
then ``selection.matters`` keeps the records that matter, and new
subscriptions bring their deals (``selection.link_subscriptions``). ``related.expand`` adds
associations and the related records the mirror lacks.

Deletions: search never returns archived records and archiving does not bump the modified
time, so an **archived sweep** lists ``archived=true`` records of every mirrored type and drops
them from the mirror, and re-reads the mirrored records linked to them (their associations
are read again: an archive or merge announces no association change). It runs when the last
sweep (checkpoint ``archived_sweep``) is at least ``sync.archived_sweep_minutes`` old
(default 60; 0: every run; a full sync counts as one): its cost grows with the recycle bin
(HubSpot keeps archived records ~90 days), not with the changes, so it is not paid on every
five-minute run. Archived records the mirror does not hold cost nothing further.

Checkpoints (``modified:<type>`` = the run's start, and ``archived_sweep``) move only in the
apply transaction. The first run without checkpoints is a full sync. Not caught here (the
nightly full reconcile is): association changes that bump neither side's modified time, and a
carrier whose request was cleared before any status was written to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from mappers.outbound import ObjectKey
from mappers.records import RawRecord
from sync.engine.checkpoints import FULL_SYNC, modified_since
from sync.engine.echo import unchanged
from sync.engine.mirror import from_crm
from sync.engine.outcome import ReadOutcome
from sync.engine.properties import OBJECT_TYPES
from sync.engine.related import expand, reread_partners
from sync.engine.report import RunReport
from sync.engine.selection import (
    carrier_groups,
    link_subscriptions,
    matters,
    search_records,
    window,
)

if TYPE_CHECKING:
    from sync.engine.engine import SyncEngine

__all__ = ["ARCHIVED_SWEEP", "incremental_sync", "read_archived"]

ARCHIVED_SWEEP = "archived_sweep"
"""Checkpoint: start of the last run whose archived sweep was committed."""


def incremental_sync(
    engine: SyncEngine, *, as_of: date | None = None, dry_run: bool = False,
    trigger: str = "schedule",
) -> RunReport:
    """Read the changes since the checkpoints and apply (see module); a full sync when any
    type has no checkpoint yet."""
    if any(engine.store.get_checkpoint(modified_since(t)) is None for t in OBJECT_TYPES):
        return engine.full_sync(as_of=as_of, dry_run=dry_run, trigger=trigger)

    def read(started_at: datetime, dry: bool) -> ReadOutcome:
        return _IncrementalRead(engine, started_at, dry).run()

    return engine.execute("incremental", trigger=trigger, as_of=as_of, dry_run=dry_run,
                          read=read)


class _IncrementalRead:
    """One incremental read: windows, selection, archived sweep, expansion."""

    def __init__(self, engine: SyncEngine, started_at: datetime, dry: bool) -> None:
        self.e = engine
        self.started_at = started_at
        self.dry = dry
        self.lookback = timedelta(minutes=engine.settings.sync.lookback_minutes)

    def run(self) -> ReadOutcome:
        e, c = self.e, self.e.contract
        archived = self._sweep() if self._sweep_due() else None
        read = {t: self._changed(t) for t in ("companies", "contacts", "deals")}
        subs, deals = link_subscriptions(e.gateway, e.store, self._changed("subscriptions"))
        read["subscriptions"] = subs
        read["deals"] = list({r.object_id: r for r in (*deals, *read["deals"])}.values())
        gone = archived or {}
        read = {t: [r for r in rs if r.object_id not in gone.get(t, {})]
                for t, rs in read.items()}
        if gone:
            self._partners(read, gone)
        expansion = expand(e.gateway, e.store, c, read, write_mirror=not self.dry)
        counts = {t: len(read[t]) + expansion.fetched[t] for t in OBJECT_TYPES}
        stamp = self.started_at.isoformat()
        marks = {modified_since(t): stamp for t in OBJECT_TYPES}
        if archived is not None:
            marks[ARCHIVED_SWEEP] = stamp
        if self.dry:
            overlay: dict[ObjectKey, RawRecord] = {
                (r.object_type, r.object_id): r for r in expansion.all_records()}
            overlay.update(((t, i), r) for t, by_id in gone.items() for i, r in by_id.items())
            return ReadOutcome(counts, marks, overlay)
        for object_type, by_id in gone.items():
            e.store.delete_records(object_type, by_id)
        return ReadOutcome(counts, marks)

    def _partners(
        self, read: dict[str, list[RawRecord]], gone: dict[str, dict[str, RawRecord]]
    ) -> None:
        """Add to ``read`` the mirrored records linked to the archived ones (their links are
        re-read by the expansion); partners archived too join ``gone``."""
        e = self.e
        partners, lost = reread_partners(e.gateway, e.store, e.contract, gone, read)
        for object_type, records in partners.items():
            read.setdefault(object_type, []).extend(records)
        for object_type, ids in lost.items():
            gone.setdefault(object_type, {}).update(
                (i, RawRecord(object_type, i, {})) for i in ids)

    def _changed(self, object_type: str) -> list[RawRecord]:
        """Records of a type modified in this run's window that matter (subscriptions: all),
        without those that show exactly what the mirror holds (``echo``: our own writes)."""
        e = self.e
        since = datetime.fromisoformat(str(e.store.get_checkpoint(modified_since(object_type))))
        start_ms = _ms(since - self.lookback)
        end_ms = _ms(self.started_at)
        groups = carrier_groups(e.contract) if object_type == "contacts" else []
        found = search_records(e.gateway, object_type, e.contract,
                               window(object_type, groups, start_ms, end_ms))
        if not found:
            return []
        held = e.store.get_records(object_type, found)
        fresh = {i: r for i, r in found.items() if i not in held or not unchanged(r, held[i])}
        if object_type == "subscriptions":
            return list(fresh.values())
        return [r for i, r in fresh.items() if matters(r, e.contract, i in held)]

    def _sweep_due(self) -> bool:
        # A full sync reconciles the mirror, which is a sweep too.
        marks = [self.e.store.get_checkpoint(n) for n in (ARCHIVED_SWEEP, FULL_SYNC)]
        done = [datetime.fromisoformat(m) for m in marks if m is not None]
        if not done:
            return True
        every = timedelta(minutes=self.e.settings.sync.archived_sweep_minutes)
        return self.started_at - max(done) >= every

    def _sweep(self) -> dict[str, dict[str, RawRecord]]:
        """Archived records the mirror holds, by type and id."""
        e = self.e
        out: dict[str, dict[str, RawRecord]] = {}
        for object_type in OBJECT_TYPES:
            held = e.store.record_keys(object_type)
            archived = read_archived(e, object_type)
            out[object_type] = {r.object_id: r for r in archived if r.object_id in held}
        return out


def read_archived(engine: SyncEngine, object_type: str) -> Iterable[RawRecord]:
    """Every archived record of a type (ids only: the list endpoint's minimum), 100 per call."""
    pages = engine.gateway.list_objects(object_type, ["hs_object_id"], archived=True,
                                        page_size=engine.settings.sync.list_page_size)
    for page in pages:
        for record in page.records:
            yield from_crm(object_type, record)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)
