"""``/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}``.

Inputs that fail become entries of ``errors`` (with ``numErrors``) and turn the answer into a
207; the others succeed. Create answers 201, archive 204, the rest 200, as HubSpot does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import ApiError
from sandbox.http import (
    Context,
    batch_inputs,
    body_text,
    context,
    json_response,
    read_json,
    utc_now_iso,
)
from sandbox.render import record_json
from sandbox.routes_objects import create_links, properties_of
from sandbox.store import Record, TypeStore

__all__ = ["batch_routes"]


def _answer(results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str,
            ok_status: int) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                            "completedAt": utc_now_iso()}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return json_response(body, 207 if errors else ok_status)


def _with_trace(error: ApiError, item: dict[str, Any]) -> dict[str, Any]:
    entry = error.batch_entry()
    trace = item.get("objectWriteTraceId")
    if trace is not None:
        entry["context"] = {**entry["context"], "objectWriteTraceId": [str(trace)]}
    return entry


async def _read(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    inputs = batch_inputs(body)
    id_property = body_text(body, "idProperty")
    archived = request.query_params.get("archived", "false").lower() == "true"
    names = body.get("properties") or None
    history = body.get("propertiesWithHistory") or None
    results, missing = [], []
    for item in inputs:
        key = str(item.get("id", ""))
        try:
            rec = ctx.state.get(store, key, id_property, archived)
        except ApiError:
            missing.append(key)
            continue
        results.append(record_json(ctx.state, store, rec, names, history))
    errors = []
    if missing:
        label = store.type_name.rstrip("s").upper()
        errors.append(ApiError(404, "OBJECT_NOT_FOUND",
                               f"Could not get some {label} objects, they may be deleted or not "
                               "exist. Check that ids are valid.",
                               context={"ids": missing}).batch_entry())
    return _answer(results, errors, started, 200)


async def _create(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    results, errors = [], []
    for item in batch_inputs(body):
        try:
            props = properties_of(item)
            links = create_links(ctx.state, store, item.get("associations"))
            rec = ctx.state.create(store, props, links, ctx.source_id)
        except ApiError as error:
            errors.append(_with_trace(error, item))
            continue
        results.append(record_json(ctx.state, store, rec, list(props)))
    return _answer(results, errors, started, 201)


async def _update(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    results, errors = [], []
    for item in batch_inputs(body):
        try:
            rec = ctx.state.get(store, str(item.get("id", "")), body_text(item, "idProperty"))
            props = properties_of(item)
            ctx.state.update(store, rec, props, ctx.source_id)
        except ApiError as error:
            errors.append(_with_trace(error, item))
            continue
        results.append(record_json(ctx.state, store, rec, list(props)))
    return _answer(results, errors, started, 200)


async def _upsert(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    results, errors = [], []
    for item in batch_inputs(body):
        key = str(item.get("id", ""))
        try:
            id_property = body_text(item, "idProperty") or "hs_object_id"
            props = properties_of(item)
            rec: Record | None = store.find_unique(id_property, key) if key else None
            if rec is None:
                create_props = dict(props)
                if id_property != "hs_object_id":
                    create_props.setdefault(id_property, key)
                rec = ctx.state.create(store, create_props, (), ctx.source_id)
                created, props = True, create_props
            else:
                ctx.state.update(store, rec, props, ctx.source_id)
                created = False
        except ApiError as error:
            errors.append(_with_trace(error, item))
            continue
        results.append({**record_json(ctx.state, store, rec, list(props)), "new": created})
    return _answer(results, errors, started, 200)


async def _archive(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    for item in batch_inputs(body):
        key = str(item.get("id", ""))
        rec = store.records.get(int(key)) if key.isascii() and key.isdigit() else None
        if rec is not None:
            ctx.state.archive(store, rec, ctx.source_id)
    return Response(status_code=204)


_ACTIONS = {"read": _read, "create": _create, "update": _update, "upsert": _upsert,
            "archive": _archive}


async def batch(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    action = _ACTIONS.get(request.path_params["action"])
    if action is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"No batch action {request.path_params['action']}")
    return await action(request, ctx, store, await read_json(request))


def batch_routes(prefix: str) -> list[Route]:
    return [Route(prefix + "/{object_type}/batch/{action}", batch, methods=["POST"])]
