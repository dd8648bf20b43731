"""§0 and DESIGN.md "Time only moves forward" as a tested invariant, through the real engine,
store and sandbox: syncing (full, incremental or re-evaluation runs) at ascending dates
d1 < ... < dn leaves exactly the outputs, decisions and ledger of one fresh sync at dn
(generated programs with future-dated requests, closes, paperwork and exits, re- and
deregistrations, shared deals, and subscriptions on two deals)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from sandbox.dataset import Dataset
from sandbox.server import RunningSandbox
from tests.conftest import pg_schema
from tests.engine.path_world import ascending_dates, programs, sandboxes, world

PG_DSN = os.environ.get("PARTNER_SYNC_TEST_PG_DSN")
BOUNDED = settings(max_examples=6, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def pair() -> Iterator[list[RunningSandbox]]:
    with sandboxes(2) as running:
        yield running


def _check(
    pair: list[RunningSandbox], dataset: Dataset, dates: list[tuple[date, str]], tmp: Path,
    dsn: str | None,
) -> None:
    tag = uuid.uuid4().hex[:8]
    with _maybe_pg(dsn) as stepped_url, _maybe_pg(dsn) as fresh_url, \
            world(pair[0], dataset, stepped_url, tmp / f"stepped-{tag}.db") as stepped, \
            world(pair[1], dataset, fresh_url, tmp / f"fresh-{tag}.db") as fresh:
        for as_of, kind in dates:
            stepped.sync(as_of, kind)
        fresh.sync(dates[-1][0])
        got, want = stepped.snapshot(), fresh.snapshot()
    assert got["outputs"] == want["outputs"]
    assert got["decisions"] == want["decisions"]
    assert got["ledger"] == want["ledger"]


@contextmanager
def _maybe_pg(dsn: str | None) -> Iterator[str | None]:
    if dsn is None:
        yield None
        return
    with pg_schema(dsn) as url:
        yield url


@pytest.mark.slow
@BOUNDED
@given(dataset=programs(), dates=ascending_dates())
def test_s0_ascending_dates_equal_one_fresh_run_sqlite(
    pair: list[RunningSandbox], dataset: Dataset, dates: list[tuple[date, str]], tmp_path: Path
) -> None:
    _check(pair, dataset, dates, tmp_path, None)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(PG_DSN is None, reason="PARTNER_SYNC_TEST_PG_DSN not set")
@settings(BOUNDED, max_examples=3)
@given(dataset=programs(), dates=ascending_dates())
def test_s0_ascending_dates_equal_one_fresh_run_postgres(
    pair: list[RunningSandbox], dataset: Dataset, dates: list[tuple[date, str]], tmp_path: Path
) -> None:
    assert PG_DSN is not None
    _check(pair, dataset, dates, tmp_path, PG_DSN)
