"""Plain values the store takes and gives. No SQLAlchemy type ever crosses the store's API.

Times are aware UTC ``datetime`` values (the store converts on the way in and out), dates are
``date``, money is ``Decimal`` and comes back exactly as it went in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "Clock",
    "InboxEvent",
    "InboxItem",
    "LedgerChange",
    "LedgerTotal",
    "MirrorRecord",
    "OutputChange",
    "RunCounts",
    "RunInfo",
    "RunProblem",
    "utc_now",
]

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime. Injected wherever the store stamps times."""

RunCounts = Mapping[str, Mapping[str, int]]
"""Per object type, per stage: ``{"deals": {"read": 120, "decided": 120, "written": 4}}``."""


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MirrorRecord:
    """One HubSpot record as the engine last saw it (normalized inputs only).

    ``properties`` holds the input properties the engine uses; ``history`` the property histories
    where kept (``{"hs_mrr": [{"value": "10", "timestamp": "..."}]}``); ``associations`` maps an
    object type to associated ids. ``fetched_at`` is stamped by the store's clock when None.
    """

    object_type: str
    object_id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    history: Mapping[str, Any] = field(default_factory=dict)
    associations: Mapping[str, list[str]] = field(default_factory=dict)
    archived: bool = False
    updated_at: datetime | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutputChange:
    """One output property value written to one record (``None`` means cleared)."""

    object_type: str
    object_id: str
    property: str
    value: str | None


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """What an apply of ledger months did: rows inserted, changed and removed."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class LedgerTotal:
    """The sum of ledger ``amount`` for one member, currency and month state."""

    member_code: str
    currency: str | None
    state: str
    months: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RunProblem:
    record_kind: str
    record_id: str
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of the log. ``problems`` is filled by ``get_run`` and empty in ``list_runs``."""

    run_id: int
    kind: str
    trigger: str
    as_of: date | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: RunCounts
    error: str | None
    problem_count: int
    problems: tuple[RunProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """A webhook event to queue. ``dedup_key`` (1..512 characters) identifies it across
    HubSpot's redeliveries; the receiver builds it (portal, subscription, event id, object,
    occurred-at) and hashes it if it could be longer."""

    dedup_key: str
    payload: Mapping[str, Any]
    object_type: str | None = None
    object_id: str | None = None
    received_at: datetime | None = None  # the store's clock when None
    dead_reason: str | None = None  # set: kept as a dead letter, never claimed
    settled: bool = False  # True: needs no work; kept as done (audit, dedup), never claimed


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A claimed inbox row. ``attempts`` counts claims, this one included."""

    item_id: int
    dedup_key: str
    payload: Mapping[str, Any]
    object_type: str | None
    object_id: str | None
    received_at: datetime
    attempts: int
    last_error: str | None
    lease_until: datetime
    lost_claims: int = 0  # earlier claims whose holder never finished them
