"""What the serve process needs from the sync engine, as structural types.

``sync.engine.SyncEngine`` satisfies ``SyncRunner`` and its ``RunReport`` satisfies
``RunSummary``; the worker, scheduler and admin API are typed against these so tests can pass a
small fake engine (a fake over a seam, never a patch of our own modules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from sync.engine import SyncBusy

__all__ = ["FailedWrite", "RunSummary", "SyncRunner", "is_busy"]


class FailedWrite(Protocol):
    """A record whose write failed in a run (``sync.engine.WriteFailure``)."""

    @property
    def object_type(self) -> str: ...
    @property
    def object_id(self) -> str: ...


class RunSummary(Protocol):
    """The parts of ``sync.engine.RunReport`` the serve process reads."""

    @property
    def run_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime: ...
    @property
    def records_read(self) -> Mapping[str, int]: ...
    @property
    def written(self) -> Mapping[str, int]: ...
    @property
    def rate_limited(self) -> int: ...
    @property
    def error(self) -> str | None: ...
    @property
    def write_failures(self) -> Sequence[FailedWrite]: ...

    def to_dict(self) -> dict[str, Any]: ...


class SyncRunner(Protocol):
    """The sync engine's facade (see the engine API): every method runs one logged run."""

    def full_sync(
        self, *, as_of: date | None = ..., dry_run: bool = ..., trigger: str = ...
    ) -> RunSummary: ...

    def incremental_sync(
        self, *, as_of: date | None = ..., dry_run: bool = ..., trigger: str = ...
    ) -> RunSummary: ...

    def reevaluate(
        self, *, as_of: date | None = ..., dry_run: bool = ..., trigger: str = ...
    ) -> RunSummary: ...

    def targeted_sync(
        self, records: Sequence[tuple[str, str]], *, as_of: date | None = ..., trigger: str = ...
    ) -> RunSummary: ...

    def resync_member(self, member: str, *, trigger: str = ...) -> RunSummary: ...

    def resync_type(self, object_type: str, *, trigger: str = ...) -> RunSummary: ...


def is_busy(exc: BaseException) -> bool:
    """True for the engine's ``SyncBusy`` (another sync holds the portal's lock): not a failure,
    just "try again shortly"."""
    return isinstance(exc, SyncBusy)
