"""The store test-suite's fixtures (SQLite, and PostgreSQL when configured) for job tests."""

from tests.store.conftest import clock, other_store, store, store_url

__all__ = ["clock", "other_store", "store", "store_url"]
