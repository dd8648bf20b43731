"""Associations v4 (batch read, batch create, per-record read) and ``/crm/v3/owners``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.associations import association_type
from sandbox.errors import ApiError
from sandbox.http import context, json_response, query_int, read_json, utc_now_iso
from sandbox.render import v4_targets
from sandbox.schema import OBJECT_TYPE_IDS, SINGULAR
from sandbox.store import TypeStore
from sandbox.values import iso_ms

__all__ = ["association_routes"]

_MAX_V4_INPUTS = 1000


def _inputs(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise ApiError(400, "VALIDATION_ERROR", "The request body needs an 'inputs' list")
    inputs: list[dict[str, Any]] = body["inputs"]
    if len(inputs) > _MAX_V4_INPUTS or not all(isinstance(i, dict) for i in inputs):
        raise ApiError(400, "VALIDATION_ERROR",
                       f"'inputs' must hold at most {_MAX_V4_INPUTS} objects")
    return inputs


def _record_id(store: TypeStore, raw: object) -> int | None:
    key = str(raw.get("id", "")) if isinstance(raw, dict) else str(raw or "")
    if key.isascii() and key.isdigit():
        rec = store.records.get(int(key))
        if rec is not None and rec.archived_ms is None:
            return rec.id
    return None


def _batch(results: list[Any], errors: list[dict[str, Any]], ok: int) -> Response:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": utc_now_iso(),
                            "completedAt": utc_now_iso()}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
    return json_response(body, 207 if errors else ok)


async def batch_read(request: Request) -> Response:
    ctx = context(request)
    source = ctx.state.store(request.path_params["from_type"])
    target = ctx.state.store(request.path_params["to_type"])
    results, errors = [], []
    for item in _inputs(await read_json(request)):
        from_id = _record_id(source, item)
        links = ctx.state.linked(source.type_name, from_id, target.type_name) if from_id else []
        if not links:
            key = str(item.get("id", ""))
            errors.append(ApiError(
                404, "OBJECT_NOT_FOUND",
                f"No {SINGULAR[target.type_name]} is associated with "
                f"{SINGULAR[source.type_name]} {key}.",
                context={"fromObjectId": [key]},
                sub_category="crm.associations.NO_ASSOCIATIONS_FOUND").batch_entry())
            continue
        results.append({"from": {"id": str(from_id)},
                        "to": v4_targets(source.type_name, target.type_name, links)})
    return _batch(results, errors, 200)


async def batch_create(request: Request) -> Response:
    ctx = context(request)
    source = ctx.state.store(request.path_params["from_type"])
    target = ctx.state.store(request.path_params["to_type"])
    results, errors = [], []
    for item in _inputs(await read_json(request)):
        from_id, to_id = _record_id(source, item.get("from")), _record_id(target, item.get("to"))
        types = item.get("types")
        raw_ids = [t.get("associationTypeId") for t in types if isinstance(t, dict)] \
            if isinstance(types, list) else []
        type_ids = [tid for tid in raw_ids if isinstance(tid, int)
                    and association_type(source.type_name, target.type_name, tid)]
        valid = bool(type_ids) and len(type_ids) == len(raw_ids)
        if from_id is None or to_id is None or not valid:
            reason = "unknown record id" if from_id is None or to_id is None \
                else "invalid association type ids"
            errors.append(ApiError(400, "VALIDATION_ERROR", f"Cannot associate: {reason}",
                                   context={"input": [str(item)]}).batch_entry())
            continue
        ctx.state.associate(source.type_name, from_id, target.type_name, to_id, type_ids,
                            ctx.source_id)
        labels = [known.label for tid in type_ids
                  if (known := association_type(source.type_name, target.type_name, tid))
                  and known.label]
        results.append({"fromObjectTypeId": OBJECT_TYPE_IDS[source.type_name],
                        "fromObjectId": str(from_id),
                        "toObjectTypeId": OBJECT_TYPE_IDS[target.type_name],
                        "toObjectId": str(to_id), "labels": labels})
    return _batch(results, errors, 201)


async def record_associations(request: Request) -> Response:
    ctx = context(request)
    source = ctx.state.store(request.path_params["object_type"])
    target = ctx.state.store(request.path_params["to_type"])
    rec = ctx.state.get(source, request.path_params["object_id"])
    limit = query_int(request, "limit", 500, 500)
    after_raw = request.query_params.get("after", "0")
    offset = int(after_raw) if after_raw.isascii() and after_raw.isdigit() else 0
    links = ctx.state.linked(source.type_name, rec.id, target.type_name)
    body: dict[str, Any] = {
        "results": v4_targets(source.type_name, target.type_name, links[offset:offset + limit])}
    if offset + limit < len(links):
        body["paging"] = {"next": {"after": str(offset + limit)}}
    return json_response(body)


async def list_owners(request: Request) -> Response:
    owners = context(request).state.owner_list()
    limit = query_int(request, "limit", 100, 500)
    after_raw = request.query_params.get("after", "0")
    offset = int(after_raw) if after_raw.isascii() and after_raw.isdigit() else 0
    email = request.query_params.get("email")
    chosen = [o for o in owners if email is None or o.get("email") == email]
    stamp = iso_ms(0)
    results = [{"id": o.get("id"), "email": o.get("email"), "firstName": o.get("firstName"),
                "lastName": o.get("lastName"),
                "userId": int(o["id"]) if str(o.get("id", "")).isascii()
                and str(o.get("id", "")).isdigit() else None,
                "type": "PERSON", "createdAt": stamp, "updatedAt": stamp, "archived": False}
               for o in chosen[offset:offset + limit]]
    body: dict[str, Any] = {"results": results}
    if offset + limit < len(chosen):
        body["paging"] = {"next": {"after": str(offset + limit)}}
    return json_response(body)


def association_routes() -> list[Route]:
    base = "/crm/v4/associations/{from_type}/{to_type}/batch"
    return [
        Route(base + "/read", batch_read, methods=["POST"]),
        Route(base + "/create", batch_create, methods=["POST"]),
        Route("/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}",
              record_associations, methods=["GET"]),
        Route("/crm/v3/owners", list_owners, methods=["GET"]),
        Route("/crm/v3/owners/", list_owners, methods=["GET"]),
    ]
