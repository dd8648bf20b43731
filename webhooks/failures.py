"""Why a targeted sync of inbox events failed, in the three classes the worker acts on.

* ``busy``: another holder runs the portal's sync (``SyncBusy``), or took the lock over while
  this run worked (``lock_lost``): not a failure, come back shortly.
* ``outage``: nothing to do with the records: HubSpot unreachable or answering 5xx / 429 after
  the gateway's retries, the token refused, the store unavailable. Splitting the batch would
  only multiply calls that fail the same way; the whole claim waits, untouched.
* ``record``: anything else (a 4xx about a record, a data problem the run could not report):
  splitting the batch finds the records that cause it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import httpx
from sqlalchemy.exc import SQLAlchemyError

from sync.engine import SyncError
from sync.gateway import AuthError, HubSpotError
from sync.ports import is_busy

__all__ = ["FailureKind", "failure_kind"]

FailureKind = Literal["busy", "outage", "record"]

_OUTAGE_KINDS = frozenset({"auth", "unreachable"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _hubspot_outage(exc: HubSpotError) -> bool:
    if isinstance(exc, AuthError) or exc.status is None:
        return True
    return exc.status == 429 or exc.status >= 500 or exc.action.retryable


def failure_kind(exc: BaseException) -> FailureKind:
    """The class of one failure (see module)."""
    if is_busy(exc) or (isinstance(exc, SyncError) and exc.kind == "lock_lost"):
        return "busy"
    if isinstance(exc, SyncError) and exc.kind in _OUTAGE_KINDS:
        return "outage"
    for link in _chain(exc):
        if isinstance(link, SQLAlchemyError | httpx.TransportError | ConnectionError):
            return "outage"
        if isinstance(link, HubSpotError):
            return "outage" if _hubspot_outage(link) else "record"
    return "record"
