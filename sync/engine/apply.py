"""Evaluate the mirror, diff, push, and commit: the part every sync kind ends with.

``evaluate`` loads the whole mirror, maps it (the store's sticky decisions merged with those read
back from the records, R2.3), runs ``evaluate_program`` at ``as_of`` and diffs the desired
outputs against the output values the records hold now. A record that still shows outputs the
result no longer gives it (a removed request or membership) gets them cleared.

``push`` sends the patches with batch updates (``batch_size`` per call, per object type); a
record HubSpot refuses (207 error, bisected 400) becomes a ``WriteFailure`` and the others are
written. A failed call (after the gateway's retries) fails its chunk only; an auth failure
stops the push.

``commit`` makes ONE store transaction of: the decisions that changed, the ledger of every deal
(a diff: months never repeat), the values just written (last-written outputs and the mirror
rows' output values and last-modified time, successful writes only), the checkpoints, and the
run log's final status, counts and problems. A dry run commits the run log entry only.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from config.contract import CrmContract
from config.terms import ProgramTerms
from mappers import Patch, RawRecord, desired_outputs, diff, to_program
from mappers.outbound import ObjectKey
from policies import evaluate_program
from policies.model import Problem, Program, ProgramResult
from sync.engine.mirror import from_mirror, to_mirror, with_properties
from sync.engine.properties import OBJECT_TYPES, OUTPUT_TYPES
from sync.engine.report import WriteFailure
from sync.engine.selection import MODIFIED_PROPERTY
from sync.gateway import AuthError, Gateway, HubSpotError
from sync.store import Fence, OutputChange, Store

__all__ = ["Evaluation", "Pushed", "commit", "evaluate", "evaluate_paused_gc", "push"]

_KIND = {"companies": "company", "contacts": "contact", "deals": "deal"}
WRITE_FAILED = "write_failed"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The mirror as mapped and evaluated at ``as_of``, and the patches that make HubSpot agree."""

    records: dict[ObjectKey, RawRecord]
    result: ProgramResult
    problems: tuple[Problem, ...]
    patches: list[Patch]
    store_decisions_changed: int

    @property
    def decided(self) -> dict[str, int]:
        r = self.result
        return {"registrations": len(r.registrations), "deals": len(r.deals),
                "members": len(r.members)}


