"""Checkpoint names shared by every read strategy.

A checkpoint's value is an ISO-8601 UTC instant, never later than the start of the run that set
it, and it is set in the same store transaction as the data it covers (STYLE.md point 8).
"""

from __future__ import annotations

__all__ = ["FULL_SYNC", "modified_since"]

FULL_SYNC = "full_sync"
"""Start of the last committed full sync (a complete read of every type)."""


def modified_since(object_type: str) -> str:
    """The checkpoint of incremental reads of ``object_type``: records modified after it may be
    unread. A full sync sets it too (it read everything modified before its start)."""
    return f"modified:{object_type}"
