"""One store test-suite, run on SQLite (a temporary file) and on PostgreSQL (a fresh schema per
test in the database named by PARTNER_SYNC_TEST_PG_DSN; skipped when it is unset)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.store import Store
from tests.conftest import pg_schema


class FakeClock:
    """A settable clock: aware UTC, moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with pg_schema(request.getfixturevalue("pg_dsn")) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    s = Store.from_url(store_url, clock)
    s.migrate()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def other_store(store_url: str, clock: FakeClock, store: Store) -> Iterator[Store]:
    """A second store on the same database (another replica: its own engine and pool)."""
    s = Store.from_url(store_url, clock)
    try:
        yield s
    finally:
        s.close()
