"""``SyncEngine``: the facade the CLI, the scheduler, webhooks and the admin API call.

Every run takes the store lock ``sync:<portal id>`` (``SyncBusy`` when another run holds it),
opens a run in the run log, reads (or not), evaluates the mirror at ``as_of`` (the clock's UTC
date by default), pushes the patches unless ``dry_run``, and ends with ONE store transaction
(``apply.commit``) that first proves the run still holds the lock (its fence); a run that lost
the lock pushes no further chunk and commits nothing (``SyncError`` kind ``lock_lost``). The
portal id comes from the account-info API once per token and is kept in the store, so replicas
holding different tokens of one portal (a token rotation) take the same lock.
A HubSpot failure that stops a run is logged as a failed run and raised as ``SyncError``
(``kind`` says auth / unreachable / hubspot). Every run, finished or failed, logs one line
with its totals (``sync.logs.log_run_summary``, logger ``partner_sync.runs``).

Read strategies plug in through ``execute(kind, read=...)``: ``read(started_at, dry_run)``
returns a ``ReadOutcome`` (the incremental and targeted reads use the same path).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime

from config.contract import CrmContract
from config.settings import Settings
from mappers.outbound import Patch
from policies.model import Problem
from sync.clock import Clock, SystemClock
from sync.engine import apply, incremental, targeted
from sync.engine.checkpoints import FULL_SYNC, modified_since
from sync.engine.forward import check_forward
from sync.engine.full import read_full
from sync.engine.lease import LEASE_S, LockLease
from sync.engine.outcome import Reader, ReadOutcome
from sync.engine.properties import OBJECT_TYPES
from sync.engine.related import linked_to
from sync.engine.report import (
    ErrorKind,
    RunReport,
    SyncBusy,
    SyncError,
    WriteFailure,
    api_delta,
)
from sync.engine.setup import InitReport, init_portal
from sync.gateway import AuthError, Gateway, HubSpotError
from sync.logs import log_run_summary
from sync.store import LockLost, Store

__all__ = ["ReadOutcome", "Reader", "SyncEngine"]

LOCK_LEASE_S = LEASE_S
"""The sync lock's default lease (renewed by a heartbeat while a run holds it, see ``lease``)."""
PORTAL_ID_KEY = "hubspot:portal_id:"
"""Store key (followed by the token's fingerprint) of the portal id the token belongs to."""


