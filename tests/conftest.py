"""Shared fixtures. PostgreSQL-backed tests read PARTNER_SYNC_TEST_PG_DSN and skip without it."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    dsn = os.environ.get("PARTNER_SYNC_TEST_PG_DSN")
    if not dsn:
        pytest.skip("PARTNER_SYNC_TEST_PG_DSN not set: PostgreSQL tests skipped")
    return dsn
