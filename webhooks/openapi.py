"""The OpenAPI 3.1 document of the serve process (``/openapi.json``) and its docs page (``/docs``).

Hand-written: a few routes do not justify a framework, and a test checks every route of the app
appears here. The docs page (``/docs``) is generated from this document as plain HTML: every
operation with its parameters, request body schema and answers, and it loads nothing from
anywhere, so it works offline.
"""

from __future__ import annotations

import html
from typing import Any

import orjson

from sync.run_document import RUN_DOCUMENT_SCHEMA

__all__ = ["DOCS_HEADERS", "OPENAPI", "docs_html"]

_JSON = "application/json"
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {_JSON: {"schema": schema}}
    return body


_RUN = {"$ref": "#/components/schemas/RunDocument"}
_RESYNC = {
    "type": "object",
    "description": "exactly one of the properties",
    "properties": {
        "all": {"type": "boolean"},
        "object_type": {"enum": ["contacts", "companies", "deals", "subscriptions"]},
        "records": {"type": "array", "items": {
            "type": "object", "required": ["object_type", "id"],
            "properties": {"object_type": {"type": "string"}, "id": {"type": "string"}}}},
        "member": {"type": "string", "description": "partner code or member company id"},
    },
}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}}
_PORTAL = {
    "type": "object",
    "required": ["member", "hub_id", "status", "connected_at", "last_sync_at", "calls_used",
                 "last_error"],
    "properties": {
        "member": {"type": "string", "description": "the member's partner code"},
        "hub_id": {"type": "integer", "description": "the member portal's HubSpot hub id"},
        "status": {"enum": ["connected", "disconnected"]},
        "connected_at": {"type": "string", "format": "date-time"},
        "last_sync_at": {"type": ["string", "null"], "format": "date-time"},
        "calls_used": {"type": "integer", "minimum": 0,
                       "description": "HubSpot calls made in the portal so far"},
        "last_error": {"type": ["string", "null"]},
    },
}
_UNAUTHORIZED = _ok("missing or wrong bearer token", _ERROR)

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "partner-sync", "version": "0.1.0",
             "description": "Webhook receiver, admin API, health and metrics."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                   "schemas": {"RunDocument": RUN_DOCUMENT_SCHEMA}},
    "paths": {
        "/webhooks/hubspot": {"post": {
            "summary": "Receive a HubSpot webhook batch (signed, v3)",
            "requestBody": {"content": {_JSON: {"schema": {"type": "array"}}}},
            "responses": {"204": _ok("queued durably"),
                          "400": _ok("malformed body, or an event field of the wrong type "
                                     "(the whole delivery is refused)", _ERROR),
                          "401": _ok("bad signature"), "413": _ok("body too large"),
                          "503": _ok("inbox unavailable; retry")}}},
        "/admin/resync": {"post": {
            "summary": "Resync everything, one object type, given records or one member",
            "security": _BEARER,
            "requestBody": {"required": True, "content": {_JSON: {"schema": _RESYNC}}},
            "responses": {"200": _ok("the run it made: the run document, as `sync --json` "
                                     "prints it", _RUN),
                          "400": _ok("invalid body", _ERROR), "401": _UNAUTHORIZED,
                          "404": _ok("the member names no member", _ERROR),
                          "409": _ok("another sync is running", _ERROR),
                          "500": _ok("the resync failed; the run log has it (run_id when a "
                                     "run started)", _ERROR)}}},
        "/admin/runs": {"get": {
            "summary": "Recent runs, newest first", "security": _BEARER,
            "parameters": [{"name": "limit", "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _ok("runs from the run log (problems and write failures "
                                     "null: GET /admin/runs/{run_id} has them)",
                                     {"type": "object", "properties": {
                "runs": {"type": "array", "items": _RUN}}}), "401": _UNAUTHORIZED,
                "400": _ok("limit is not an integer 1..500", _ERROR)}}},
        "/admin/runs/{run_id}": {"get": {
            "summary": "One run: what was read, decided and written, and its problems",
            "security": _BEARER,
            "parameters": [{"name": "run_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _ok("the run from the run log: the run document", _RUN),
                          "401": _UNAUTHORIZED,
                          "404": _ok("no such run", _ERROR)}}},
        "/admin/portals": {"get": {
            "summary": "Every member portal, by member (served when member portals are "
                       "configured); never a token",
            "security": _BEARER,
            "responses": {"200": _ok("the member portals", {
                "type": "object", "required": ["portals"],
                "properties": {"portals": {"type": "array", "items": _PORTAL}}}),
                "401": _UNAUTHORIZED}}},
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": _ok("alive")}}},
        "/readyz": {"get": {"summary": "Store reachable, scheduler running, last sync age",
                            "responses": {"200": _ok("ready"), "503": _ok("not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics",
                             "responses": {"200": _ok("text exposition format")}}},
    },
}


DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
"""The docs page loads nothing at all: no script, no style sheet, no font."""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _schema_text(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    return f"<pre>{_e(orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode())}</pre>"


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    parts = [f'<section id="{_e(method)}-{_e(path)}"><h3><code>{_e(method.upper())} '
             f"{_e(path)}</code></h3><p>{_e(op.get('summary', ''))}</p>"]
    if op.get("security"):
        parts.append("<p>Needs <code>Authorization: Bearer &lt;admin token&gt;</code>.</p>")
    params = op.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td><code>{_e(p['name'])}</code></td><td>{_e(p['in'])}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td><code>{_e(orjson.dumps(p.get('schema', {})).decode())}</code></td></tr>"
            for p in params
        )
        parts.append("<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>"
                     f"<th>schema</th></tr>{rows}</table>")
    body = op.get("requestBody", {}).get("content", {}).get(_JSON, {}).get("schema")
    if body:
        parts.append(f"<h4>Request body (JSON)</h4>{_schema_text(body)}")
    rows = "".join(
        f"<tr><td>{_e(code)}</td><td>{_e(answer.get('description', ''))}</td></tr>"
        for code, answer in op.get("responses", {}).items()
    )
    parts.append(f"<h4>Responses</h4><table><tr><th>status</th><th>meaning</th></tr>{rows}"
                 "</table></section>")
    return "".join(parts)


def docs_html() -> str:
    """The API reference as one self-contained HTML page, generated from ``OPENAPI``."""
    ops = [(path, method, op) for path, methods in OPENAPI["paths"].items()
           for method, op in methods.items()]
    index = "".join(
        f'<tr><td>{_e(m.upper())}</td><td><a href="#{_e(m)}-{_e(p)}">{_e(p)}</a></td>'
        f"<td>{_e(op.get('summary', ''))}</td></tr>"
        for p, m, op in ops
    )
    info = OPENAPI["info"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(info['title'])} API</title></head><body>"
        f"<h1>{_e(info['title'])} API {_e(info['version'])}</h1><p>{_e(info['description'])}</p>"
        '<p>The machine-readable document is <a href="/openapi.json">/openapi.json</a>; the '
        'admin console is at <a href="/console/">/console/</a>.</p>'
        f"<h2>Operations</h2><table><tr><th>method</th><th>path</th><th>summary</th></tr>{index}"
        "</table><h2>Details</h2>" + "".join(_operation(p, m, op) for p, m, op in ops)
        + "</body></html>"
    )
