"""Unit of work (all or nothing, checkpoints move with their data) and the run log."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from policies.model import CommissionMonth, Decision, MonthState, Problem, RecordKind
from policies.model import RegistrationStatus as RS
from sync.store import OutputChange, RunProblem, Store
from tests.store.conftest import FakeClock

MONTH = CommissionMonth("d1", "s1", "P1", 0, date(2024, 1, 1), Decimal("50.00"),
                        Decimal("10.00"), "USD", date(2024, 5, 15), None,
                        MonthState.AWAITING_PAPERWORK)
DECISION = Decision(RecordKind.CONTACT, "c1", "P1", date(2024, 1, 2), RS.REGISTERED, "ok",
                    "acme.com", "P1")


class Boom(RuntimeError):
    pass


def _write_everything(store: Store, checkpoint: str, fail: bool) -> None:
    with store.transaction() as tx:
        run_id = tx.start_run("incremental", date(2024, 3, 1), "schedule")
        tx.replace_ledger_for_deals(["d1"], [MONTH])
        tx.record_outputs([OutputChange("deals", "d1", "partner_commission_status", "x")], run_id)
        tx.save_decisions([DECISION])
        tx.set_checkpoint("deals", checkpoint)
        assert tx.get_checkpoint("deals") == checkpoint  # visible inside the transaction
        if fail:
            raise Boom


def test_a_transaction_that_raises_leaves_nothing_behind(store: Store) -> None:
    with store.transaction() as tx:
        tx.set_checkpoint("deals", "2024-02-01T00:00:00Z")
    with pytest.raises(Boom):
        _write_everything(store, "2024-03-01T00:00:00Z", fail=True)
    assert store.get_checkpoint("deals") == "2024-02-01T00:00:00Z"
    assert store.ledger_for_deals(["d1"]) == []
    assert store.load_outputs("deals") == {}
    assert store.load_decisions() == {}
    assert store.list_runs() == []


def test_a_transaction_commits_everything_together(store: Store) -> None:
    _write_everything(store, "2024-03-01T00:00:00Z", fail=False)
    assert store.get_checkpoint("deals") == "2024-03-01T00:00:00Z"
    assert store.ledger_for_deals(["d1"]) == [MONTH]
    assert store.load_outputs("deals")["d1"] == {"partner_commission_status": "x"}
    assert list(store.load_decisions().values()) == [DECISION]


def test_checkpoints_are_set_only_in_a_transaction(store: Store) -> None:
    assert store.get_checkpoint("never") is None
    assert not hasattr(store, "set_checkpoint")
    with store.transaction() as tx:
        tx.set_checkpoint("daily", date(2024, 3, 1))
    assert store.get_checkpoint("daily") == "2024-03-01"


def test_run_log_contents(store: Store, clock: FakeClock) -> None:
    started = clock.now
    run_id = store.start_run("full", date(2024, 3, 1), "cli")
    running = store.get_run(run_id)
    assert running is not None
    assert running.status == "running"
    assert running.finished_at is None
    store.add_run_problems(run_id, [
        Problem("deal", "d9", "mixed_currencies", "EUR and USD"),
        Problem("contact", "c3", "unknown_partner_code"),
    ])
    clock.advance(42)
    counts = {"deals": {"read": 10, "decided": 10, "written": 2}, "contacts": {"read": 5}}
    store.finish_run(run_id, "ok", counts)
    run = store.get_run(run_id)
    assert run is not None
    assert (run.kind, run.trigger, run.as_of, run.status, run.error) == (
        "full", "cli", date(2024, 3, 1), "ok", None)
    assert run.started_at == started
    assert run.finished_at is not None
    assert (run.finished_at - started).total_seconds() == 42
    assert run.counts == counts
    assert run.problem_count == 2
    assert run.problems == (
        RunProblem("deal", "d9", "mixed_currencies", "EUR and USD"),
        RunProblem("contact", "c3", "unknown_partner_code", ""),
    )


def test_list_runs_newest_first_with_problem_counts(store: Store) -> None:
    first = store.start_run("full", None, "cli")
    store.finish_run(first, "failed", {}, error="HubSpot 401")
    second = store.start_run("incremental", date(2024, 3, 1), "schedule")
    store.add_run_problems(second, [Problem("deal", "1", "x")])
    runs = store.list_runs(limit=10)
    assert [r.run_id for r in runs] == [second, first]
    assert [r.problem_count for r in runs] == [1, 0]
    assert runs[1].error == "HubSpot 401"
    assert runs[1].problems == ()
    assert [r.run_id for r in store.list_runs(limit=1)] == [second]
    assert store.get_run(second + 100) is None
    with pytest.raises(KeyError):
        store.finish_run(second + 100, "ok", {})


def test_latest_run_state_skips_the_excluded_kinds_however_many(store: Store) -> None:
    assert store.latest_run_state(excluding=("portal",)) is None
    program = store.start_run("full", None, "cli")
    assert store.latest_run_state(excluding=("portal",)) == (program, "running", None)
    store.finish_run(program, "ok", {})
    for n in range(30):
        store.finish_run(store.start_run("portal", None, f"portal:{n}"), "ok", {})
    latest = store.latest_run_state(excluding=("portal",))
    assert latest is not None
    assert (latest.run_id, latest.status) == (program, "ok")
    assert latest.finished_at is not None
    newest = store.latest_run_state()
    assert newest is not None
    assert newest.run_id == program + 30


def test_the_newest_program_run_is_an_index_step_not_a_scan_of_portal_runs(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'plan.db'}", clock)
    store.migrate()
    store.close()
    with closing(sqlite3.connect(tmp_path / "plan.db")) as conn:
        plan = " ".join(str(row[-1]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT run_id, status, finished_at FROM runs "
            "WHERE kind != 'portal' ORDER BY run_id DESC LIMIT 1"))
    assert "ix_runs_program" in plan
