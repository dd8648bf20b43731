"""``Gateway``: the only code that talks to HubSpot (DESIGN.md "Gateway").

Every method goes through the official SDK (``GatewayCore``: one httpx client, pacing, retries,
metrics, one error translation) and returns plain values from ``sync.gateway.models``. Reads,
search, batch update and property/association creation (409 = exists, PUT) are idempotent and
retried; the gateway creates no CRM records.

Batch sizes: 100 inputs per batch call (50 when ``propertiesWithHistory`` is asked for, the
limit peers report), 100 ids per associations v4 batch read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from sync.gateway.errors import ActionKind, HubSpotError
from sync.gateway.models import (
    AssociationLink,
    BatchResult,
    CrmRecord,
    Page,
    RecordError,
    SearchPage,
)
from sync.gateway.paging import CursorPager, PagingLoopError, SearchWalk, chunked, next_after
from sync.gateway.schema import SchemaOps

__all__ = ["Gateway"]

LIST = "GET /crm/v3/objects/{type}"
SEARCH = "POST /crm/v3/objects/{type}/search"
BATCH_READ = "POST /crm/v3/objects/{type}/batch/read"
BATCH_UPDATE = "POST /crm/v3/objects/{type}/batch/update"
ASSOC_READ = "POST /crm/v4/associations/{from}/{to}/batch/read"

BATCH_MAX = 100
HISTORY_BATCH_MAX = 50
LIST_PAGE_MAX = 100
ASSOC_BATCH_MAX = 100


class Gateway(SchemaOps):
    """Typed HubSpot operations for the sync engine. Build with ``Gateway(settings, ...)``."""

    def list_objects(
        self,
        object_type: str,
        properties: Sequence[str],
        *,
        archived: bool = False,
        with_history: Sequence[str] = (),
        associations: Sequence[str] = (),
        page_size: int = LIST_PAGE_MAX,
    ) -> Iterator[Page]:
        """Every record of a type, a page (<= 100) at a time. Raises PagingLoopError on a loop."""
        size = min(page_size, HISTORY_BATCH_MAX if with_history else LIST_PAGE_MAX)
        kwargs: dict[str, Any] = {
            "limit": size, "properties": list(properties), "archived": archived
        }
        if with_history:
            kwargs["properties_with_history"] = list(with_history)
        if associations:
            kwargs["associations"] = list(associations)
        pager = CursorPager(LIST)
        after: str | None = None
        while True:
            extra = {"after": after} if after else {}
            send = partial(
                self.objects_basic.get_page, object_type, _preload_content=False, **kwargs, **extra
            )
            data = self.call(LIST, send)
            after = pager.advance(data.get("paging"))
            yield Page([CrmRecord.from_json(r) for r in data.get("results", ())], after)
            if after is None:
                return

    def search(
        self,
        object_type: str,
        filter_groups: Sequence[Mapping[str, Any]],
        properties: Sequence[str],
        sorts: Sequence[Mapping[str, str]] = (),
        after: str | None = None,
        limit: int = 200,
    ) -> SearchPage:
        """One page of ``POST /crm/v3/objects/{type}/search`` (limit <= 200)."""
        body: dict[str, Any] = {
            "filterGroups": [dict(g) for g in filter_groups],
            "properties": list(properties),
            "sorts": [dict(s) for s in sorts],
            "limit": limit,
        }
        if after is not None:
            body["after"] = after
        return _search_page(self._search_raw(object_type, body))

    def search_all(
        self,
        object_type: str,
        filter_groups: Sequence[Mapping[str, Any]],
        properties: Sequence[str],
        *,
        limit: int = 200,
    ) -> Iterator[SearchPage]:
        """Every match of a search, past the 10,000 cap, sorted by ``hs_object_id`` ascending.

        Each filter group gets one more filter (``hs_object_id GTE``) after a restart.
        """
        walk = SearchWalk(filter_groups, properties, limit=limit, endpoint=SEARCH)
        while True:
            data = self._search_raw(object_type, walk.body())
            yield _search_page(data)
            if not walk.advance(data):
                return

    def _search_raw(self, object_type: str, body: dict[str, Any]) -> Any:
        send = partial(self.objects_search.do_search, object_type, body, _preload_content=False)
        return self.call(SEARCH, send)

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str],
        with_history: Sequence[str] = (),
        *,
        archived: bool = False,
    ) -> BatchResult:
        """Records by id, chunked here; ids HubSpot does not find come back in ``errors``."""
        result = BatchResult()
        size = HISTORY_BATCH_MAX if with_history else BATCH_MAX
        for chunk in chunked(list(dict.fromkeys(ids)), size):
            body: dict[str, Any] = {
                "inputs": [{"id": i} for i in chunk],
                "properties": list(properties),
                "propertiesWithHistory": list(with_history),
            }
            read = self.objects_batch.read
            send = partial(read, object_type, body, archived=archived, _preload_content=False)
            result.extend(self._batch(BATCH_READ, chunk, send))
        return result

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Write ``[{"id", "properties"}]`` 100 per call; per-record errors, never all-or-nothing.

        A 207 answer splits into successes and errors. A 400/404/409 that fails a whole chunk is
        bisected until the bad inputs are alone, so one invalid value costs ~log2(100) extra
        calls instead of the other 99 records' writes.
        """
        result = BatchResult()
        for chunk in chunked(list(inputs), BATCH_MAX):
            result.extend(self._update_chunk(object_type, chunk))
        return result

    def _update_chunk(self, object_type: str, chunk: list[Mapping[str, Any]]) -> BatchResult:
        ids = [str(c["id"]) for c in chunk]
        pairs = zip(ids, chunk, strict=True)
        # objectWriteTraceId (the id itself) names each input in a 207's errors
        body = {"inputs": [{"id": i, "objectWriteTraceId": i, "properties": dict(c["properties"])}
                           for i, c in pairs]}
        send = partial(self.objects_batch.update, object_type, body, _preload_content=False)
        try:
            return self._batch(BATCH_UPDATE, ids, send, skip_as_errors=len(chunk) == 1)
        except HubSpotError as exc:
            if exc.action.kind is not ActionKind.SKIP_RECORD or len(chunk) == 1:
                raise
        half = len(chunk) // 2
        result = self._update_chunk(object_type, chunk[:half])
        result.extend(self._update_chunk(object_type, chunk[half:]))
        return result

    def _batch(
        self,
        endpoint: str,
        ids: Sequence[str],
        send: Callable[[], Any],
        *,
        skip_as_errors: bool = True,
    ) -> BatchResult:
        """One batch call; a SKIP_RECORD failure of the whole call becomes per-id errors."""
        try:
            data = self.call(endpoint, send)
        except HubSpotError as exc:
            if not skip_as_errors or exc.action.kind is not ActionKind.SKIP_RECORD:
                raise
            context = dict(exc.body.get("context") or {})
            error = RecordError(tuple(ids), exc.category, exc.message, exc.status, context)
            return BatchResult(errors=[error])
        return BatchResult(
            succeeded=[CrmRecord.from_json(r) for r in data.get("results", ())],
            errors=[_record_error(e) for e in data.get("errors", ())],
        )

    def read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[AssociationLink]]:
        """Associations v4 of each id (every id is a key; ``[]`` when it has none)."""
        links: dict[str, list[AssociationLink]] = {str(i): [] for i in ids}
        pending: list[dict[str, str]] = [{"id": i} for i in links]
        seen: set[tuple[str, str]] = set()
        while pending:
            batch, pending = pending[:ASSOC_BATCH_MAX], pending[ASSOC_BATCH_MAX:]
            send = partial(
                self.assoc_batch.get_page, from_type, to_type, {"inputs": batch},
                _preload_content=False,
            )
            data = self.call(ASSOC_READ, send)
            for result in data.get("results", ()):
                from_id = str(result["from"]["id"])
                links.setdefault(from_id, []).extend(_link(t) for t in result.get("to", ()))
                after = next_after(result.get("paging"))
                if after is not None:
                    if (from_id, after) in seen:
                        raise PagingLoopError(f"cursor {after!r} repeated", endpoint=ASSOC_READ)
                    seen.add((from_id, after))
                    pending.append({"id": from_id, "after": after})
        return links


def _search_page(data: Mapping[str, Any]) -> SearchPage:
    records = [CrmRecord.from_json(r) for r in data.get("results", ())]
    total = int(data.get("total", len(records)))
    return SearchPage(records, total, next_after(data.get("paging")))


def _link(target: Mapping[str, Any]) -> AssociationLink:
    types = tuple(
        (str(t.get("category")), int(t.get("typeId", 0)), t.get("label"))
        for t in target.get("associationTypes", ())
    )
    return AssociationLink(str(target["toObjectId"]), types)


def _record_error(error: Mapping[str, Any]) -> RecordError:
    context = dict(error.get("context") or {})
    # HubSpot names the failed inputs under "ids" (batch read, observed); "id" and
    # "objectWriteTraceId" are accepted too, since the key is not documented per endpoint.
    ids = context.get("ids") or context.get("id") or context.get("objectWriteTraceId") or ()
    return RecordError(
        ids=tuple(str(i) for i in ids),
        category=error.get("category"),
        message=str(error.get("message") or ""),
        status=None,
        context=context,
    )
