"""``POST /crm/v3/objects/{type}/search``: HubSpot's request rules, matching, sorting and paging.

Limits follow the current docs: 5 filter groups, 6 filters per group, 18 filters in all, one
sort, ``limit`` <= 200 (default 10), ``after`` an integer offset, 400 past 10,000 results.
Archived records never match. With index lag, records written less than ``search_lag_ms`` ago
are left out of ``results`` while ``total`` already counts them (as observed on HubSpot).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sandbox.errors import ApiError
from sandbox.filters import Predicate, compile_filter, sort_key
from sandbox.schema import DEFAULT_SEARCH_PROPERTIES, QUERY_FIELDS
from sandbox.state import SandboxState
from sandbox.store import Record, TypeStore

__all__ = ["MAX_GROUPS", "MAX_RESULTS", "SearchPage", "SearchRunner"]

MAX_GROUPS, MAX_PER_GROUP, MAX_FILTERS = 5, 6, 18
MAX_LIMIT, MAX_RESULTS, MAX_QUERY_CHARS = 200, 10_000, 3_000
_CACHE_SIZE = 8


def _invalid(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    records: list[Record]
    properties: list[str]
    next_after: int | None


def _int_field(body: dict[str, Any], key: str, default: int) -> int:
    raw = body.get(key, default)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not (str(raw).strip().isascii() and str(raw).strip().isdigit()):
        raise _invalid(f"'{key}' must be a non-negative integer, got {raw!r}")
    return int(str(raw).strip())


def _sort(raw: object) -> tuple[str, bool] | None:
    """(property, descending) from HubSpot's object form or the string form ``-name``."""
    if not isinstance(raw, list) or not raw:
        if raw in (None, []):
            return None
        raise _invalid("'sorts' must be a list")
    if len(raw) > 1:
        raise _invalid("Only one sort is allowed per search")
    entry = raw[0]
    if isinstance(entry, str) and entry.lstrip("-"):
        return entry.lstrip("-"), entry.startswith("-")
    if isinstance(entry, dict) and isinstance(entry.get("propertyName"), str):
        direction = str(entry.get("direction", "ASCENDING")).upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise _invalid(f"Invalid sort direction {direction!r}")
        return entry["propertyName"], direction == "DESCENDING"
    raise _invalid("Each sort needs a propertyName")


class SearchRunner:
    """Runs searches against a state; caches the matching ids of recent queries per version."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._cache: OrderedDict[str, list[Record]] = OrderedDict()

    def run(self, store: TypeStore, body: object) -> SearchPage:
        if not isinstance(body, dict):
            raise _invalid("The search request body must be a JSON object")
        limit = _int_field(body, "limit", 10)
        after = _int_field(body, "after", 0)
        if limit > MAX_LIMIT:
            raise _invalid(f"limit must be at most {MAX_LIMIT}, got {limit}")
        if after >= MAX_RESULTS:
            raise _invalid(f"The search endpoint is limited to {MAX_RESULTS} total results; "
                           "paging beyond them is not allowed.")
        props = body.get("properties")
        if props is not None and not (isinstance(props, list)
                                      and all(isinstance(p, str) for p in props)):
            raise _invalid("'properties' must be a list of property names")
        names = list(props) if props else list(DEFAULT_SEARCH_PROPERTIES[store.type_name])
        with self.state.lock:
            matched = self._matches(store, body)
            now = self.state.now_ms()
            visible = matched if self.state.search_lag_ms <= 0 else [
                r for r in matched if r.indexed_ms <= now]
            end = min(after + limit, MAX_RESULTS)
            page = visible[after:end]
            more = end < len(visible)
        return SearchPage(len(matched), page, names, end if more and limit else None)

    def _matches(self, store: TypeStore, body: dict[str, Any]) -> list[Record]:
        predicates = self._groups(store, body.get("filterGroups"))
        query = body.get("query")
        if query is not None and (not isinstance(query, str) or len(query) > MAX_QUERY_CHARS):
            raise _invalid(f"'query' must be a string of at most {MAX_QUERY_CHARS} characters")
        sort = _sort(body.get("sorts"))
        key = json.dumps([store.type_name, body.get("filterGroups"), query, sort,
                          self.state.version], sort_keys=True, default=str)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = [rec for rec_id in store.ids_from(0)
                 if (rec := store.records[rec_id]).archived_ms is None
                 and (not predicates or any(all(p(rec) for p in g) for g in predicates))
                 and (not query or self._query_match(store, rec, query))]
        if sort is not None:
            get = sort_key(store, sort[0])
            with_value = [r for r in found if get(r) is not None]
            without = [r for r in found if get(r) is None]
            with_value.sort(key=lambda r: get(r), reverse=sort[1])  # type: ignore[arg-type,return-value]
            found = with_value + without
        self._cache[key] = found
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    def _groups(self, store: TypeStore, raw: object) -> list[list[Predicate]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise _invalid("'filterGroups' must be a list")
        if len(raw) > MAX_GROUPS:
            raise _invalid(f"Too many filter groups: {len(raw)}; the limit is {MAX_GROUPS}")
        groups: list[list[Predicate]] = []
        total = 0
        for group in raw:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                raise _invalid("Each filter group needs a 'filters' list")
            if len(filters) > MAX_PER_GROUP:
                raise _invalid(f"Too many filters in a group: {len(filters)}; "
                               f"the limit is {MAX_PER_GROUP}")
            total += len(filters)
            groups.append([compile_filter(store, f, self.state.linked) for f in filters])
        if total > MAX_FILTERS:
            raise _invalid(f"Too many filters: {total}; the limit is {MAX_FILTERS}")
        return [g for g in groups if g]

    @staticmethod
    def _query_match(store: TypeStore, rec: Record, query: str) -> bool:
        # Free-text search: every word must prefix-match some word of the searched fields.
        words = [w.lower() for w in query.split() if w]
        fields = " ".join(store.raw(rec, n) or "" for n in QUERY_FIELDS[store.type_name]).lower()
        tokens = fields.replace("@", " ").replace(".", " ").split() + fields.split()
        return all(any(t.startswith(w) for t in tokens) for w in words)
