"""The few member-portal calls the gateway does not have: batch create, search by domain.

Batch create is not idempotent (a retried create could make a second company), so it is sent
once; a failure leaves the job to be retried, which searches again before creating.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from hubspot.crm.properties import BatchApi as PropertiesBatchApi

from policies.model import Problem
from sync.gateway import CrmRecord, Gateway
from sync.gateway.paging import chunked

__all__ = ["create_companies", "create_properties", "search_by_domain", "search_having"]

BATCH_CREATE = "POST /crm/v3/objects/{type}/batch/create"
BATCH_CREATE_PROPERTIES = "POST /crm/v3/properties/{type}/batch/create"
ALREADY_EXISTS = "OBJECT_ALREADY_EXISTS"
IN_VALUES_MAX = 100


def create_companies(gateway: Gateway, inputs: Sequence[Mapping[str, str]]
                     ) -> tuple[list[CrmRecord], list[Problem]]:
    """Create companies (100 per call) with the given properties: the created records, and a
    ``create_failed`` problem per error of a partial (207) answer."""
    created: list[CrmRecord] = []
    problems: list[Problem] = []
    for chunk in chunked(list(inputs), 100):
        body = {"inputs": [{"properties": dict(p)} for p in chunk]}
        send = partial(gateway.objects_batch.create, "companies", body, _preload_content=False)
        data = gateway.call(BATCH_CREATE, send, idempotent=False)
        created += [CrmRecord.from_json(r) for r in data.get("results", ())]
        problems += [Problem("company", str(e.get("context") or ""), "create_failed",
                             str(e.get("message") or "")) for e in data.get("errors", ())]
    return created, problems


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
