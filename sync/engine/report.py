"""What a sync run reports: ``RunReport`` (frozen, JSON-able) and the engine's exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from mappers.outbound import Patch
from policies.model import Problem

__all__ = ["ErrorKind", "RunReport", "SyncBusy", "SyncError", "WriteFailure", "api_delta"]

ErrorKind = Literal["auth", "unreachable", "hubspot", "internal", "lock_lost"]


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """One record HubSpot refused to update (a 207 error or a bisected 400), with its reason."""

    object_type: str
    object_id: str
    message: str
    category: str | None = None


@dataclass(frozen=True)
class RunReport:
    """One run: what it read, decided, planned (``patches``) and wrote, and how it ended.

    ``status`` is ``ok``, ``partial`` (some record writes failed) or ``failed``. ``api_calls``
    counts gateway calls per endpoint label during the run; ``rate_limited`` the 429s seen.
    """

    run_id: int
    kind: str
    trigger: str
    as_of: date
    started_at: datetime
    finished_at: datetime
    status: str
    dry_run: bool
    records_read: dict[str, int] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    patches: list[Patch] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)
    write_failures: list[WriteFailure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    decided: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def read_calls(self) -> int:
        """Gateway calls that read HubSpot (everything but batch updates)."""
        return sum(n for label, n in self.api_calls.items() if "batch/update" not in label)

    @property
    def write_calls(self) -> int:
        """Batch-update calls made."""
        return sum(n for label, n in self.api_calls.items() if "batch/update" in label)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (dates as ISO strings)."""
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "trigger": self.trigger,
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "status": self.status,
            "dry_run": self.dry_run,
            "records_read": dict(self.records_read),
            "api_calls": dict(self.api_calls),
            "rate_limited": self.rate_limited,
            "patches": [
                {"object_type": p.object_type, "object_id": p.object_id,
                 "properties": dict(p.properties), "previous": dict(p.previous)}
                for p in self.patches
            ],
            "written": dict(self.written),
            "write_failures": [
                {"object_type": f.object_type, "object_id": f.object_id,
                 "message": f.message, "category": f.category}
                for f in self.write_failures
            ],
            "problems": [
                {"record_kind": p.record_kind, "record_id": p.record_id, "code": p.code,
                 "detail": p.detail}
                for p in self.problems
            ],
            "decided": dict(self.decided),
            "error": self.error,
        }


class SyncBusy(RuntimeError):
    """Another sync of the same portal holds the lock; nothing was done."""


class SyncError(RuntimeError):
    """A run stopped. ``kind``: ``auth`` (token or scope; the message names the token's
    fingerprint and the scope), ``unreachable`` (no answer from HubSpot), ``hubspot`` (another
    HubSpot failure), ``internal`` or ``lock_lost`` (another holder took the sync lock; nothing
    was committed). ``report`` is the failed run as logged, when one was."""

    def __init__(self, message: str, kind: ErrorKind, report: RunReport | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.report = report


def api_delta(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, int], int]:
    """Calls per endpoint and 429s between two ``GatewayMetrics.snapshot()`` values."""
    old = before.get("endpoints", {})
    calls: dict[str, int] = {}
    limited = 0
    for label, stats in after.get("endpoints", {}).items():
        prev = old.get(label, {})
        n = int(stats["calls"]) - int(prev.get("calls", 0))
        if n:
            calls[label] = n
        limited += int(stats["rate_limited"]) - int(prev.get("rate_limited", 0))
    return calls, limited
