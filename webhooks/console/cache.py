"""Store reads of the members and payout pages, kept while the store's data version holds.

Member records, their outputs and the ledger sums are only written by sync runs, and every run
moves ``Store.data_version()`` when it starts and when it finishes, so a value read under one
version is exact until the version moves (during a run, at most the state before it). Other
replicas sharing the store move the same version. One cheap query per page checks it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from sync.store import Store
from sync.store.views import LedgerGroup

__all__ = ["ProgramReads"]

T = TypeVar("T")


class ProgramReads:
    """``member_records``, ``load_outputs`` and ``ledger_groups`` of a store, cached (see
    module). Pages read through this; tests may pass the store itself."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._version: object = None
        self._values: dict[tuple[Any, ...], Any] = {}

    def _cached(self, key: tuple[Any, ...], read: Callable[[], T]) -> T:
        version = self._store.data_version()
        with self._lock:
            if version != self._version:
                self._version, self._values = version, {}
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = read()
        with self._lock:
            if version == self._version:
                self._values[key] = value
        return value

    def member_records(self, type_property: str) -> list[tuple[str, dict[str, Any]]]:
        return self._cached(("members", type_property),
                            lambda: self._store.member_records(type_property))

    def load_outputs(
        self, object_type: str, ids: list[str] | None = None
    ) -> dict[str, dict[str, str | None]]:
        key = ("outputs", object_type, tuple(ids) if ids is not None else None)
        return self._cached(key, lambda: self._store.load_outputs(object_type, ids))

    def ledger_groups(self, as_of: date) -> list[LedgerGroup]:
        return self._cached(("ledger", as_of), lambda: self._store.ledger_groups(as_of))
