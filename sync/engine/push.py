"""Batch updates under HubSpot's batch rule: per-input errors by trace id, bisection otherwise.

HubSpot answers a batch create/update with per-input 207 errors only for inputs that carry an
``objectWriteTraceId``; otherwise one invalid input fails the whole call (400
``VALIDATION_ERROR``, 404, 409 ``CONFLICT``) and nothing of it is written (research notes §1.4,
HubSpot's error-handling docs). So:

- every input gets a fresh trace id, and a 207's errors are mapped back to the patches through
  it (or through the record id, when HubSpot names that instead);
- a whole-call refusal is still handled: the chunk is split in halves until the bad inputs stand
  alone. Each bad input becomes a ``WriteFailure`` (a data problem in the run log) and the rest is
  written in as few calls as the split allows: a half whose sibling went through must hold the
  culprit, so it is split again without being sent whole first.

A call that fails for any other reason (an outage after the gateway's retries) fails its chunk
only; an ``AuthError`` stops the push, and so does whatever ``before_chunk`` raises (it runs
before each chunk: a run that lost its lock writes no further chunk).

Chunks are written by a few worker threads at once (``PUSH_WORKERS``), so the push is paced by
HubSpot's budget rather than by one round trip after another. ``before_chunk`` still runs in the
caller's thread, right before its chunk is handed to a free worker (so at most ``PUSH_WORKERS``
chunks are under way when it raises); outcomes are gathered in chunk order; an error stops the
push in the caller's thread, chunks not yet started are dropped and no worker is left running.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from mappers import Patch
from mappers.outbound import ObjectKey
from sync.engine.report import WriteFailure
from sync.gateway import ActionKind, AuthError, BatchResult, Gateway, HubSpotError

__all__ = ["Outcome", "push_patches"]

UNCONFIRMED = "HubSpot did not confirm the update"
PUSH_WORKERS = 3  # chunks written at once: keeps 19 calls/s busy at round trips up to ~150 ms
PUSH_THREAD = "push"


@dataclass(frozen=True, slots=True)
class _Input:
    patch: Patch
    trace_id: str

    def json(self) -> dict[str, object]:
        return {"id": self.patch.object_id, "properties": dict(self.patch.properties),
                "objectWriteTraceId": self.trace_id}


@dataclass(slots=True)
class Outcome:
    """What a push did: patches written, records refused, the batch calls it took, and the
    last-modified time HubSpot gave each written record (its answer's ``updatedAt``)."""

    written: list[Patch] = field(default_factory=list)
    failures: list[WriteFailure] = field(default_factory=list)
    calls: int = 0
    stamps: dict[ObjectKey, str] = field(default_factory=dict)
    refused_whole: bool = False  # some input of it was refused by a whole-call 400/404/409

    def extend(self, other: Outcome) -> None:
        self.written += other.written
        self.failures += other.failures
        self.calls += other.calls
        self.stamps.update(other.stamps)
        self.refused_whole = self.refused_whole or other.refused_whole


def push_patches(
    gateway: Gateway, patches: Sequence[Patch], batch_size: int = 100,
    *, before_chunk: Callable[[], None] | None = None, workers: int | None = None,
    on_chunk: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Write ``patches`` per object type in chunks of ``batch_size`` (see module), ``workers``
    chunks at once (default ``PUSH_WORKERS``). ``on_chunk`` gets each chunk's outcome in the
    caller's thread, in chunk order, as it is gathered (while later chunks are under way)."""
    workers = workers or PUSH_WORKERS
    outcome = Outcome()
    in_flight: deque[Future[Outcome]] = deque()

    def gather() -> None:
        chunk_outcome = in_flight.popleft().result()
        if on_chunk is not None:
            on_chunk(chunk_outcome)
        outcome.extend(chunk_outcome)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=PUSH_THREAD)
    try:
        for object_type in sorted({p.object_type for p in patches}):
            of_type = [_Input(p, secrets.token_hex(6)) for p in patches
                       if p.object_type == object_type]
            for start in range(0, len(of_type), batch_size):
                while len(in_flight) >= workers:
                    gather()
                if before_chunk is not None:
                    before_chunk()
                chunk = of_type[start:start + batch_size]
                in_flight.append(pool.submit(_write, gateway, object_type, chunk, None))
        while in_flight:
            gather()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcome


def _write(gateway: Gateway, object_type: str, chunk: list[_Input],
           known_bad: HubSpotError | None) -> Outcome:
    """Write ``chunk``; ``known_bad`` is the refusal a chunk is known to earn (not re-sent)."""
    refusal = known_bad
    if refusal is None:
        sent = _send(gateway, object_type, chunk)
        if isinstance(sent, Outcome):
            return sent
        refusal, calls = sent, 1
    else:
        calls = 0
    if len(chunk) == 1:
        return Outcome(failures=[_refused(chunk[0], refusal)], calls=calls, refused_whole=True)
    half = len(chunk) // 2
    left = _write(gateway, object_type, chunk[:half], None)
    # The whole chunk was refused and its left half was not: the culprit is on the right.
    right = _write(gateway, object_type, chunk[half:],
                   None if left.refused_whole else refusal)
    left.extend(right)
    left.calls += calls
    return left


def _send(gateway: Gateway, object_type: str, chunk: list[_Input]) -> Outcome | HubSpotError:
    """One call: its outcome, or the ``HubSpotError`` that refused the whole call."""
    try:
        result = gateway.batch_update(object_type, [i.json() for i in chunk])
    except AuthError:
        raise
    except HubSpotError as exc:
        if exc.action.kind is ActionKind.SKIP_RECORD:
            return exc
        failed = [WriteFailure(object_type, i.patch.object_id, str(exc), exc.category)
                  for i in chunk]
        return Outcome(failures=failed, calls=1)
    return _mapped(object_type, chunk, result)


def _mapped(object_type: str, chunk: list[_Input], result: BatchResult) -> Outcome:
    """A 200/207 answer per patch: errors by trace id (or record id), successes by id."""
    by_trace = {t: (e.message, e.category) for e in result.errors for t in e.trace_ids}
    by_id = {i: (e.message, e.category) for e in result.errors for i in e.ids}
    done = {r.id for r in result.succeeded}
    stamps = {(object_type, r.id): r.updated_at for r in result.succeeded if r.updated_at}
    out = Outcome(calls=1, stamps=stamps)
    for item in chunk:
        record_id = item.patch.object_id
        reason = by_trace.get(item.trace_id) or by_id.get(record_id)
        if reason is None and record_id in done:
            out.written.append(item.patch)
            continue
        message, category = reason or (UNCONFIRMED, None)
        out.failures.append(WriteFailure(object_type, record_id, message, category))
    return out


def _refused(item: _Input, refusal: HubSpotError) -> WriteFailure:
    return WriteFailure(item.patch.object_type, item.patch.object_id, str(refusal),
                        refusal.category)
