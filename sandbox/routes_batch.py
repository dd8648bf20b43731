"""``/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}``.

Create and update follow HubSpot's documented batch rule (error-handling docs, research notes
§1.4): an invalid input that carries an ``objectWriteTraceId`` becomes an entry of ``errors``
(named by its trace id; the answer is a 207 and the valid inputs are written), while an invalid
input without one fails the whole call with that input's own error (400 ``VALIDATION_ERROR``,
404, 409 ``CONFLICT`` "... already exists") and writes nothing. Every input is checked before
any is written. Read and upsert report failed inputs per input. Create answers 201, archive 204,
the rest 200, as HubSpot does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

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

_Checked = TypeVar("_Checked")


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


def _checked(items: list[dict[str, Any]], check: Callable[[dict[str, Any]], _Checked],
             ) -> tuple[list[tuple[dict[str, Any], _Checked]], list[dict[str, Any]]]:
    """Check every input before anything is written (see module): the accepted inputs and
    the per-input errors of traced ones; an untraced invalid input raises for the whole call."""
    accepted, errors = [], []
    for item in items:
        try:
            accepted.append((item, check(item)))
        except ApiError as error:
            if item.get("objectWriteTraceId") is None:
                raise
            errors.append(_with_trace(error, item))
    return accepted, errors


class _UniqueClaims:
    """Unique values claimed by earlier inputs of one batch: a second claim is a 409."""

    def __init__(self, store: TypeStore) -> None:
        self.store = store
        self.owner: dict[tuple[str, str], int | None] = {}

    def claim(self, values: dict[str, str], own_id: int | None) -> None:
        keys = [(n, v) for n, v in values.items() if v and self.store.props[n].has_unique_value]
        for key in keys:
            if key in self.owner and (own_id is None or self.owner[key] != own_id):
                label = "Contact" if self.store.type_name == "contacts" else "Object"
                raise ApiError(409, "CONFLICT", f"{label} already exists. Another input of this "
                                                f"batch sets {key[0]} to {key[1]!r}")
        self.owner.update(dict.fromkeys(keys, own_id))


async def _create(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    claims = _UniqueClaims(store)

    def check(item: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, int, list[int]]]]:
        props = properties_of(item)
        links = create_links(ctx.state, store, item.get("associations"))
        claims.claim(ctx.state.check_write(store, props, links=links), None)
        return props, links

    with ctx.state.lock:
        accepted, errors = _checked(batch_inputs(body), check)
        results = []
        for _, (props, links) in accepted:
            rec = ctx.state.create(store, props, links, ctx.source_id)
            results.append(record_json(ctx.state, store, rec, list(props)))
    return _answer(results, errors, started, 201)


async def _update(request: Request, ctx: Context, store: TypeStore, body: Any) -> Response:
    started = utc_now_iso()
    claims = _UniqueClaims(store)

    def check(item: dict[str, Any]) -> tuple[Record, dict[str, Any]]:
        rec = ctx.state.get(store, str(item.get("id", "")), body_text(item, "idProperty"))
        props = properties_of(item)
        claims.claim(ctx.state.check_write(store, props, own_id=rec.id), rec.id)
        return rec, props

    with ctx.state.lock:
        accepted, errors = _checked(batch_inputs(body), check)
        results = []
        for _, (rec, props) in accepted:
            ctx.state.update(store, rec, props, ctx.source_id)
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
