"""``/crm/v3/properties/{type}``: property definitions and groups (list, get, create, update)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import ApiError
from sandbox.http import Context, batch_inputs, context, json_response, read_json, utc_now_iso
from sandbox.schema import PropertyDef
from sandbox.store import TypeStore
from sandbox.values import iso_ms

__all__ = ["property_routes"]

_FIELD_TYPES = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "string": {"file", "text", "textarea", "calculation_equation", "html", "phonenumber"},
    "number": {"number", "calculation_equation"},
    "phone_number": {"phonenumber"},
}


def _invalid(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


def property_json(prop: PropertyDef) -> dict[str, Any]:
    stamp = iso_ms(prop.created_at_ms)
    return {
        "name": prop.name, "label": prop.label, "type": prop.type, "fieldType": prop.field_type,
        "description": prop.description, "groupName": prop.group_name,
        "options": [{"label": o, "value": o, "displayOrder": i, "hidden": False}
                    for i, o in enumerate(prop.options)],
        "displayOrder": -1, "calculated": False, "externalOptions": prop.external_options,
        "hasUniqueValue": prop.has_unique_value, "hidden": False,
        "hubspotDefined": prop.hubspot_defined, "formField": not prop.read_only,
        "modificationMetadata": {"archivable": not prop.hubspot_defined,
                                 "readOnlyDefinition": prop.hubspot_defined,
                                 "readOnlyValue": prop.read_only},
        "createdAt": stamp, "updatedAt": stamp, "archived": False,
    }


def _parse_property(store: TypeStore, body: Any) -> PropertyDef:
    if not isinstance(body, dict):
        raise _invalid("The property definition must be a JSON object")
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName")
               if not isinstance(body.get(k), str) or not body[k]]
    if missing:
        raise _invalid(f"Missing required fields: {', '.join(missing)}")
    kind, field_type = body["type"], body["fieldType"]
    if kind not in _FIELD_TYPES:
        raise _invalid(f"Invalid type {kind!r}; use one of {sorted(_FIELD_TYPES)}")
    if field_type not in _FIELD_TYPES[kind]:
        raise _invalid(f"fieldType {field_type!r} is not valid for type {kind!r}")
    if body["groupName"] not in store.groups:
        raise _invalid(f"Property group {body['groupName']} does not exist")
    raw_options = body.get("options") or []
    if not isinstance(raw_options, list) or not all(
            isinstance(o, dict) and isinstance(o.get("value"), str) for o in raw_options):
        raise _invalid("'options' must be a list of {label, value} objects")
    if kind == "enumeration" and not raw_options and field_type != "booleancheckbox":
        raise _invalid("Enumeration properties need options")
    options = [o["value"] for o in raw_options] or (
        ["true", "false"] if kind == "enumeration" else [])
    return PropertyDef(name=body["name"], label=body["label"], type=kind, field_type=field_type,
                       group_name=body["groupName"], options=options, hubspot_defined=False,
                       has_unique_value=bool(body.get("hasUniqueValue", False)),
                       description=str(body.get("description") or ""))


def _create_one(ctx: Context, store: TypeStore, body: Any) -> PropertyDef:
    prop = _parse_property(store, body)
    if prop.name in store.props:
        raise ApiError(409, "OBJECT_ALREADY_EXISTS",
                       f"A property named '{prop.name}' already exists.",
                       context={"name": [prop.name]})
    ctx.state.define_property(store, prop)
    return prop


async def list_properties(request: Request) -> Response:
    store = context(request).state.store(request.path_params["object_type"])
    return json_response({"results": [property_json(p) for p in store.props.values()]})


async def get_property(request: Request) -> Response:
    store = context(request).state.store(request.path_params["object_type"])
    prop = store.props.get(request.path_params["name"])
    if prop is None:
        raise ApiError(404, "OBJECT_NOT_FOUND",
                       f"Property {request.path_params['name']} does not exist")
    return json_response(property_json(prop))


async def create_property(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    prop = _create_one(ctx, store, await read_json(request))
    return json_response(property_json(prop), 201)


async def batch_create_properties(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    started = utc_now_iso()
    results, errors = [], []
    for item in batch_inputs(await read_json(request)):
        try:
            results.append(property_json(_create_one(ctx, store, item)))
        except ApiError as error:
            errors.append(error.batch_entry())
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                            "completedAt": utc_now_iso()}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
    return json_response(body, 207 if errors else 201)


async def update_property(request: Request) -> Response:
    """PATCH: the given label, description or options replace the definition's."""
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    prop = store.props.get(request.path_params["name"])
    if prop is None:
        raise ApiError(404, "OBJECT_NOT_FOUND",
                       f"Property {request.path_params['name']} does not exist")
    body = await read_json(request)
    if not isinstance(body, dict):
        raise _invalid("The property update must be a JSON object")
    if prop.hubspot_defined and "options" in body:
        raise _invalid(f"{prop.name} is defined by HubSpot: its options cannot change")
    raw_options = body.get("options")
    if raw_options is not None and (not isinstance(raw_options, list) or not all(
            isinstance(o, dict) and isinstance(o.get("value"), str) for o in raw_options)):
        raise _invalid("'options' must be a list of {label, value} objects")
    with ctx.state.lock:
        if raw_options is not None:
            prop.options = [o["value"] for o in raw_options]
        if isinstance(body.get("label"), str) and body["label"]:
            prop.label = body["label"]
        if isinstance(body.get("description"), str):
            prop.description = body["description"]
        ctx.state.version += 1
    return json_response(property_json(prop))


async def list_groups(request: Request) -> Response:
    store = context(request).state.store(request.path_params["object_type"])
    return json_response({"results": list(store.groups.values())})


async def create_group(request: Request) -> Response:
    ctx = context(request)
    store = ctx.state.store(request.path_params["object_type"])
    body = await read_json(request)
    if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) and body[k] for k in ("name", "label")):
        raise _invalid("A property group needs a name and a label")
    if body["name"] in store.groups:
        raise ApiError(409, "OBJECT_ALREADY_EXISTS",
                       f"A property group named '{body['name']}' already exists.")
    order = body.get("displayOrder", -1)
    group = {"name": body["name"], "label": body["label"],
             "displayOrder": order if isinstance(order, int) else -1, "archived": False}
    with ctx.state.lock:
        store.groups[body["name"]] = group
    return json_response(group, 201)


def property_routes(prefix: str) -> list[Route]:
    return [
        Route(prefix + "/{object_type}/groups", list_groups, methods=["GET"]),
        Route(prefix + "/{object_type}/groups", create_group, methods=["POST"]),
        Route(prefix + "/{object_type}/batch/create", batch_create_properties, methods=["POST"]),
        Route(prefix + "/{object_type}", list_properties, methods=["GET"]),
        Route(prefix + "/{object_type}", create_property, methods=["POST"]),
        Route(prefix + "/{object_type}/{name}", get_property, methods=["GET"]),
        Route(prefix + "/{object_type}/{name}", update_property, methods=["PATCH"]),
    ]
