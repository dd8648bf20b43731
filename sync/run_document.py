"""The run document: one JSON shape for a sync run, wherever it is shown.

``sync --json``, local ``resync --json``, remote ``resync --json`` and the admin API
(``POST /admin/resync``, ``GET /admin/runs/{id}``, each item of ``GET /admin/runs``) all answer
this document; ``RUN_DOCUMENT_SCHEMA`` declares it (``/openapi.json`` serves it).

Two builders, pure functions over plain data:

- ``run_document(report)``: a run just made, from ``RunReport.to_dict()``; every key is filled.
- ``logged_run_document(run)``: a run read back from the run log (``Store.get_run`` /
  ``list_runs``). The log keeps counts, not lists, so some keys are ``null``: ``patches`` (the
  log keeps how many were ``planned``), ``api_calls`` per endpoint (it keeps the total,
  ``api_call_count``) and ``dry_run``; in a list of runs also ``problems`` and
  ``write_failures`` (``problem_count`` is there). Write failures are read back from the
  ``write_failed`` problems, without HubSpot's error category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync.store import RunInfo, RunProblem

__all__ = [
    "RUN_DOCUMENT_KEYS",
    "RUN_DOCUMENT_SCHEMA",
    "logged_run_document",
    "run_document",
]

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_NULLABLE_COUNTS = {"type": ["object", "null"], "additionalProperties": {"type": "integer"}}
_PROBLEM = {
    "type": "object",
    "properties": {"record_kind": {"type": "string"}, "record_id": {"type": "string"},
                   "code": {"type": "string"}, "detail": {"type": ["string", "null"]}},
}
_PATCH = {
    "type": "object",
    "properties": {"object_type": {"type": "string"}, "object_id": {"type": "string"},
                   "properties": {"type": "object"},
                   "previous": {"type": "object", "description": "the values replaced"}},
}
_FAILURE = {
    "type": "object",
    "properties": {"object_type": {"type": "string"}, "object_id": {"type": "string"},
                   "message": {"type": "string"}, "category": {"type": ["string", "null"]}},
}

_PROPERTIES: dict[str, dict[str, Any]] = {
    "run_id": {"type": "integer"},
    "kind": {"type": "string", "description": "full, incremental, reevaluate, targeted, ..."},
    "trigger": {"type": "string", "description": "cli, schedule, webhook, admin"},
    "as_of": {"type": ["string", "null"], "format": "date"},
    "started_at": {"type": "string", "format": "date-time"},
    "finished_at": {"type": ["string", "null"], "format": "date-time",
                    "description": "null while the run is running"},
    "status": {"type": "string", "description": "running, ok, partial, failed, abandoned"},
    "dry_run": {"type": ["boolean", "null"], "description": "null: not kept in the run log"},
    "error": {"type": ["string", "null"]},
    "records_read": {**_COUNTS, "description": "per object type (each synced type, 0 too)"},
    "decided": {**_COUNTS, "description": "per kind of decision"},
    "written": {**_COUNTS, "description": "per object type (each synced type, 0 too)"},
    "planned": {"type": "integer", "description": "patches planned"},
    "patches": {"type": ["array", "null"], "items": _PATCH,
                "description": "every planned patch; null: not kept in the run log"},
    "write_failures": {"type": ["array", "null"], "items": _FAILURE,
                       "description": "null in a list of runs"},
    "problem_count": {"type": "integer"},
    "problems": {"type": ["array", "null"], "items": _PROBLEM,
                 "description": "data problems; null in a list of runs"},
    "api_call_count": {"type": "integer", "description": "HubSpot calls made"},
    "api_calls": {**_NULLABLE_COUNTS,
                  "description": "calls per endpoint; null: not kept in the run log"},
    "rate_limited": {"type": "integer", "description": "429 answers seen"},
}

RUN_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One sync run; the same document from the CLI's --json and the admin API.",
    "required": list(_PROPERTIES),
    "properties": _PROPERTIES,
}
RUN_DOCUMENT_KEYS: tuple[str, ...] = tuple(_PROPERTIES)

# The run log names records by kind (problems); write failures name HubSpot object types.
_OBJECT_TYPE = {"company": "companies", "contact": "contacts", "deal": "deals",
                "subscription": "subscriptions"}
_WRITE_FAILED = "write_failed"
_OBJECT_TYPES = ("companies", "contacts", "deals", "subscriptions")


def _ordered(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {key: doc[key] for key in RUN_DOCUMENT_KEYS}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _per_type(counts: Mapping[str, int] | None) -> dict[str, int]:
    """Counts per object type, every synced type present (0 when none)."""
    return {**dict.fromkeys(_OBJECT_TYPES, 0), **(counts or {})}


def run_document(report: Mapping[str, Any]) -> dict[str, Any]:
    """The document of a run just made, from ``RunReport.to_dict()`` (see module)."""
    api_calls = dict(report.get("api_calls") or {})
    patches = list(report.get("patches") or [])
    problems = list(report.get("problems") or [])
    return _ordered({
        **{key: report.get(key) for key in RUN_DOCUMENT_KEYS},
        "records_read": _per_type(report.get("records_read")),
        "decided": dict(report.get("decided") or {}),
        "written": _per_type(report.get("written")),
        "planned": len(patches),
        "patches": patches,
        "write_failures": list(report.get("write_failures") or []),
        "problem_count": len(problems),
        "problems": problems,
        "api_call_count": sum(_int(n) for n in api_calls.values()),
        "api_calls": api_calls,
        "rate_limited": _int(report.get("rate_limited")),
    })


def _stage(counts: Mapping[str, Mapping[str, int]], stage: str) -> dict[str, int]:
    return {t: _int((counts.get(t) or {}).get(stage)) for t in _OBJECT_TYPES}


def _problem(problem: RunProblem) -> dict[str, Any]:
    return {"record_kind": problem.record_kind, "record_id": problem.record_id,
            "code": problem.code, "detail": problem.detail}


def _write_failures(problems: Sequence[RunProblem]) -> list[dict[str, Any]]:
    return [
        {"object_type": _OBJECT_TYPE.get(p.record_kind, p.record_kind),
         "object_id": p.record_id, "message": p.detail or "", "category": None}
        for p in problems if p.code == _WRITE_FAILED
    ]


def logged_run_document(run: RunInfo, *, with_problems: bool = True) -> dict[str, Any]:
    """The document of a run from the run log (see module). ``with_problems=False`` for a run
    of ``list_runs``, which carries no problems: ``problems`` and ``write_failures`` are null."""
    counts: Mapping[str, Mapping[str, int]] = run.counts or {}
    api = counts.get("api") or {}
    return _ordered({
        "run_id": run.run_id, "kind": run.kind, "trigger": run.trigger,
        "as_of": run.as_of.isoformat() if run.as_of else None,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status, "dry_run": None, "error": run.error,
        "records_read": _stage(counts, "read"),
        "decided": {k: _int(v) for k, v in (counts.get("decided") or {}).items()},
        "written": _stage(counts, "written"),
        "planned": _int((counts.get("patches") or {}).get("planned")),
        "patches": None,
        "write_failures": _write_failures(run.problems) if with_problems else None,
        "problem_count": run.problem_count,
        "problems": [_problem(p) for p in run.problems] if with_problems else None,
        "api_call_count": _int(api.get("calls")),
        "api_calls": None,
        "rate_limited": _int(api.get("rate_limited")),
    })