@dataclass(frozen=True, slots=True)
class Pushed:
    """Patches HubSpot accepted, the records it refused, and the last-modified time HubSpot
    gave each written record (its answer's ``updatedAt``, when it sent one)."""

    written: list[Patch]
    failures: list[WriteFailure]
    stamps: dict[ObjectKey, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for patch in self.written:
            out[patch.object_type] = out.get(patch.object_type, 0) + 1
        return out


def evaluate_paused_gc(program: Program, terms: ProgramTerms, as_of: date) -> ProgramResult:
    """``evaluate_program`` with the cyclic garbage collector paused (restored afterwards).

    Why: the evaluation keeps nearly everything it allocates until it returns, so the
    collector finds nothing to free yet rescans the whole loaded mirror on every full
    collection, several times per run (about a third of the run on profile M, bench/README.md).
    The policies stay free of process-wide state; this entrypoint pays for the pause.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return evaluate_program(program, terms, as_of)
    finally:
        if was_enabled:
            gc.enable()


def evaluate(
    store: Store,
    contract: CrmContract,
    terms: ProgramTerms,
    as_of: date,
    overlay: Mapping[ObjectKey, RawRecord] | None = None,
    *,
    complete: bool = False,
) -> Evaluation:
    """Map and evaluate the whole mirror at ``as_of``; diff against the records' outputs.

    ``overlay`` (a dry run's reads, kept out of the mirror) replaces mirror records by key;
    with ``complete`` it is the whole program and the mirror is not read at all.
    """
    records: dict[ObjectKey, RawRecord] = {}
    if overlay is None or not complete:
        records = {
            (r.object_type, r.object_id): from_mirror(r)
            for t in OBJECT_TYPES for r in store.iter_records(t)
        }
    records.update(overlay or {})
    records = {k: r for k, r in records.items() if not r.archived}
    stored = store.load_decisions()
    program, map_problems = to_program(records.values(), contract, terms, stored)
    result = evaluate_paused_gc(program, terms, as_of)
    desired = desired_outputs(result, contract)
    current: dict[ObjectKey, dict[str, str | None]] = {}
    for object_type in OUTPUT_TYPES:
        names = contract.output_names(object_type)
        for key, record in records.items():
            if key[0] != object_type:
                continue
            held = {n: record.properties.get(n) for n in names if record.properties.get(n)}
            current[key] = held
            clears = dict.fromkeys(held, "")
            if clears:  # outputs the result no longer gives this record are cleared
                desired[key] = {**clears, **desired.get(key, {})}
    patches = diff(desired, current, contract)
    changed = sum(1 for k, d in result.decisions.items() if stored.get(k) != d)
    problems = tuple(sorted(
        set(map_problems) | set(result.problems),
        key=lambda p: (p.record_kind, p.record_id, p.code, p.detail),
    ))
    return Evaluation(records, result, problems, patches, changed)


def push(
    gateway: Gateway, patches: Sequence[Patch], batch_size: int = 100,
    *, before_chunk: Callable[[], None] | None = None,
) -> Pushed:
    """Write ``patches`` (see module). Raises ``AuthError`` when the token is refused.

    ``before_chunk`` runs before each batch call; what it raises stops the push (a run that
    lost its lock writes no further chunk).
    """
    pushed = Pushed([], [])
    for object_type in sorted({p.object_type for p in patches}):
        of_type = [p for p in patches if p.object_type == object_type]
        for start in range(0, len(of_type), batch_size):
            if before_chunk is not None:
                before_chunk()
            chunk = of_type[start:start + batch_size]
            _push_chunk(gateway, object_type, chunk, pushed)
    return pushed


def _push_chunk(gateway: Gateway, object_type: str, chunk: list[Patch], into: Pushed) -> None:
    inputs = [{"id": p.object_id, "properties": dict(p.properties)} for p in chunk]
    try:
        result = gateway.batch_update(object_type, inputs)
    except AuthError:
        raise
    except HubSpotError as exc:
        into.failures.extend(
            WriteFailure(object_type, p.object_id, str(exc), exc.category) for p in chunk)
        return
    done = {r.id for r in result.succeeded}
    into.stamps.update(((object_type, r.id), r.updated_at)
                       for r in result.succeeded if r.updated_at)
    reasons = {i: (e.message, e.category) for e in result.errors for i in e.ids}
    into.failures.extend(
        WriteFailure(object_type, p.object_id,
                     *reasons.get(p.object_id, ("HubSpot did not confirm the update", None)))
        for p in chunk if p.object_id not in done
    )
    into.written.extend(p for p in chunk if p.object_id in done)


def as_written(record: RawRecord, patch: Patch, stamp: str | None) -> RawRecord:
    """``record`` as HubSpot now holds it after ``patch``: the written values, and, when HubSpot
    answered with the write's time, that time as the record's last-modified property. A later
    search that finds the record with exactly these values and that time finds our own write
    (``sync.engine.echo``)."""
    values = dict(patch.properties)
    if stamp is not None:
        values[MODIFIED_PROPERTY[record.object_type]] = stamp
    return with_properties(record, values)


def failure_problems(failures: Sequence[WriteFailure]) -> list[Problem]:
    """Write failures as run-log problems (code ``write_failed``)."""
    return [
        Problem(_KIND.get(f.object_type, f.object_type), f.object_id, WRITE_FAILED, f.message)
        for f in failures
    ]


def commit(
    store: Store,
    run_id: int,
    evaluation: Evaluation,
    pushed: Pushed | None,
    *,
    status: str,
    counts: Mapping[str, Mapping[str, int]],
    checkpoints: Mapping[str, str],
    problems: Sequence[Problem],
    fence: Fence | None = None,
) -> None:
    """One transaction (see module). ``pushed`` None: a dry run, only the run log is written.

    ``fence``: the sync lock the run holds, checked first inside the transaction; a run that
    lost it commits nothing (``LockLost``).
    """
    with store.transaction() as tx:
        if fence is not None:
            tx.check_fence(fence)
        if pushed is not None:
            result = evaluation.result
            stored = tx.load_decisions()
            tx.save_decisions(d for k, d in result.decisions.items() if stored.get(k) != d)
            deal_ids = {i for t, i in evaluation.records if t == "deals"}
            deal_ids |= set(result.deals) | {m.deal_id for m in result.ledger}
            tx.replace_ledger_for_deals(deal_ids, result.ledger)
            tx.record_outputs(
                (OutputChange(p.object_type, p.object_id, name, value or None)
                 for p in pushed.written for name, value in p.properties.items()),
                run_id,
            )
            tx.upsert_records(
                to_mirror(as_written(evaluation.records[(p.object_type, p.object_id)], p,
                                     pushed.stamps.get((p.object_type, p.object_id))))
                for p in pushed.written
                if (p.object_type, p.object_id) in evaluation.records
            )
            for name, value in checkpoints.items():
                tx.set_checkpoint(name, value)
        if problems:
            tx.add_run_problems(run_id, problems)
        tx.finish_run(run_id, status, counts)
