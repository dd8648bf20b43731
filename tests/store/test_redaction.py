"""Error texts the store keeps (run log, problems, inbox) are redacted like log lines, on both
dialects: a secret in an error message never reaches the store."""

from __future__ import annotations

from datetime import date, timedelta

from policies.model import Problem
from sync.store import InboxEvent, Store
from tests.store.conftest import FakeClock

CONFIGURED = "configured-secret-4711"
LEAKY = (f"boom: pat-na1-11111111-2222-3333 at postgresql+psycopg://sync:hunter2@db/x "
         f"with Authorization: Bearer abc.def and {CONFIGURED}")


def _assert_clean(text: str | None) -> None:
    assert text is not None
    for secret in ("pat-na1-11111111", "hunter2", "abc.def", CONFIGURED):
        assert secret not in text
    assert "***" in text


def test_run_errors_and_problem_details_are_redacted(store_url: str, clock: FakeClock) -> None:
    store = Store.from_url(store_url, clock, secrets=[CONFIGURED])
    store.migrate()
    try:
        run_id = store.start_run("full", date(2026, 1, 1), "cli")
        store.add_run_problems(run_id, [Problem("deal", "1", "write_failed", LEAKY)])
        store.finish_run(run_id, "failed", {}, LEAKY)
        run = store.get_run(run_id)
        assert run is not None
        _assert_clean(run.error)
        _assert_clean(run.problems[0].detail)
        with store.transaction() as tx:  # the transaction redacts the same way
            other = tx.start_run("full", date(2026, 1, 1), "cli")
            tx.finish_run(other, "failed", {}, LEAKY)
        _assert_clean(store.list_runs(1)[0].error)
    finally:
        store.close()


def test_inbox_errors_are_redacted(store_url: str, clock: FakeClock) -> None:
    store = Store.from_url(store_url, clock, secrets=[CONFIGURED])
    store.migrate()
    try:
        store.inbox_insert([InboxEvent("a", {}), InboxEvent("b", {})])
        a, b = store.inbox_claim("w", 10, 30)
        store.inbox_retry(a.item_id, LEAKY, clock() + timedelta(seconds=1))
        store.inbox_dead(b.item_id, LEAKY)
        clock.advance(2)
        (again,) = store.inbox_claim("w", 10, 30)
        _assert_clean(again.last_error)
    finally:
        store.close()
