"""The state store: mirror, decisions, commission ledger, outputs, checkpoints, run log, webhook
inbox and locks, on SQLite (default) or PostgreSQL. See ``Store``."""

from sync.store.base import PreparedRows
from sync.store.locks import Fence, LockLost
from sync.store.records import (
    Clock,
    InboxEvent,
    InboxItem,
    LedgerChange,
    LedgerTotal,
    MirrorRecord,
    OutputChange,
    RunCounts,
    RunInfo,
    RunProblem,
    utc_now,
)
from sync.store.store import Store, Transaction

__all__ = [
    "Clock",
    "Fence",
    "InboxEvent",
    "InboxItem",
    "LedgerChange",
    "LedgerTotal",
    "LockLost",
    "MirrorRecord",
    "OutputChange",
    "PreparedRows",
    "RunCounts",
    "RunInfo",
    "RunProblem",
    "Store",
    "Transaction",
    "utc_now",
]
