"""The store's member-portal operations: public on ``Store`` and ``Transaction`` alike, and error
texts kept redacted like the run log's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sync.portals.repo import PortalRepo
from sync.store import Store

SECRET = "hush-0123456789abcdef"
AT = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_portal_error_texts_never_keep_a_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store.from_url(url, lambda: AT, secrets=[SECRET])
    store.migrate()
    try:
        repo = PortalRepo(store)
        repo.save_connection(1, "ALPHA", ("crm.objects.companies.read",), "r", "a", AT)
        repo.record_sync(1, 3, f"HTTP 500 from https://x.test/?token={SECRET}")
        repo.enqueue([1, 2], "out")
        first, second = repo.claim("w", 2, 60)
        assert repo.fail(first.job_id, "w", f"refused: {SECRET}")
        assert repo.retry(second.job_id, "w", f"Bearer {SECRET}", AT)
        repo.mark_disconnected(1, f"refresh refused for {SECRET}")
        row = repo.get(1)
        assert row is not None
        assert "***" in (row.last_error or "")
    finally:
        store.close()
    with create_engine(url).connect() as conn:
        dump = repr([conn.execute(text(f"SELECT * FROM {t}")).all()
                     for t in ("member_portals", "portal_jobs")])
    assert SECRET not in dump
    assert dump.count("***") >= 3


def _enqueue_then_fail(store: Store) -> None:
    with store.transaction() as tx:
        tx.portal_jobs_enqueue([1], "out")
        raise RuntimeError("the unit of work failed")


def test_portal_jobs_queued_in_a_transaction_commit_or_roll_back_with_it(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'store.db'}", lambda: AT)
    store.migrate()
    try:
        with pytest.raises(RuntimeError, match="failed"):
            _enqueue_then_fail(store)
        assert store.portal_job_counts() == {}
        with store.transaction() as tx:
            tx.portal_jobs_enqueue([1], "out")
        assert store.portal_job_counts() == {"pending": 1}
    finally:
        store.close()
