"""Recognising our own writes when a search brings them back.

Every record the engine writes gets a new last-modified time, so the next incremental window
finds it again. After a successful write the mirror row holds the written values and the
last-modified time HubSpot answered the write with (``apply.as_written``). A searched record
whose properties equal its mirror row's, last-modified time included (compared as instants),
is one HubSpot has not changed since: nobody edited it after our write (that would move the
time), and the values the rules read are the ones the mirror holds. Such a record needs no
association read, no fetch and no mirror write.

Our writes stay in the window on purpose: an edit by someone else between our read of a record
and our write to it leaves no trace in the record's last-modified time (our write's time
replaces it), so only reading the record back and comparing its values finds that edit. No
count of the push's interval can tell it apart, so the interval is never skipped.

Associations are not compared (search does not return them): a link change that moves the
record's modified time fails the time comparison and is read as before; one that does not move
it was never visible to a window (the nightly full reconcile reads every link).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from mappers.records import RawRecord
from sync.engine.selection import MODIFIED_PROPERTY
from sync.store import MirrorRecord

__all__ = ["unchanged"]


def unchanged(found: RawRecord, held: MirrorRecord) -> bool:
    """Whether ``found`` (just searched) shows exactly what its mirror row ``held`` holds."""
    modified = MODIFIED_PROPERTY[found.object_type]
    if not _same_instant(found.properties.get(modified), held.properties.get(modified)):
        return False
    return _values(found.properties, modified) == _values(held.properties, modified)


def _values(properties: Mapping[str, object], skip: str) -> dict[str, object]:
    """Non-empty values (HubSpot returns a cleared value as empty or absent alike)."""
    return {k: v for k, v in properties.items() if v not in (None, "") and k != skip}


def _same_instant(a: object, b: object) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    if a == b:
        return True
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except ValueError:
        return False
