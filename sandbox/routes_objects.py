"""``/crm/v3/objects/{type}``: list, create, get, update, archive and search one object type."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.associations import target_type
from sandbox.errors import ApiError
from sandbox.http import (
    context,
    json_response,
    query_bool,
    query_int,
    query_list,
    read_json,
)
from sandbox.render import record_json
from sandbox.state import SandboxState
from sandbox.store import TypeStore

__all__ = ["create_links", "object_routes", "properties_of"]


def properties_of(body: dict[str, Any]) -> dict[str, Any]:
    """The ``properties`` object of an input (missing means none); 400 for anything else."""
    props = body.get("properties", {})
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise ApiError(400, "VALIDATION_ERROR", "'properties' must be an object of name: value")
    return props


def create_links(state: SandboxState, store: TypeStore,
                 raw: object) -> list[tuple[str, int, list[int]]]:
    """Parse a create input's ``associations`` list into (to type, to id, type ids)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ApiError(400, "VALIDATION_ERROR", "'associations' must be a list")
    links: list[tuple[str, int, list[int]]] = []
    for item in raw:
        to = item.get("to") if isinstance(item, dict) else None
        types = item.get("types") if isinstance(item, dict) else None
        to_id = str(to.get("id", "")) if isinstance(to, dict) else ""
        if not (to_id.isascii() and to_id.isdigit()) or not isinstance(types, list) or not types:
            raise ApiError(400, "VALIDATION_ERROR",
                           "Each association needs 'to': {'id'} and a non-empty 'types' list")
        type_ids: list[int] = []
        to_type: str | None = None
        for spec in types:
            tid = spec.get("associationTypeId") if isinstance(spec, dict) else None
            found = target_type(store.type_name, tid) if isinstance(tid, int) else None
            if found is None or (to_type is not None and found != to_type):
                raise ApiError(400, "VALIDATION_ERROR",
                               f"{tid} is not a valid association type id from "
                               f"{store.type_name}")
            to_type = found
            type_ids.append(tid)  # type: ignore[arg-type]
        assert to_type is not None
        links.append((to_type, int(to_id), type_ids))
    return links


def _object_json(request: Request, store: TypeStore, rec: Any) -> dict[str, Any]:
    ctx = context(request)
    assoc = query_list(request, "associations")
    resolved = [ctx.state.store(a).type_name for a in assoc] if assoc else None
    return record_json(ctx.state, store, rec, query_list(request, "properties"),
                       query_list(request, "propertiesWithHistory"), resolved)


async def list_objects(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    with_history = query_list(request, "propertiesWithHistory")
    # HubSpot reads fewer records per page when history is asked for.
    limit = query_int(request, "limit", 10, 50 if with_history else 100)
    after_raw = request.query_params.get("after", "")
    after = int(after_raw) if after_raw.isascii() and after_raw.isdigit() else 0
    records, next_id = ctx.state.page(store, after, limit, query_bool(request, "archived"))
    body: dict[str, Any] = {"results": [_object_json(request, store, r) for r in records]}
    if next_id is not None:
        link = f"{request.url.path}?limit={limit}&after={next_id}"
        body["paging"] = {"next": {"after": str(next_id), "link": link}}
    return json_response(body)


async def create_object(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
    links = create_links(ctx.state, store, body.get("associations"))
    rec = ctx.state.create(store, properties_of(body), links, ctx.source_id)
    return json_response(record_json(ctx.state, store, rec, list(properties_of(body))), 201)


async def get_object(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    rec = ctx.state.get(store, request.path_params["object_id"],
                        request.query_params.get("idProperty"), query_bool(request, "archived"))
    return json_response(_object_json(request, store, rec))


async def update_object(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "The request body must be a JSON object")
    rec = ctx.state.get(store, request.path_params["object_id"],
                        request.query_params.get("idProperty"))
    props = properties_of(body)
    ctx.state.update(store, rec, props, ctx.source_id)
    return json_response(record_json(ctx.state, store, rec, list(props)))


async def archive_object(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    key = request.path_params["object_id"]
    rec = store.records.get(int(key)) if key.isascii() and key.isdigit() else None
    if rec is not None:  # HubSpot answers 204 for ids that are already gone, too
        ctx.state.archive(store, rec, ctx.source_id)
    return Response(status_code=204)


async def search_objects(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    page = ctx.search.run(store, await read_json(request))
    body: dict[str, Any] = {
        "total": page.total,
        "results": [record_json(ctx.state, store, r, page.properties) for r in page.records],
    }
    if page.next_after is not None:
        body["paging"] = {"next": {"after": str(page.next_after)}}
    return json_response(body)


def object_routes(prefix: str) -> list[Route]:
    """Routes under ``prefix`` (``/crm/v3/objects`` or a date-versioned equivalent)."""
    one = prefix + "/{object_type}/{object_id}"
    return [
        Route(prefix + "/{object_type}/search", search_objects, methods=["POST"]),
        Route(prefix + "/{object_type}", list_objects, methods=["GET"]),
        Route(prefix + "/{object_type}", create_object, methods=["POST"]),
        Route(one, get_object, methods=["GET"]),
        Route(one, update_object, methods=["PATCH"]),
        Route(one, archive_object, methods=["DELETE"]),
    ]
