"""The inbox worker: claim events, drop echoes, group per object, run one targeted sync.

Events are hints, not truth: the worker never reads a property value from a payload, it asks
the engine to re-read the named records (so duplicates and out-of-order deliveries converge on
the same current state, and a re-run writes nothing new). Events about our own output
properties, or made by our own app, are finished without any work (no write loops).

Failure handling, per claimed event:
* another sync holds the portal's lock (``SyncBusy``): released to be claimed again shortly,
  never counted towards dead-lettering;
* the targeted sync failed: when several objects were in the batch, each object is retried on
  its own at once, so one bad record cannot hold back the others; what still fails is released
  with exponential backoff and dead-lettered at its ``max_attempts``-th failure;
* a worker that died mid-batch leaves claimed rows whose lease runs out; the store hands them
  to the next claim (``Store.inbox_claim``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sync.clock import Clock
from sync.ports import RunSummary, SyncRunner, is_busy
from sync.store import InboxItem, Store
from webhooks.events import is_own_echo, records_named

__all__ = ["SYNCED_TYPES", "InboxWorker", "PassResult", "RedeliveryPolicy", "failures"]

log = logging.getLogger(__name__)

SYNCED_TYPES = frozenset({"contacts", "companies", "deals", "subscriptions"})
Record = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RedeliveryPolicy:
    """Backoff before the next claim of a failed event: ``base_s * 2**(attempts-1)``, capped."""

    base_s: float = 2.0
    max_s: float = 600.0
    max_attempts: int = 8
    busy_delay_s: float = 1.0

    def delay_s(self, attempts: int) -> float:
        return float(min(self.base_s * 2 ** max(attempts - 1, 0), self.max_s))


@dataclass(slots=True)
class PassResult:
    """What one ``run_once`` did (event counts; ``run_ids`` of the syncs it ran)."""

    claimed: int = 0
    done: int = 0
    echoes: int = 0
    ignored: int = 0
    retried: int = 0
    dead: int = 0
    busy: int = 0
    records: int = 0
    run_ids: list[int] = field(default_factory=list)


class InboxWorker:
    """One claimant of the inbox. ``run_once`` is the unit of work; ``WorkerLoop`` repeats it."""

    def __init__(
        self,
        store: Store,
        engine: SyncRunner,
        *,
        clock: Clock,
        output_properties: Iterable[str],
        app_id: str | None,
        worker_id: str,
        batch_size: int = 500,
        lease_s: float = 300.0,
        retry: RedeliveryPolicy | None = None,
        observe_run: Callable[[RunSummary], None] | None = None,
    ) -> None:
        self._store = store
        self._engine = engine
        self._clock = clock
        self._outputs = frozenset(output_properties)
        self._app_id = app_id
        self.worker_id = worker_id
        self._batch_size = batch_size
        self._lease_s = lease_s
        self._retry = retry or RedeliveryPolicy()
        self._observe_run = observe_run

    def run_once(self) -> PassResult:
        """Claim one batch and finish every event in it (done, retry later or dead)."""
        result = PassResult()
        items = self._store.inbox_claim(self.worker_id, self._batch_size, self._lease_s)
        result.claimed = len(items)
        groups: dict[Record, list[InboxItem]] = {}
        no_work: list[int] = []
        for item in items:
            if is_own_echo(item.payload, self._outputs, self._app_id):
                result.echoes += 1
                no_work.append(item.item_id)
                continue
            records = [r for r in records_named(item.payload) if r[0] in SYNCED_TYPES]
            if not records:
                result.ignored += 1
                no_work.append(item.item_id)
            for record in records:
                groups.setdefault(record, []).append(item)
        if no_work:
            self._store.inbox_done(no_work)
        if groups:
            self._sync_groups(groups, result)
        return result

    def _sync_groups(self, groups: dict[Record, list[InboxItem]], result: PassResult) -> None:
        result.records = len(groups)
        outcome = self._sync(list(groups), result)
        if isinstance(outcome, set):  # ok, or partial: only the records whose write failed
            failed = [(groups[r], "write failed") for r in outcome if r in groups]
        elif outcome == "busy" or len(groups) == 1:
            failed = [(items, outcome) for items in groups.values()]
        else:
            # Isolate the failure: each object on its own, so only the bad one waits and retries.
            failed = []
            for record, items in groups.items():
                single = self._sync([record], result)
                if isinstance(single, str):
                    failed.append((items, single))
                elif single:
                    failed.append((items, "write failed"))
        held = {item.item_id for items, _ in failed for item in items}
        self._finish_ok(groups.values(), held, result)
        self._release(failed, result)

    def _sync(self, records: Sequence[Record], result: PassResult) -> set[Record] | str:
        """Run one targeted sync. Success: the records whose write failed (empty when none);
        failure: ``"busy"`` or the error text."""
        try:
            report = self._engine.targeted_sync(sorted(records), trigger="webhook")
        except Exception as exc:
            if is_busy(exc):
                return "busy"
            log.warning("targeted sync of %d records raised %s", len(records), type(exc).__name__)
            return f"{type(exc).__name__}: {exc}"
        result.run_ids.append(report.run_id)
        if self._observe_run is not None:
            self._observe_run(report)
        if report.status == "ok":
            return set()
        if report.status == "partial":
            # Re-running is safe (writes are diffs); only the refused records' events wait.
            return {(f.object_type, f.object_id) for f in report.write_failures}
        return report.error or f"targeted sync ended {report.status}"

    def _finish_ok(
        self, groups: Iterable[list[InboxItem]], held: set[int], result: PassResult
    ) -> None:
        # An event naming two objects is done only when every object it names synced.
        ids = {item.item_id for items in groups for item in items} - held
        if ids:
            result.done += self._store.inbox_done(sorted(ids))

    def _release(self, failed: Sequence[tuple[list[InboxItem], str]], result: PassResult) -> None:
        now = self._clock.now()
        seen: set[int] = set()
        for items, error in failed:
            for item in items:
                if item.item_id in seen:
                    continue
                seen.add(item.item_id)
                previous = failures(item.last_error)
                if error == "busy":
                    # Not a failure: keep the failure count and message, come back shortly.
                    result.busy += 1
                    at = now + timedelta(seconds=self._retry.busy_delay_s)
                    self._store.inbox_retry(item.item_id, item.last_error or "sync busy", at)
                elif previous + 1 >= self._retry.max_attempts:
                    result.dead += 1
                    self._store.inbox_dead(item.item_id, _tagged(previous + 1, error))
                else:
                    result.retried += 1
                    at = now + timedelta(seconds=self._retry.delay_s(previous + 1))
                    self._store.inbox_retry(item.item_id, _tagged(previous + 1, error), at)


_TAG = re.compile(r"^\[failure (\d+)\] ")


def failures(last_error: str | None) -> int:
    """How many real failures an event has had (busy releases and lease expiries excluded).

    Kept as a ``[failure N]`` prefix of the row's ``last_error``: claims count in ``attempts``
    too, and a long full sync would otherwise dead-letter events that never failed.
    """
    match = _TAG.match(last_error or "")
    return int(match.group(1)) if match else 0


def _tagged(n: int, error: str) -> str:
    return f"[failure {n}] {error[:2000]}"
