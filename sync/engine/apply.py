"""Evaluate the mirror, diff, push, and commit: the part every sync kind ends with.

``evaluate`` loads the whole mirror, maps it (the store's sticky decisions merged with those read
back from the records, R2.3), runs ``evaluate_program`` at ``as_of`` and diffs the desired
outputs against the output values the records hold now. A record that still shows outputs the
result no longer gives it (a removed request or membership) gets them cleared.

``push`` sends the patches with batch updates (``batch_size`` per call, per object type); a
record HubSpot refuses (207 error, bisected 400) becomes a ``WriteFailure`` and the others are
written. A failed call (after the gateway's retries) fails its chunk only; an auth failure
stops the push.

``commit`` makes ONE store transaction of: the decisions that changed (only on facts dated up
to ``as_of``, POLICY.md §0), the ledger of every deal (a diff: months never repeat; rows of
deals no longer in the mirror are removed), the values just written (last-written outputs and
the mirror rows' output values and last-modified time, successful writes only), the
checkpoints, the store's evaluation date (``forward.advance``), the removal of records HubSpot
answered "not found" (``settle_gone``), and the run log's final status, counts and problems. A
dry run commits the run log entry only.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from config.contract import CrmContract
from config.terms import ProgramTerms
from mappers import Patch, RawRecord, desired_outputs, diff, to_program
from mappers.outbound import ObjectKey
from mappers.parse import parse_timestamp_ms
from policies import evaluate_program
from policies.model import Decision, Problem, Program, ProgramResult, RecordKind
from policies.requests import is_decision
from sync.engine.forward import advance
from sync.engine.mirror import from_mirror, to_mirror, with_properties
from sync.engine.properties import OBJECT_TYPES, OUTPUT_TYPES
from sync.engine.push import Outcome, push_patches
from sync.engine.report import WriteFailure
from sync.engine.selection import MODIFIED_PROPERTY
from sync.gateway import Gateway
from sync.store import Fence, MirrorRecord, OutputChange, PreparedRows, Store

__all__ = [
    "CommitRows", "Evaluation", "Pushed", "commit", "decisions_up_to", "evaluate",
    "evaluate_paused_gc", "push",
]

DecisionKey = tuple[RecordKind, str]
_KIND = {"companies": "company", "contacts": "contact", "deals": "deal"}
WRITE_FAILED = "write_failed"
RECORD_GONE = "record_gone"
NOT_FOUND = "OBJECT_NOT_FOUND"
RUN_INIT = "a property lacks an option: run `partner-sync init`, which adds missing options"
_OPTION_MISSING = "was not one of the allowed options"


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
    """Patches HubSpot accepted, the records it refused, the last-modified time HubSpot gave
    each written record (its answer's ``updatedAt``, when it sent one), and (``settle_gone``)
    the records it no longer has: archived, deleted or merged away after they were read."""

    written: list[Patch]
    failures: list[WriteFailure]
    stamps: dict[ObjectKey, str] = field(default_factory=dict)
    gone: list[WriteFailure] = field(default_factory=list)

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
    stored = decisions_up_to(store.load_decisions(), as_of)
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


def decisions_up_to(
    decisions: Mapping[DecisionKey, Decision], as_of: date
) -> dict[DecisionKey, Decision]:
    """§0: the decisions on facts dated on or before ``as_of`` that decided something.

    A preview of a past date sees only what had been decided by then; a stored non-decision
    (a legacy ``requested_in_future``) is never replayed.
    """
    return {k: d for k, d in decisions.items() if d.requested_at <= as_of and is_decision(d)}


def push(
    gateway: Gateway, patches: Sequence[Patch], batch_size: int = 100,
    *, before_chunk: Callable[[], None] | None = None, rows: CommitRows | None = None,
) -> Pushed:
    """Write ``patches`` (see module). Raises ``AuthError`` when the token is refused.

    ``before_chunk`` runs before each batch call; what it raises stops the push (a run that
    lost its lock writes no further chunk). ``rows`` binds the commit's rows of each chunk
    written, as its answer arrives.
    """
    outcome = push_patches(gateway, patches, batch_size, before_chunk=before_chunk,
                           on_chunk=rows.add if rows is not None else None)
    return Pushed(outcome.written, outcome.failures, outcome.stamps)


class CommitRows:
    """What ``commit`` writes for the patches HubSpot confirmed: their last-written output
    values and their mirror rows as written (``as_written``), bound chunk by chunk (``add``,
    the push's ``on_chunk``), so the commit runs them without converting 20,000 records."""

    def __init__(self, store: Store, evaluation: Evaluation, run_id: int) -> None:
        self._store, self._records, self._run_id = store, evaluation.records, run_id
        self.outputs: PreparedRows | None = None
        self.mirror: PreparedRows | None = None

    def add(self, outcome: Outcome) -> None:
        written, stamps = outcome.written, outcome.stamps
        self.outputs = self._store.prepare_outputs(_output_changes(written), self._run_id,
                                                   self.outputs)
        self.mirror = self._store.prepare_records(_written_rows(self._records, written, stamps),
                                                  self.mirror)


def _output_changes(written: Sequence[Patch]) -> Iterator[OutputChange]:
    return (OutputChange(p.object_type, p.object_id, name, value or None)
            for p in written for name, value in p.properties.items())


def _written_rows(records: Mapping[ObjectKey, RawRecord], written: Sequence[Patch],
                  stamps: Mapping[ObjectKey, str]) -> Iterator[MirrorRecord]:
    return (to_mirror(as_written(records[(p.object_type, p.object_id)], p,
                                 stamps.get((p.object_type, p.object_id))))
            for p in written if (p.object_type, p.object_id) in records)


def as_written(record: RawRecord, patch: Patch, stamp: str | None) -> RawRecord:
    """``record`` as HubSpot now holds it after ``patch``: the written values, and, when HubSpot
    answered with the write's time, that time as the record's last-modified property. A later
    search that finds the record with exactly these values and that time finds our own write
    (``sync.engine.echo``)."""
    values = dict(patch.properties)
    if stamp is None:
        return with_properties(record, values)
    values[MODIFIED_PROPERTY[record.object_type]] = stamp
    # the record's updatedAt moves with the write too, as a re-read would show it
    stamp_ms = parse_timestamp_ms(stamp)
    written = with_properties(record, values)
    return replace(written, updated_at_ms=stamp_ms) if isinstance(stamp_ms, int) else written


def failure_problems(failures: Sequence[WriteFailure]) -> list[Problem]:
    """Write failures as run-log problems (code ``write_failed``); a value the portal's
    property has no option for says to run ``init``."""
    return [
        Problem(_KIND.get(f.object_type, f.object_type), f.object_id, WRITE_FAILED,
                f"{f.message} ({RUN_INIT})" if needs_init([f]) else f.message)
        for f in failures
    ]


def needs_init(failures: Sequence[WriteFailure]) -> bool:
    """Whether a write failed because a property lacks an option of the contract (a portal
    initialised by an older version): ``init`` adds missing options."""
    return any(_OPTION_MISSING in f.message or f.category == "INVALID_OPTION" for f in failures)


def settle_gone(pushed: Pushed) -> Pushed:
    """Move the writes HubSpot answered "not found" from ``failures`` to ``gone``.

    Such a record was archived, deleted or merged away after it was read: ``commit`` drops it
    from the mirror like the archived sweep does, instead of failing its write on every run.
    """
    gone = [f for f in pushed.failures if f.category == NOT_FOUND]
    if not gone:
        return pushed
    failures = [f for f in pushed.failures if f.category != NOT_FOUND]
    return Pushed(pushed.written, failures, pushed.stamps, [*pushed.gone, *gone])


def gone_problems(gone: Sequence[WriteFailure]) -> list[Problem]:
    """Records dropped because HubSpot no longer has them (code ``record_gone``)."""
    return [
        Problem(_KIND.get(f.object_type, f.object_type), f.object_id, RECORD_GONE, f.message)
        for f in gone
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
    rows: CommitRows | None = None,
) -> None:
    """One transaction (see module). ``pushed`` None: a dry run, only the run log is written.

    ``fence``: the sync lock the run holds, checked first inside the transaction; a run that
    lost it commits nothing (``LockLost``). ``rows``: the rows of ``pushed.written``, bound
    during the push (the same ``push`` call's); without it they are made here.
    """
    with store.transaction() as tx:
        if fence is not None:
            tx.check_fence(fence)
        if pushed is not None:
            result = evaluation.result
            stored = tx.load_decisions()
            decided = decisions_up_to(result.decisions, result.as_of)
            tx.save_decisions(d for k, d in decided.items() if stored.get(k) != d)
            deal_ids = {i for t, i in evaluation.records if t == "deals"}
            deal_ids |= set(result.deals) | {m.deal_id for m in result.ledger}
            deal_ids |= tx.ledger_deal_ids()  # rows of deals gone from the mirror go too
            tx.replace_ledger_for_deals(deal_ids, result.ledger)
            if rows is None:
                tx.record_outputs(_output_changes(pushed.written), run_id)
                tx.upsert_records(_written_rows(evaluation.records, pushed.written,
                                                pushed.stamps))
            else:
                for prepared in (rows.outputs, rows.mirror):
                    if prepared is not None:
                        tx.write_prepared(prepared)
            for name, value in checkpoints.items():
                tx.set_checkpoint(name, value)
            for failure in pushed.gone:  # takes its ledger rows and decision with it
                tx.delete_records(failure.object_type, [failure.object_id])
            advance(tx, result.as_of)
        if problems:
            tx.add_run_problems(run_id, problems)
        tx.finish_run(run_id, status, counts)