class SyncEngine:
    """One portal's sync engine over a gateway and a store (see module)."""

    def __init__(
        self, settings: Settings, *, gateway: Gateway, store: Store, clock: Clock | None = None
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.contract: CrmContract = settings.contract()
        self.terms = settings.terms()
        self.lock_lease_s = settings.sync.lock_lease_s
        self._portal_id: int | None = None

    # -- the portal and its lock ---------------------------------------------------------------

    @property
    def lock_name(self) -> str:
        """``sync:<portal id>``: one lock per portal, whichever token a replica holds."""
        return f"sync:{self.portal_id()}"

    def portal_id(self) -> int:
        """The token's portal id: from the store, else read once from HubSpot and kept."""
        if self._portal_id is None:
            key = PORTAL_ID_KEY + self.gateway.token_fingerprint
            stored = self.store.get_checkpoint(key)
            if stored is not None and stored.isascii() and stored.isdecimal():
                self._portal_id = int(stored)
            else:
                portal = self.gateway.portal_id()
                with self.store.transaction() as tx:
                    tx.set_checkpoint(key, str(portal))
                self._portal_id = portal
        return self._portal_id

    # -- portal setup and full runs ----------------------------------------------------------

    def init_portal(self) -> InitReport:
        """Create the property group and every contract property; idempotent."""
        return init_portal(self.gateway, self.contract)

    def full_sync(
        self, *, as_of: date | None = None, dry_run: bool = False, trigger: str = "cli"
    ) -> RunReport:
        """Read everything that matters (``full.read_full``), reconcile the mirror, apply."""

        def read(started_at: datetime, dry: bool) -> ReadOutcome:
            done = read_full(self.gateway, self.store, self.contract, write_mirror=not dry,
                             page_size=self.settings.sync.search_page_size)
            stamp = started_at.isoformat()
            marks = {FULL_SYNC: stamp, **{modified_since(t): stamp for t in OBJECT_TYPES}}
            return ReadOutcome(done.read, marks, done.records, complete=True)

        return self.execute("full", trigger=trigger, as_of=as_of, dry_run=dry_run, read=read)

    def reevaluate(
        self, *, as_of: date | None = None, dry_run: bool = False, trigger: str = "schedule"
    ) -> RunReport:
        """Evaluate the mirror at ``as_of`` and push the differences; no HubSpot read at all."""
        return self.execute("reevaluate", trigger=trigger, as_of=as_of, dry_run=dry_run)

    # -- incremental and targeted reads (sync/engine/incremental.py, targeted.py) ---------

    def incremental_sync(
        self, *, as_of: date | None = None, dry_run: bool = False, trigger: str = "schedule"
    ) -> RunReport:
        """Read what changed since the checkpoints, then apply (``sync.engine.incremental``)."""
        return incremental.incremental_sync(self, as_of=as_of, dry_run=dry_run, trigger=trigger)

    def targeted_sync(
        self, records: Sequence[tuple[str, str]], *, as_of: date | None = None,
        trigger: str = "webhook",
    ) -> RunReport:
        """Re-read the named ``(object_type, id)`` records, then apply."""
        return targeted.targeted_sync(self, records, as_of=as_of, trigger=trigger)

    def resync_member(self, member: str, *, trigger: str = "admin") -> RunReport:
        """Re-read one member (partner code or company id) and what hangs on it."""
        return targeted.resync_member(self, member, trigger=trigger)

    def resync_type(self, object_type: str, *, trigger: str = "admin") -> RunReport:
        """Re-read every record of one object type."""
        return targeted.resync_type(self, object_type, trigger=trigger)

    # -- the run ------------------------------------------------------------------------------

    def execute(
        self,
        kind: str,
        *,
        trigger: str,
        as_of: date | None = None,
        dry_run: bool = False,
        read: Reader | None = None,
    ) -> RunReport:
        """One run under the lock: read (when ``read`` is given), evaluate, push, commit.

        A writing run at an ``as_of`` before the store's evaluation date raises
        ``forward.ClockWentBack`` before anything is read or written.
        """
        as_of = as_of or self.clock.today()
        try:
            name = self.lock_name
        except HubSpotError as exc:  # no portal id: a failed run, as its first call would be
            failure = exc

            def unresolved(_started_at: datetime, _dry_run: bool) -> ReadOutcome:
                raise failure

            return _Run(self, kind, trigger, as_of, dry_run, None).go(unresolved)
        lease = LockLease(self.store, name, lease_s=self.lock_lease_s)
        with lease as held:
            if not held:
                raise SyncBusy(f"another sync holds {name}")
            if not dry_run:
                check_forward(self.store, as_of)
            run = _Run(self, kind, trigger, as_of, dry_run, lease)
            report = run.go(read)
        if run.partners:  # records linked to ones a write found gone: their links are stale
            # Busy: the run holding the lock reads the portal after this one's commit.
            with suppress(SyncBusy):
                self.targeted_sync(run.partners, as_of=as_of, trigger="record_gone")
        return report


class _Run:
    """The state of one run, so each step stays a small method."""

    def __init__(
        self, engine: SyncEngine, kind: str, trigger: str, as_of: date, dry_run: bool,
        lease: LockLease | None,
    ) -> None:
        self.e = engine
        self.kind, self.trigger, self.as_of, self.dry_run = kind, trigger, as_of, dry_run
        self.lease = lease
        self.started_at = engine.clock.now()
        self.metrics_before = engine.gateway.metrics.snapshot()
        self.run_id = engine.store.start_run(kind, as_of, trigger,
                                             lock=lease.fence if lease else None)
        self.read = ReadOutcome({})
        self.partners: list[tuple[str, str]] = []  # to re-read once this run has committed

    def go(self, read: Reader | None) -> RunReport:
        """Run the steps; every run, finished or failed, logs one line with its totals."""
        try:
            report = self._guarded(read)
        except SyncError as exc:
            if exc.report is not None:
                log_run_summary(exc.report)
            raise
        log_run_summary(report)
        return report

    def _guarded(self, read: Reader | None) -> RunReport:
        try:
            return self._run_steps(read)
        except AuthError as exc:
            self._fail(str(exc), "auth", exc)
        except LockLost as exc:
            self._fail(f"{exc}: nothing was committed", "lock_lost", exc)
        except HubSpotError as exc:
            unreachable = exc.status is None
            self._fail(str(exc), "unreachable" if unreachable else "hubspot", exc)
        except Exception as exc:
            self._fail(f"{type(exc).__name__}: {exc}", "internal", exc)
        raise AssertionError("unreachable")  # pragma: no cover - _fail always raises

    def _run_steps(self, read: Reader | None) -> RunReport:
        e = self.e
        if read is not None:
            self.read = read(self.started_at, self.dry_run)
        ev = apply.evaluate(e.store, e.contract, e.terms, self.as_of, self.read.overlay,
                            complete=self.read.complete)
        if not self.dry_run:
            self._ensure_held()
        rows = None if self.dry_run else apply.CommitRows(e.store, ev, self.run_id)
        pushed = None if self.dry_run else apply.settle_gone(apply.push(
            e.gateway, ev.patches, e.settings.sync.batch_size, before_chunk=self._ensure_held,
            rows=rows))
        failures = pushed.failures if pushed else []
        if pushed is not None and pushed.gone:
            self.partners = self._partners_of(pushed.gone)
        status = "partial" if failures else "ok"
        problems = [*ev.problems, *apply.failure_problems(failures),
                    *apply.gone_problems(pushed.gone if pushed else [])]
        written = pushed.counts() if pushed else {}
        counts = self._counts(ev, written, len(failures))
        apply.commit(e.store, self.run_id, ev, pushed, status=status, counts=counts,
                     checkpoints=self.read.checkpoints, problems=problems,
                     fence=self.lease.fence if self.lease else None, rows=rows)
        return self._report(status, patches=ev.patches, written=written, failures=failures,
                            problems=problems, decided=ev.decided)

    def _partners_of(self, gone: Sequence[WriteFailure]) -> list[tuple[str, str]]:
        """The mirrored records linked to the records a write found gone (``linked_to``)."""
        by_type: dict[str, set[str]] = {}
        for failure in gone:
            by_type.setdefault(failure.object_type, set()).add(failure.object_id)
        linked = linked_to(self.e.store, by_type)
        return sorted((t, i) for t, ids in linked.items()
                      for i in self.e.store.get_records(t, ids))

    def _ensure_held(self) -> None:
        if self.lease is None:
            raise LockLost("this run holds no sync lock")
        self.lease.ensure_held()

    def _counts(
        self, ev: apply.Evaluation, written: dict[str, int], failed: int
    ) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {
            t: {"read": self.read.records_read.get(t, 0), "written": written.get(t, 0)}
            for t in OBJECT_TYPES
        }
        counts["patches"] = {"planned": len(ev.patches), "failed": failed}
        counts["decided"] = ev.decided
        # Calls and 429s so far, kept in the run log for the console's per-run chart.
        calls, limited = api_delta(self.metrics_before, self.e.gateway.metrics.snapshot())
        counts["api"] = {"calls": sum(calls.values()), "rate_limited": limited}
        return counts

    def _report(
        self,
        status: str,
        error: str | None = None,
        *,
        patches: Sequence[Patch] = (),
        written: dict[str, int] | None = None,
        failures: Sequence[WriteFailure] = (),
        problems: Sequence[Problem] = (),
        decided: dict[str, int] | None = None,
    ) -> RunReport:
        calls, limited = api_delta(self.metrics_before, self.e.gateway.metrics.snapshot())
        return RunReport(
            run_id=self.run_id, kind=self.kind, trigger=self.trigger, as_of=self.as_of,
            started_at=self.started_at, finished_at=self.e.clock.now(), status=status,
            dry_run=self.dry_run, records_read=dict(self.read.records_read), api_calls=calls,
            rate_limited=limited, patches=list(patches), written=dict(written or {}),
            write_failures=list(failures), problems=list(problems), decided=dict(decided or {}),
            error=error,
        )

    def _fail(self, message: str, kind: ErrorKind, exc: Exception) -> None:
        self.e.store.finish_run(self.run_id, "failed", {}, message)
        raise SyncError(message, kind, self._report("failed", message)) from exc
