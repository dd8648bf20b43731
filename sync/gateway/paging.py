"""Paging protocols as small state machines without I/O (STYLE.md 3).

``CursorPager`` follows ``paging.next.after`` and raises on a repeated cursor. ``SearchWalk``
walks a search past HubSpot's 10,000-result cap: results sorted by ``hs_object_id`` ascending,
and when the next page would cross the cap the query restarts with ``hs_object_id >= last + 1``
(Airbyte's fix for many records sharing one timestamp). ``chunked`` cuts inputs into batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sync.gateway.errors import PermanentError

__all__ = ["SEARCH_RESULT_CAP", "CursorPager", "PagingLoopError", "SearchWalk", "chunked"]

SEARCH_RESULT_CAP = 10_000
T = TypeVar("T")


class PagingLoopError(PermanentError):
    """HubSpot handed back a cursor it had already given: following it would loop forever."""


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most ``size`` items (none for an empty input)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def next_after(paging: Mapping[str, Any] | None) -> str | None:
    """``paging.next.after`` of a response, or None on the last page."""
    nxt = (paging or {}).get("next") or {}
    after = nxt.get("after")
    return str(after) if after not in (None, "") else None


class CursorPager:
    """Remembers every cursor seen; ``advance`` gives the next one or None when done."""

    def __init__(self, endpoint: str = "") -> None:
        self._seen: set[str] = set()
        self._endpoint = endpoint

    def advance(self, paging: Mapping[str, Any] | None) -> str | None:
        after = next_after(paging)
        if after is None:
            return None
        if after in self._seen:
            raise PagingLoopError(f"cursor {after!r} repeated", endpoint=self._endpoint)
        self._seen.add(after)
        return after


class SearchWalk:
    """The request bodies of a search walked to the end, one page at a time.

    ``body()`` is the next request; ``advance(response)`` consumes its answer and returns False
    when the walk is over. Each filter group gets the ``hs_object_id`` floor (groups are OR-ed),
    so callers must leave room for one filter per group under HubSpot's filter limits.
    """

    def __init__(
        self,
        filter_groups: Sequence[Mapping[str, Any]],
        properties: Sequence[str],
        *,
        limit: int = 200,
        cap: int = SEARCH_RESULT_CAP,
        endpoint: str = "",
    ) -> None:
        self._groups = [dict(g) for g in filter_groups]
        self._properties = list(properties)
        self._limit = limit
        self._cap = cap
        self._endpoint = endpoint
        self.floor_id: int | None = None
        self.after: str | None = None
        self.restarts = 0
        self._pager = CursorPager(endpoint)

    def body(self) -> dict[str, Any]:
        groups = self._groups
        if self.floor_id is not None:
            floor = {"propertyName": "hs_object_id", "operator": "GTE", "value": str(self.floor_id)}
            groups = [{"filters": [*g.get("filters", ()), floor]} for g in groups or [{}]]
        body: dict[str, Any] = {
            "filterGroups": groups,
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": self._properties,
            "limit": self._limit,
        }
        if self.after is not None:
            body["after"] = self.after
        return body

    def advance(self, response: Mapping[str, Any]) -> bool:
        results = response.get("results") or []
        after = next_after(response.get("paging"))
        if not results or after is None:
            return False
        offset = _offset(after)
        if offset is not None and offset + self._limit > self._cap:
            return self._restart(int(results[-1]["id"]))
        self.after = self._pager.advance(response.get("paging"))
        return True

    def _restart(self, last_id: int) -> bool:
        floor = last_id + 1
        if self.floor_id is not None and floor <= self.floor_id:
            raise PagingLoopError(
                f"search restart at hs_object_id {floor} does not advance past {self.floor_id}",
                endpoint=self._endpoint,
            )
        self.floor_id, self.after = floor, None
        self._pager = CursorPager(self._endpoint)
        self.restarts += 1
        return True


def _offset(after: str) -> int | None:
    try:
        return int(after)
    except ValueError:
        return None  # an opaque cursor: follow it; HubSpot's 400 past the cap would surface
