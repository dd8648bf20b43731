"""The run log: what each sync read, decided and wrote, how it ended, and the data problems."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, Select, bindparam, func, insert, select, true, update

from policies.model import Problem
from sync.store.base import OpsBase, chunked
from sync.store.locks import Fence
from sync.store.records import RunCounts, RunInfo, RunProblem
from sync.store.schema import run_problems, runs

__all__ = ["ABANDONED", "RUNNING", "RunOps", "RunState"]

RUNNING = "running"
ABANDONED = "abandoned"
_PROBLEM_BATCH = 5_000


def _counts_doc(counts: RunCounts) -> dict[str, dict[str, int]]:
    return {obj: {stage: int(n) for stage, n in stages.items()} for obj, stages in counts.items()}


class RunState(NamedTuple):
    """Where a run stands: enough to tell that the run log moved on."""

    run_id: int
    status: str
    finished_at: datetime | None


def _info(row: Row[Any], problem_count: int, problems: tuple[RunProblem, ...] = ()) -> RunInfo:
    return RunInfo(
        run_id=int(row.run_id),
        kind=row.kind,
        trigger=row.trigger,
        as_of=row.as_of,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts=row.counts,
        error=row.error,
        problem_count=problem_count,
        problems=problems,
    )


def _param(name: str) -> Any:
    """A bind parameter typed like the ``runs`` column of that name."""
    return bindparam(f"p_{name}", type_=runs.c[name].type)


# Built once and reused (each job of the member-portal worker opens and closes a run): a reused
# statement object is neither rebuilt nor re-keyed for the compiled cache.
_START_RUN = insert(runs).values(
    {name: _param(name) for name in ("kind", "trigger", "as_of", "started_at", "status",
                                     "counts", "lock_name", "lock_owner")}
).returning(runs.c.run_id)
_FINISH_RUN = update(runs).where(runs.c.run_id == _param("run_id")).values(
    {name: _param(name) for name in ("status", "counts", "error", "finished_at")})
_LATEST: dict[tuple[str, ...], Select[Any]] = {}


def _latest_run_query(excluding: tuple[str, ...]) -> Select[Any]:
    query: Select[Any] | None = _LATEST.get(excluding)
    if query is None:
        # One excluded kind is written ``kind != :k`` so the partial index ``ix_runs_program``
        # (``kind != 'portal'``) serves the portal workers' question.
        where = (true() if not excluding else runs.c.kind != excluding[0]
                 if len(excluding) == 1 else runs.c.kind.not_in(excluding))
        query = cast(
            "Select[Any]",
            select(runs.c.run_id, runs.c.status, runs.c.finished_at)
            .where(where)
            .order_by(runs.c.run_id.desc())
            .limit(1),
        )
        _LATEST[excluding] = query
    return query


class RunOps(OpsBase):
    def start_run(
        self, kind: str, as_of: date | None, trigger: str, lock: Fence | None = None
    ) -> int:
        """Open a run (status ``running``) and return its id. ``lock``: the lock holder the
        run belongs to (see ``abandon_runs``)."""
        params: dict[str, Any] = {"p_kind": kind, "p_trigger": trigger, "p_as_of": as_of,
                  "p_started_at": self._now(), "p_status": RUNNING, "p_counts": {},
                  "p_lock_name": lock.name if lock else None,
                  "p_lock_owner": lock.owner if lock else None}
        with self._write() as conn:
            return int(conn.execute(_START_RUN, params).scalar_one())

    def abandon_runs(self, holder: Fence) -> list[int]:
        """Mark ``abandoned`` every run still ``running`` under ``holder``'s lock but started
        by another holder. Call it right after taking the lock: those holders lost it (they
        died, or their lease ran out), so their runs will never finish. Returns their ids."""
        stmt = (
            update(runs)
            .where(runs.c.status == RUNNING, runs.c.lock_name == holder.name,
                   runs.c.lock_owner != holder.owner)
            .values(status=ABANDONED, finished_at=self._now(),
                    error="abandoned: the process running it stopped or lost the sync lock")
            .returning(runs.c.run_id)
        )
        with self._write() as conn:
            return sorted(int(r) for r in conn.execute(stmt).scalars())

    def finish_run(
        self, run_id: int, status: str, counts: RunCounts, error: str | None = None
    ) -> None:
        """Close a run with its final status, counts and error text (if it failed)."""
        params = {"p_run_id": run_id, "p_status": status, "p_counts": _counts_doc(counts),
                  "p_error": None if error is None else self._redact(error),
                  "p_finished_at": self._now()}
        with self._write() as conn:
            if conn.execute(_FINISH_RUN, params).rowcount != 1:
                raise KeyError(f"no run {run_id}")

    def add_run_problems(self, run_id: int, problems: Iterable[Problem]) -> int:
        """Attach data problems to a run. Returns how many were added."""
        count = 0
        with self._write() as conn:
            for batch in chunked(problems, _PROBLEM_BATCH):
                conn.execute(
                    insert(run_problems),
                    [
                        {"run_id": run_id, "record_kind": p.record_kind,
                         "record_id": p.record_id, "code": p.code,
                         "detail": self._redact(p.detail)}
                        for p in batch
                    ],
                )
                count += len(batch)
        return count

    def list_runs(self, limit: int = 20) -> list[RunInfo]:
        """The newest runs first, with their problem counts (not the problems)."""
        n_problems = (
            select(func.count())
            .where(run_problems.c.run_id == runs.c.run_id)
            .scalar_subquery()
        )
        query = (
            select(runs, n_problems.label("n_problems"))
            .order_by(runs.c.run_id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [_info(row, int(row.n_problems)) for row in conn.execute(query)]

    def latest_run_state(self, *, excluding: tuple[str, ...] = ()) -> RunState | None:
        """The newest run whose kind is not in ``excluding``: id, status, finished time. One
        indexed row, however many runs of the excluded kinds came after it."""
        with self._read() as conn:
            row = conn.execute(_latest_run_query(tuple(excluding))).first()
        return None if row is None else RunState(int(row.run_id), row.status, row.finished_at)

    def get_run(self, run_id: int, problem_limit: int = 10_000) -> RunInfo | None:
        """One run with its problems (up to ``problem_limit``), or None if unknown."""
        with self._read() as conn:
            row = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
            if row is None:
                return None
            total = conn.execute(
                select(func.count()).where(run_problems.c.run_id == run_id)
            ).scalar_one()
            problems = tuple(
                RunProblem(p.record_kind, p.record_id, p.code, p.detail)
                for p in conn.execute(
                    select(run_problems)
                    .where(run_problems.c.run_id == run_id)
                    .order_by(run_problems.c.problem_id)
                    .limit(problem_limit)
                )
            )
        return _info(row, int(total), problems)
