"""One store test-suite, run on SQLite (a temporary file) and on PostgreSQL (a fresh schema per
test in the database named by PARTNER_SYNC_TEST_PG_DSN; skipped when it is unset)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sync.store import Store


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
    dsn: str = request.getfixturevalue("pg_dsn")
    schema = f"partner_sync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(dsn)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
