"""The OpenAPI 3.1 document of the serve process (``/openapi.json``) and its docs page (``/docs``).

Hand-written: six routes do not justify a framework, and a test checks every route of the app
appears here. The docs page loads Swagger UI from a CDN and also lists the operations in plain
HTML, so it is readable offline.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["OPENAPI", "docs_html"]

_JSON = "application/json"
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"description": description}
    if schema is not None:
        body["content"] = {_JSON: {"schema": schema}}
    return body


_RUN = {
    "type": "object",
    "properties": {
        "run_id": {"type": "integer"}, "kind": {"type": "string"},
        "trigger": {"type": "string"}, "as_of": {"type": ["string", "null"], "format": "date"},
        "started_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": ["string", "null"], "format": "date-time"},
        "status": {"type": "string"},
        "counts": {"type": "object", "description": "per object type: read, decided, written"},
        "error": {"type": ["string", "null"]}, "problem_count": {"type": "integer"},
        "problems": {"type": "array", "items": {"type": "object"}},
    },
}
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
_UNAUTHORIZED = _ok("missing or wrong bearer token", _ERROR)

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "partner-sync", "version": "0.1.0",
             "description": "Webhook receiver, admin API, health and metrics."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
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
            "responses": {"200": _ok("the run's id and report", {"type": "object"}),
                          "400": _ok("invalid body", _ERROR), "401": _UNAUTHORIZED,
                          "404": _ok("the member names no member", _ERROR),
                          "409": _ok("another sync is running", _ERROR),
                          "500": _ok("the resync failed; the run log has it (run_id when a "
                                     "run started)", _ERROR)}}},
        "/admin/runs": {"get": {
            "summary": "Recent runs, newest first", "security": _BEARER,
            "parameters": [{"name": "limit", "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _ok("runs", {"type": "object", "properties": {
                "runs": {"type": "array", "items": _RUN}}}), "401": _UNAUTHORIZED,
                "400": _ok("limit is not an integer 1..500", _ERROR)}}},
        "/admin/runs/{run_id}": {"get": {
            "summary": "One run: what was read, decided and written, and its problems",
            "security": _BEARER,
            "parameters": [{"name": "run_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0}}],
            "responses": {"200": _ok("the run", _RUN), "401": _UNAUTHORIZED,
                          "404": _ok("no such run", _ERROR)}}},
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": _ok("alive")}}},
        "/readyz": {"get": {"summary": "Store reachable, scheduler running, last sync age",
                            "responses": {"200": _ok("ready"), "503": _ok("not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics",
                             "responses": {"200": _ok("text exposition format")}}},
    },
}


def docs_html() -> str:
    rows = "".join(
        f"<tr><td>{method.upper()}</td><td>{html.escape(path)}</td>"
        f"<td>{html.escape(op.get('summary', ''))}</td></tr>"
        for path, ops in OPENAPI["paths"].items() for method, op in ops.items()
    )
    return (
        "<!doctype html><html><head><title>partner-sync API</title>"
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">'
        "</head><body><div id=\"swagger-ui\"></div>"
        f"<noscript><table>{rows}</table></noscript>"
        '<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>'
        "<script>SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui'});</script>"
        f"<h2>Operations</h2><table>{rows}</table></body></html>"
    )
