"""Shared fixtures. PostgreSQL-backed tests read PARTNER_SYNC_TEST_PG_DSN and skip without it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get("PARTNER_SYNC_TEST_PG_DSN")
    if not dsn:
        pytest.skip("PARTNER_SYNC_TEST_PG_DSN not set: PostgreSQL tests skipped")
    return dsn


@contextmanager
def pg_schema(dsn: str) -> Iterator[str]:
    """A URL on a fresh PostgreSQL schema of its own (parallel runs never share one), dropped
    afterwards."""
    schema = f"partner_sync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(dsn)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_dsn: str) -> Iterator[str]:
    """``pg_schema`` as a fixture."""
    with pg_schema(pg_dsn) as url:
        yield url
