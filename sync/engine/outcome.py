"""What a read strategy hands the run: ``ReadOutcome`` and the ``Reader`` signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from mappers.outbound import ObjectKey
from mappers.records import RawRecord

__all__ = ["ReadOutcome", "Reader"]


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """What a read did: records read per type, checkpoints to set with the commit (values no
    later than the run's start), and, in a dry run, the records read (kept out of the mirror;
    ``complete`` when they are the whole program, as a full read's are)."""

    records_read: dict[str, int]
    checkpoints: dict[str, str] = field(default_factory=dict)
    overlay: dict[ObjectKey, RawRecord] | None = None
    complete: bool = False


Reader = Callable[[datetime, bool], ReadOutcome]
"""``read(started_at, dry_run)``: read HubSpot into the mirror (or, dry, into ``overlay``)."""
