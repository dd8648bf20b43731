"""The few member-portal calls the gateway does not have: batch create, search by domain.

Batch create is not idempotent (a retried create could make a second company), so it is sent
once; a failure leaves the job to be retried, which searches again before creating.

HubSpot's batch rule: an invalid input is answered as a per-input error (207) only when it
carries an ``objectWriteTraceId``; otherwise it fails the whole call (400 ``VALIDATION_ERROR``,
409 ``CONFLICT``) and nothing of the call is created. Every input gets a trace id, so a bad one
is named (by the domain or name it was sent with); a whole-call refusal is still handled the way
``sync.engine.push`` handles one for updates: nothing was created, so the inputs are split in
halves until the bad ones stand alone, and the rest is created.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hubspot.crm.properties import BatchApi as PropertiesBatchApi

from policies.model import Problem
from sync.gateway import ActionKind, AuthError, CrmRecord, Gateway, HubSpotError
from sync.gateway.paging import chunked

__all__ = ["Created", "TracedInput", "bisect_create", "create_companies", "create_properties",
           "search_by_domain", "search_having"]

BATCH_CREATE = "POST /crm/v3/objects/{type}/batch/create"
BATCH_CREATE_PROPERTIES = "POST /crm/v3/properties/{type}/batch/create"
ALREADY_EXISTS = "OBJECT_ALREADY_EXISTS"
IN_VALUES_MAX = 100


def create_companies(gateway: Gateway, inputs: Sequence[Mapping[str, str]]
                     ) -> tuple[list[CrmRecord], list[Problem]]:
    """Create companies (100 per call) with the given properties: the created records, and a
    ``create_failed`` problem per input HubSpot refused (see module)."""
    out = Created()
    traced = [TracedInput(dict(p), secrets.token_hex(6)) for p in inputs]
    for chunk in chunked(traced, 100):
        out.extend(bisect_create(chunk, partial(_send, gateway), None))
    return out.records, out.problems


@dataclass(frozen=True, slots=True)
class TracedInput:
    properties: dict[str, str]
    trace_id: str

    def json(self) -> dict[str, object]:
        return {"properties": self.properties, "objectWriteTraceId": self.trace_id}

    @property
    def label(self) -> str:
        return self.properties.get("domain") or self.properties.get("name") or self.trace_id


@dataclass(slots=True)
class Created:
    """Records created, inputs refused, and whether a whole-call refusal named one of them."""

    records: list[CrmRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    refused_whole: bool = False

    def extend(self, other: Created) -> None:
        self.records += other.records
        self.problems += other.problems
        self.refused_whole = self.refused_whole or other.refused_whole


Send = Callable[[list[TracedInput]], "Created | HubSpotError"]


def bisect_create(chunk: list[TracedInput], send: Send, known_bad: HubSpotError | None
                  ) -> Created:
    """Create ``chunk``; ``known_bad`` is the refusal it is known to earn (not sent again).
    A half whose sibling went through must hold the culprit, so it is split unsent."""
    refusal = known_bad
    if refusal is None:
        sent = send(chunk)
        if isinstance(sent, Created):
            return sent
        refusal = sent
    if len(chunk) == 1:
        return Created(problems=[_refused(chunk[0], str(refusal))], refused_whole=True)
    half = len(chunk) // 2
    left = bisect_create(chunk[:half], send, None)
    left.extend(bisect_create(chunk[half:], send, None if left.refused_whole else refusal))
    return left


def _send(gateway: Gateway, chunk: list[TracedInput]) -> Created | HubSpotError:
    """One batch create: its outcome, or the error that refused the whole call (any other
    failure propagates: the job is retried later)."""
    body = {"inputs": [i.json() for i in chunk]}
    send = partial(gateway.objects_batch.create, "companies", body, _preload_content=False)
    try:
        data = gateway.call(BATCH_CREATE, send, idempotent=False)
    except AuthError:
        raise
    except HubSpotError as exc:
        if exc.action.kind is ActionKind.SKIP_RECORD:
            return exc
        raise
    by_trace = {i.trace_id: i for i in chunk}
    out = Created(records=[CrmRecord.from_json(r) for r in data.get("results", ())])
    for error in data.get("errors", ()):
        context = error.get("context") or {}
        traces = context.get("objectWriteTraceId", ()) if isinstance(context, dict) else ()
        named = [by_trace[t] for t in traces if t in by_trace]
        message = str(error.get("message") or "")
        out.problems += ([_refused(i, message) for i in named] if named else
                         [Problem("company", str(context), "create_failed", message)])
    return out


def _refused(item: TracedInput, message: str) -> Problem:
    return Problem("company", item.label, "create_failed", message)


def create_properties(gateway: Gateway, object_type: str,
                      definitions: Sequence[Mapping[str, Any]]) -> tuple[int, list[Problem]]:
    """Create properties in one batch call: how many were new, and a problem per refusal other
    than "already exists" (a second run creates nothing and reports nothing)."""
    api = PropertiesBatchApi(api_client=gateway.properties_core.api_client)
    body = {"inputs": [dict(d) for d in definitions]}
    send = partial(api.create, object_type, body, _preload_content=False)
    data = gateway.call(BATCH_CREATE_PROPERTIES, send)
    problems = [Problem("property", object_type, "property_not_created",
                        str(e.get("message") or ""))
                for e in data.get("errors", ()) if e.get("category") != ALREADY_EXISTS]
    return len(data.get("results", ())), problems


def search_by_domain(gateway: Gateway, domains: Sequence[str],
                     properties: Sequence[str]) -> Iterator[CrmRecord]:
    """Companies whose ``domain`` is one of ``domains``, or one of them with ``www.`` in front
    (``IN``, 100 values a search); callers compare registrable domains."""
    values = sorted({v for d in domains for v in (d, f"www.{d}")})
    for chunk in chunked(values, IN_VALUES_MAX):
        groups = [{"filters": [{"propertyName": "domain", "operator": "IN", "values": chunk}]}]
        for page in gateway.search_all("companies", groups, ["domain", *properties]):
            yield from page.records


def search_having(gateway: Gateway, any_of: Sequence[str],
                  properties: Sequence[str]) -> Iterator[CrmRecord]:
    """Companies on which at least one of ``any_of`` has a value (one filter group each)."""
    groups: list[dict[str, Any]] = [
        {"filters": [{"propertyName": name, "operator": "HAS_PROPERTY"}]} for name in any_of]
    for page in gateway.search_all("companies", groups, properties):
        yield from page.records
