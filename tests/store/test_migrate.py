"""Migrations: applied in code, idempotent, matching the schema module, safe when concurrent."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from sync.store import MirrorRecord, Store
from sync.store.schema import metadata
from tests.store.conftest import FakeClock

TABLES = {
    "mirror", "decisions", "ledger", "outputs", "checkpoints", "runs", "run_problems",
    "inbox", "locks",
}


def _head() -> list[str]:
    from alembic.script import ScriptDirectory

    from sync.store.database import _alembic_config

    return list(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _version(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def test_migrate_twice_is_a_no_op_and_keeps_data(store: Store, store_url: str) -> None:
    store.upsert_records([MirrorRecord("deals", "1", {"dealstage": "closedwon"})])
    store.migrate()
    assert _version(store_url) == _head()
    assert len(_head()) == 1
    assert store.get_records("deals", ["1"])["1"].properties == {"dealstage": "closedwon"}


def test_migrated_schema_matches_schema_module(store: Store, store_url: str) -> None:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            ctx = MigrationContext.configure(conn, opts={"compare_type": False})
            assert compare_metadata(ctx, metadata) == []
    finally:
        engine.dispose()


def test_replicas_migrating_together_both_succeed(store_url: str, clock: FakeClock) -> None:
    stores = [Store.from_url(store_url, clock) for _ in range(2)]
    errors: list[BaseException] = []

    def run(s: Store) -> None:
        try:
            s.migrate()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert errors == []
    assert _version(store_url) == _head()
    assert len(_head()) == 1


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_ping_false_when_database_unreachable(tmp_path: Path) -> None:
    s = Store.from_url(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    assert s.ping() is False
    s.close()


def test_unknown_scheme_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        Store.from_url("mysql://u@h/db")


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    s = Store.from_url(f"sqlite:///{tmp_path / 'w.db'}")
    s.migrate()
    with s._read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    s.close()
