"""The inbox worker: claim events, drop echoes, group per object, run one targeted sync.

Events are hints, not truth: the worker never reads a property value from a payload, it asks
the engine to re-read the named records (so duplicates and out-of-order deliveries converge on
the same current state, and a re-run writes nothing new). Events about our own output
properties, or made by our own app, are finished without any work (no write loops).

Failure handling, per claimed batch (classes in ``webhooks.failures``):
* ``busy`` (another sync holds the portal's lock, or took it over mid-run): released to be
  claimed again shortly, never counted towards dead-lettering;
* ``outage`` (HubSpot unreachable, 5xx or 429 after the gateway's retries, token refused, store
  unavailable): the whole claim is released untouched (no split, no failure counted) with a
  backoff that grows while outages last;
* ``record`` (anything else): when several objects were in the batch, each object is retried
  on its own at once, so one bad record cannot hold back the others (an outage met while
  splitting stops the split); what still fails is released with exponential backoff and
  dead-lettered at its ``max_attempts``-th failure;
* an event the worker cannot even read (wrong types in a stored payload) is dead-lettered at
  once with the reason: no event's content can stop the worker.

Claims are short and renewed by their holder while it works (``ClaimKeeper``). A worker that died
mid-batch leaves claims whose lease runs out; the next claim takes them, and an event whose claims
are lost ``max_lost_claims`` times (it kills its worker each time) is dead-lettered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from config.settings import InboxSettings
from sync.clock import Clock
from sync.ports import RunSummary, SyncRunner
from sync.store import InboxItem, Store
from webhooks.claim_keeper import ClaimKeeper
from webhooks.events import is_own_echo, records_named
from webhooks.failures import FailureKind, failure_kind

__all__ = ["SYNCED_TYPES", "InboxWorker", "PassResult", "RedeliveryPolicy", "failures"]

log = logging.getLogger(__name__)

SYNCED_TYPES = frozenset({"contacts", "companies", "deals", "subscriptions"})
Record = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RedeliveryPolicy:
    """When a released event comes back: ``base_s * 2**(failures-1)`` after a record failure
    (capped at ``max_s``; dead at ``max_attempts`` failures), ``busy_delay_s`` when busy, and
    ``outage_base_s * 2**(outages-1)`` (capped at ``outage_max_s``) in an outage."""

    base_s: float = 2.0
    max_s: float = 600.0
    max_attempts: int = 8
    busy_delay_s: float = 1.0
    outage_base_s: float = 5.0
    outage_max_s: float = 300.0
    max_lost_claims: int = 3

    @classmethod
    def from_settings(cls, settings: InboxSettings) -> RedeliveryPolicy:
        return cls(settings.retry_base_s, settings.retry_max_s, settings.max_failures,
                   settings.busy_delay_s, settings.outage_base_s, settings.outage_max_s,
                   settings.max_lost_claims)

    def delay_s(self, attempts: int) -> float:
        return float(min(self.base_s * 2 ** max(attempts - 1, 0), self.max_s))

    def outage_delay_s(self, outages: int) -> float:
        return float(min(self.outage_base_s * 2 ** max(outages - 1, 0), self.outage_max_s))


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    message: str


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
    outage: int = 0
    records: int = 0
    run_ids: list[int] = field(default_factory=list)


class InboxWorker:
    """One claimant of the inbox. ``run_once`` is the unit of work; ``WorkerLoop`` repeats it.

    ``settings`` gives every constant; ``batch_size``, ``lease_s`` and ``retry`` override it.
    """

    def __init__(
        self,
        store: Store,
        engine: SyncRunner,
        *,
        clock: Clock,
        output_properties: Iterable[str],
        app_id: str | None,
        worker_id: str,
        settings: InboxSettings | None = None,
        batch_size: int | None = None,
        lease_s: float | None = None,
        retry: RedeliveryPolicy | None = None,
        observe_run: Callable[[RunSummary], None] | None = None,
    ) -> None:
        conf = settings or InboxSettings()
        self._store = store
        self._engine = engine
        self._clock = clock
        self._outputs = frozenset(output_properties)
        self._app_id = app_id
        self.worker_id = worker_id
        self._batch_size = batch_size or conf.batch_size
        self._lease_s = lease_s or conf.claim_lease_s
        self._renew_s = min(conf.claim_renew_s, self._lease_s / 3)
        self._retry = retry or RedeliveryPolicy.from_settings(conf)
        self._observe_run = observe_run
        self._outages = 0  # consecutive passes that met an outage: the backoff grows with it

    def run_once(self) -> PassResult:
        """Claim one batch and finish every event in it (done, retry later or dead)."""
        result = PassResult()
        result.dead += self._store.inbox_bury_lost(self._retry.max_lost_claims)
        items = self._store.inbox_claim(self.worker_id, self._batch_size, self._lease_s)
        result.claimed = len(items)
        ids = [i.item_id for i in items]
        with ClaimKeeper(self._store, self.worker_id, ids, lease_s=self._lease_s,
                         renew_s=self._renew_s):
            groups = self._group(items, result)
            if groups:
                self._sync_groups(groups, result)
        return result

    def _group(
        self, items: Sequence[InboxItem], result: PassResult
    ) -> dict[Record, list[InboxItem]]:
        groups: dict[Record, list[InboxItem]] = {}
        no_work: list[int] = []
        for item in items:
            try:
                records = self._records(item, result)
            except Exception as exc:  # a payload the worker cannot read: never blocks others
                log.warning("inbox event %d is unusable: %s", item.item_id, type(exc).__name__)
                result.dead += 1
                self._store.inbox_dead(item.item_id, f"unusable event: {type(exc).__name__}: "
                                                     f"{exc}"[:2000])
                continue
            if not records:
                no_work.append(item.item_id)
            for record in records:
                groups.setdefault(record, []).append(item)
        if no_work:
            self._store.inbox_done(no_work)
        return groups

    def _records(self, item: InboxItem, result: PassResult) -> list[Record]:
        if is_own_echo(item.payload, self._outputs, self._app_id):
            result.echoes += 1
            return []
        records = [r for r in records_named(item.payload) if r[0] in SYNCED_TYPES]
        if not records:
            result.ignored += 1
        return records

    def _sync_groups(self, groups: dict[Record, list[InboxItem]], result: PassResult) -> None:
        result.records = len(groups)
        outcome = self._sync(list(groups), result)
        failed: list[tuple[list[InboxItem], Failure]]
        if isinstance(outcome, set):  # ok, or partial: only the records whose write failed
            failed = [(groups[r], Failure("record", "write failed"))
                      for r in outcome if r in groups]
        elif outcome.kind != "record" or len(groups) == 1:
            failed = [(items, outcome) for items in groups.values()]
        else:
            failed = self._isolate(groups, result)
        if any(f.kind == "outage" for _, f in failed):
            self._outages += 1
        elif result.run_ids:
            self._outages = 0
        held = {item.item_id for items, _ in failed for item in items}
        self._finish_ok(groups.values(), held, result)
        self._release(failed, result)

    def _isolate(
        self, groups: dict[Record, list[InboxItem]], result: PassResult
    ) -> list[tuple[list[InboxItem], Failure]]:
        """Each object on its own, so only the bad one waits; an outage stops the split."""
        failed: list[tuple[list[InboxItem], Failure]] = []
        pending = list(groups.items())
        for index, (record, items) in enumerate(pending):
            single = self._sync([record], result)
            if isinstance(single, Failure):
                if single.kind != "record":  # the rest waits untouched, unsplit
                    failed += [(rest, single) for _, rest in pending[index:]]
                    break
                failed.append((items, single))
            elif single:
                failed.append((items, Failure("record", "write failed")))
        return failed

    def _sync(self, records: Sequence[Record], result: PassResult) -> set[Record] | Failure:
        """Run one targeted sync. Success: the records whose write failed (empty when none)."""
        try:
            report = self._engine.targeted_sync(sorted(records), trigger="webhook")
        except Exception as exc:
            kind = failure_kind(exc)
            if kind != "busy":
                log.warning("targeted sync of %d records failed (%s): %s", len(records), kind,
                            type(exc).__name__)
            return Failure(kind, f"{type(exc).__name__}: {exc}")
        result.run_ids.append(report.run_id)
        if self._observe_run is not None:
            self._observe_run(report)
        if report.status == "ok":
            return set()
        if report.status == "partial":
            # Re-running is safe (writes are diffs); only the refused records' events wait.
            return {(f.object_type, f.object_id) for f in report.write_failures}
        return Failure("record", report.error or f"targeted sync ended {report.status}")

    def _finish_ok(
        self, groups: Iterable[list[InboxItem]], held: set[int], result: PassResult
    ) -> None:
        # An event naming two objects is done only when every object it names synced.
        ids = {item.item_id for items in groups for item in items} - held
        if ids:
            result.done += self._store.inbox_done(sorted(ids))

    def _release(self, failed: Sequence[tuple[list[InboxItem], Failure]],
                 result: PassResult) -> None:
        now = self._clock.now()
        seen: set[int] = set()
        for items, failure in failed:
            for item in items:
                if item.item_id in seen:
                    continue
                seen.add(item.item_id)
                previous = failures(item.last_error)
                if failure.kind == "busy":
                    # Not a failure: keep the failure count and message, come back shortly.
                    result.busy += 1
                    at = now + timedelta(seconds=self._retry.busy_delay_s)
                    self._store.inbox_retry(item.item_id, item.last_error or "sync busy", at)
                elif failure.kind == "outage":
                    # Not the event's fault: its failure count stays as it was.
                    result.outage += 1
                    at = now + timedelta(seconds=self._retry.outage_delay_s(self._outages))
                    note = _tagged(previous, f"outage: {failure.message}") if previous else \
                        f"outage: {failure.message}"[:2000]
                    self._store.inbox_retry(item.item_id, note, at)
                elif previous + 1 >= self._retry.max_attempts:
                    result.dead += 1
                    self._store.inbox_dead(item.item_id, _tagged(previous + 1, failure.message))
                else:
                    result.retried += 1
                    at = now + timedelta(seconds=self._retry.delay_s(previous + 1))
                    self._store.inbox_retry(item.item_id, _tagged(previous + 1, failure.message),
                                            at)


_TAG = re.compile(r"^\[failure (\d+)\] ")


def failures(last_error: str | None) -> int:
    """How many real failures an event has had (busy releases, outages and lease expiries
    excluded).

    Kept as a ``[failure N]`` prefix of the row's ``last_error``: claims count in ``attempts``
    too, and a long full sync would otherwise dead-letter events that never failed.
    """
    match = _TAG.match(last_error or "")
    return int(match.group(1)) if match else 0


def _tagged(n: int, error: str) -> str:
    return f"[failure {n}] {error[:2000]}"
