"""Request parsing and response helpers shared by the sandbox's route modules.

Responses carry HubSpot's ``Content-Type: application/json;charset=utf-8``; query list parameters
are accepted comma-separated and repeated (the SDK repeats them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError
from sandbox.search import SearchRunner
from sandbox.state import SandboxState

__all__ = [
    "JSON_TYPE",
    "MAX_BATCH",
    "Context",
    "batch_inputs",
    "context",
    "json_response",
    "query_bool",
    "query_int",
    "query_list",
    "read_json",
    "utc_now_iso",
]

JSON_TYPE = "application/json;charset=utf-8"
MAX_BATCH = 100


@dataclass(slots=True)
class Context:
    """What every handler needs; stored on ``app.state.ctx`` by ``create_app``."""

    state: SandboxState
    config: SandboxConfig
    search: SearchRunner
    source_id: str  # the app id changes made through the API are attributed to


def context(request: Request) -> Context:
    return cast(Context, request.app.state.ctx)


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_TYPE)


def utc_now_iso() -> str:
    """Wall-clock ISO time for ``startedAt``/``completedAt`` (not part of the data clock)."""
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def read_json(request: Request) -> Any:
    """The parsed JSON body; HubSpot's 400 for an empty or malformed one."""
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Invalid input JSON on line 1, column {getattr(exc, 'colno', 1)}: "
                       "Cannot parse the request body as JSON") from None


def query_list(request: Request, name: str) -> list[str] | None:
    """A list parameter given as ``a,b`` or as repeated keys; None when absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def query_bool(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").strip().lower() == "true"


def query_int(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.strip().isascii() and raw.strip().isdigit()):
        raise ApiError(400, "VALIDATION_ERROR", f"'{name}' must be an integer, got {raw!r}")
    return min(int(raw), maximum)


def body_text(holder: dict[str, Any], name: str) -> str | None:
    """An optional string field of a JSON body (``idProperty``...); 400 when it is not a string."""
    value = holder.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(400, "VALIDATION_ERROR",
                   f"Invalid input JSON: '{name}' must be a string, got {type(value).__name__}")


def batch_inputs(body: Any) -> list[dict[str, Any]]:
    """The ``inputs`` list of a batch body: each an object, at most 100 of them."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise ApiError(400, "VALIDATION_ERROR", "The request body needs an 'inputs' list")
    inputs: list[dict[str, Any]] = body["inputs"]
    if len(inputs) > MAX_BATCH:
        raise ApiError(400, "VALIDATION_ERROR",
                       f"Batch input exceeds the limit: {len(inputs)} inputs were given and at "
                       f"most {MAX_BATCH} are allowed",
                       context={"inputs": [str(len(inputs))]})
    if not all(isinstance(i, dict) for i in inputs):
        raise ApiError(400, "VALIDATION_ERROR", "Each batch input must be a JSON object")
    return inputs
