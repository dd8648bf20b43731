"""The admin API: manual resyncs and the run log, behind a bearer token.

* ``POST /admin/resync`` with exactly one of ``{"all": true}``, ``{"object_type": "deals"}``,
  ``{"records": [{"object_type": "deals", "id": "42"}]}`` or ``{"member": "ACME"}`` (a partner
  code or a member company id). The sync runs before the answer (a full resync can take
  minutes); the answer is the run document (sync/run_document.py), the one ``sync --json``
  prints. 409 when another sync is running.
* ``GET /admin/runs?limit=20`` (newest first, ``{"runs": [run document, ...]}`` without
  problems) and ``GET /admin/runs/{run_id}`` (the run document, with problems), both read back
  from the run log.

A body, query or path that is not what the route takes is a 400 (an unknown run id a 404),
never a 500. Error texts in answers (run errors, problem details, reports) pass the same
redaction as log lines.

Every admin route answers 401 (with ``WWW-Authenticate: Bearer``) unless the request carries
``Authorization: Bearer <PARTNER_SYNC_ADMIN__TOKEN>``; with no token configured every request is
refused. Tokens are compared in constant time (digests of equal length, ``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync.logs import redact, redact_document
from sync.ports import RunSummary, SyncRunner, is_busy
from sync.run_document import logged_run_document, run_document
from sync.store import RunInfo, Store
from webhooks.worker import SYNCED_TYPES

__all__ = ["AdminApi", "resync_call", "token_matches"]

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
MAX_RUN_ID = 2**63 - 1  # the run log's ids are 64-bit; a larger one names no run
_LIMIT_DIGITS = 3


def token_matches(header: str | None, token: str | None) -> bool:
    """True when ``header`` is ``Bearer <token>``. Time does not depend on where they differ."""
    if not token or not header:
        return False
    scheme, _, given = header.partition(" ")
    expected = hashlib.sha256(token.encode()).digest()
    presented = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    return hmac.compare_digest(expected, presented) and scheme.lower() == "bearer"


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def run_info_dict(
    run: RunInfo, secrets: tuple[str, ...] = (), *, with_problems: bool = True
) -> dict[str, Any]:
    """A run of the run log as the admin API answers it: the run document, texts redacted."""
    return dict(redact_document(logged_run_document(run, with_problems=with_problems), secrets))


def _full(engine: SyncRunner) -> RunSummary:
    return engine.full_sync(trigger="admin")


def _record_ref(object_type: Any, record_id: Any) -> bool:
    if not isinstance(object_type, str) or object_type not in SYNCED_TYPES:
        return False
    if isinstance(record_id, bool) or not isinstance(record_id, str | int):
        return False
    text = str(record_id)
    return 0 < len(text) <= 64


def _resync_call(body: Any) -> Callable[[SyncRunner], RunSummary] | str:
    """The engine call a resync body asks for, or the reason it is invalid."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    given = [k for k in ("all", "object_type", "records", "member") if body.get(k)]
    if len(given) != 1:
        return "give exactly one of: all, object_type, records, member"
    if given[0] == "all":
        return "all must be true" if body["all"] is not True else _full
    if given[0] == "object_type":
        object_type = body["object_type"]
        if not isinstance(object_type, str) or object_type not in SYNCED_TYPES:
            return f"object_type must be one of {sorted(SYNCED_TYPES)}"
        return lambda engine: engine.resync_type(object_type, trigger="admin")
    if given[0] == "member":
        member = body["member"]
        if not isinstance(member, str | int) or isinstance(member, bool) or \
                len(str(member)) > 128:
            return "member must be a partner code or a member company id"
        return lambda engine: engine.resync_member(str(member), trigger="admin")
    records = body["records"]
    pairs = [(r.get("object_type"), r.get("id")) for r in records if isinstance(r, dict)] \
        if isinstance(records, list) else []
    if not pairs or len(pairs) != len(records) or not all(_record_ref(t, i) for t, i in pairs):
        return "records must be a list of {object_type, id}"
    clean = [(str(t), str(i)) for t, i in pairs]
    return lambda engine: engine.targeted_sync(clean, trigger="admin")


resync_call = _resync_call  # the console starts resyncs through the same engine calls


@dataclass(slots=True)
class AdminApi:
    engine: SyncRunner
    store: Store
    token: str | None
    observe_run: Callable[[RunSummary], None] | None = None
    secrets: tuple[str, ...] = ()

    @property
    def _secrets(self) -> tuple[str, ...]:
        return (*self.secrets, self.token) if self.token else self.secrets

    def routes(self) -> list[Route]:
        return [
            Route("/admin/resync", self._guard(self.resync), methods=["POST"]),
            Route("/admin/runs", self._guard(self.list_runs), methods=["GET"]),
            Route("/admin/runs/{run_id:int}", self._guard(self.get_run), methods=["GET"]),
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            if not token_matches(request.headers.get("authorization"), self.token):
                return _error(401, "unauthorized", **{"WWW-Authenticate": "Bearer"})
            return await handler(request)

        return guarded

    async def resync(self, request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "body is not JSON")
        call = _resync_call(body)
        if isinstance(call, str):
            return _error(400, call)
        try:
            report = await run_in_threadpool(call, self.engine)
        except Exception as exc:
            if is_busy(exc):
                return _error(409, "another sync is running", **{"Retry-After": "30"})
            if isinstance(exc, LookupError):  # e.g. a member code that names nobody
                return _error(404, redact(str(exc), self._secrets) or "not found")
            log.exception("admin resync failed")
            # A run that started and failed is in the run log: say which, so it can be read.
            failed = getattr(getattr(exc, "report", None), "run_id", None)
            extra = {"run_id": failed} if isinstance(failed, int) else {}
            return JSONResponse({"error": f"resync failed: {type(exc).__name__}", **extra},
                                status_code=500)
        if self.observe_run is not None:
            self.observe_run(report)
        answer = run_document(report.to_dict())
        return Response(orjson.dumps(redact_document(answer, self._secrets), default=str),
                        media_type="application/json")

    async def list_runs(self, request: Request) -> Response:
        raw = request.query_params.get("limit", "20")
        # "²".isdigit() is True but int() refuses it: ASCII digits only.
        digits = raw.isascii() and raw.isdigit() and len(raw) <= _LIMIT_DIGITS
        if not digits or not 1 <= int(raw) <= 500:
            return _error(400, "limit must be 1..500")
        runs = await run_in_threadpool(self.store.list_runs, int(raw))
        return JSONResponse({"runs": [run_info_dict(r, self._secrets, with_problems=False)
                                      for r in runs]})

    async def get_run(self, request: Request) -> Response:
        run_id = int(request.path_params["run_id"])
        if run_id > MAX_RUN_ID:
            return _error(404, "no such run")
        run = await run_in_threadpool(self.store.get_run, run_id)
        if run is None:
            return _error(404, "no such run")
        return JSONResponse(run_info_dict(run, self._secrets))
