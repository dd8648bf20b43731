"""The store's clock only moves forward (DESIGN.md "Time only moves forward").

The store records the latest evaluation date a writing run committed (checkpoint
``evaluated_as_of``). A writing run at an earlier ``as_of`` would write the program as it stood
on that day over the one already written for a later day, so it is refused before it reads or
writes anything (``ClockWentBack``); a dry run may preview any date.
"""

from __future__ import annotations

from datetime import date

from sync.engine.report import SyncError
from sync.store import Store, Transaction

__all__ = ["EVALUATED_AS_OF", "ClockWentBack", "advance", "check_forward", "evaluated_as_of"]

EVALUATED_AS_OF = "evaluated_as_of"
"""Checkpoint: the latest ``as_of`` a writing run committed (ISO date)."""


class ClockWentBack(SyncError):
    """A writing run asked for an ``as_of`` earlier than the store's evaluation date."""

    def __init__(self, as_of: date, committed: date) -> None:
        super().__init__(
            f"evaluation date {as_of.isoformat()} is earlier than {committed.isoformat()}, the "
            "latest date this store has committed; time only moves forward, so nothing was "
            "read or written (a --dry-run previews any date)",
            "internal",
        )
        self.as_of = as_of
        self.committed = committed


def evaluated_as_of(store: Store | Transaction) -> date | None:
    """The latest committed evaluation date, None on a store no writing run committed to."""
    raw = store.get_checkpoint(EVALUATED_AS_OF)
    return None if raw is None else date.fromisoformat(raw)


def check_forward(store: Store, as_of: date) -> None:
    """Raise ``ClockWentBack`` when ``as_of`` is before the store's evaluation date."""
    committed = evaluated_as_of(store)
    if committed is not None and as_of < committed:
        raise ClockWentBack(as_of, committed)


def advance(tx: Transaction, as_of: date) -> None:
    """Move the store's evaluation date to ``as_of`` (never back), in the run's commit.

    Raises ``ClockWentBack`` when another writer committed a later date meanwhile, which rolls
    the whole commit back.
    """
    committed = evaluated_as_of(tx)
    if committed is not None and as_of < committed:
        raise ClockWentBack(as_of, committed)
    if committed != as_of:
        tx.set_checkpoint(EVALUATED_AS_OF, as_of)
