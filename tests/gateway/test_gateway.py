"""Gateway operations against a fake HubSpot: paging, the search walk, batches, set-up, access."""

from __future__ import annotations

import bisect
import re
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from config.contract import contract_for_prefix
from sync.gateway import (
    AuthError,
    Gateway,
    GatewayCollector,
    PagingLoopError,
    ValidationFailed,
    property_definition,
)
from sync.gateway.gateway import SEARCH
from tests.gateway.fakes import TOKEN, FakeClock, FakeHubSpot, body, error, make_gateway, record

STAMP = "2024-03-31T23:59:59.000Z"


def test_list_objects_follows_cursors_to_the_last_page(gateway: Gateway, hub: FakeHubSpot) -> None:
    pages = {None: (["1", "2"], "3"), "3": (["3", "4"], "5"), "5": (["5"], None)}

    @hub.route("GET", "/crm/v3/objects/companies")
    def _list(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        ids, after = pages[request.url.params.get("after")]
        data: dict[str, Any] = {"results": [
            {**record(i, name=f"c{i}"), "associations": {"contacts": {"results": [
                {"id": "90", "type": "company_to_contact"},
                {"id": "90", "type": "company_to_contact_unlabeled"}]}}} for i in ids]}
        if after:
            data["paging"] = {"next": {"after": after, "link": "?after=" + after}}
        return httpx.Response(200, json=data)

    pages_seen = list(gateway.list_objects("companies", ["name"], associations=["contacts"]))

    assert [[r.id for r in p.records] for p in pages_seen] == [["1", "2"], ["3", "4"], ["5"]]
    first = pages_seen[0].records[0]
    assert first.properties["name"] == "c1"
    assert first.associated_ids("contacts") == ["90"]
    assert first.updated_at == "2024-01-02T00:00:00.000Z"
    params = hub.requests[0].url.params
    assert params.get_list("properties") == ["name"]
    assert params["limit"] == "100"


def test_list_objects_raises_on_a_repeated_cursor(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("GET", "/crm/v3/objects/deals")
    def _list(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"results": [record(1)],
                                         "paging": {"next": {"after": "abc"}}})

    with pytest.raises(PagingLoopError, match="abc"):
        list(gateway.list_objects("deals", []))
    assert len(hub.requests) == 2


class SearchServer:
    """HubSpot search over ``n`` deals sharing one timestamp: GTE on hs_object_id, id sort,
    offset paging, 400 past the 10,000th result."""

    def __init__(self, n: int) -> None:
        self.ids = list(range(1001, 1001 + n))
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        query = body(request)
        self.bodies.append(query)
        after, limit = int(query.get("after", 0)), int(query["limit"])
        if after >= 10_000:
            return error(400, "VALIDATION_ERROR", "paging beyond 10,000 results")
        assert query["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
        floor = 0
        for group in query["filterGroups"]:
            for f in group["filters"]:
                if f["propertyName"] == "hs_object_id":
                    floor = int(f["value"])
        matches = self.ids[bisect.bisect_left(self.ids, floor):]
        page = matches[after : after + limit]
        data: dict[str, Any] = {
            "total": len(matches),
            "results": [record(i, hs_lastmodifieddate=STAMP) for i in page],
        }
        if after + limit < len(matches):
            data["paging"] = {"next": {"after": str(after + limit)}}
        return httpx.Response(200, json=data)


def test_search_all_walks_past_the_10000_cap(gateway: Gateway, hub: FakeHubSpot) -> None:
    server = SearchServer(25_000)
    hub.route("POST", "/crm/v3/objects/deals/search")(server)
    window = [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "1711929599000"},
        {"propertyName": "hs_lastmodifieddate", "operator": "LTE", "value": "1711929599000"}]}]

    ids = [int(r.id) for page in gateway.search_all("deals", window, ["dealname"])
           for r in page.records]

    assert ids == server.ids  # every match once, in id order, though all share one timestamp
    assert len(server.bodies) == 125  # 25,000 / 200: no page fetched twice
    assert all(int(b.get("after", 0)) < 10_000 for b in server.bodies)
    restarts = [b for b in server.bodies if "after" not in b]
    assert [f["value"] for b in restarts[1:] for f in b["filterGroups"][0]["filters"]
            if f["propertyName"] == "hs_object_id"] == ["11001", "21001"]
    # The caller's window is kept in every group.
    assert all(len(b["filterGroups"][0]["filters"]) >= 2 for b in server.bodies)
    assert gateway.metrics.endpoint(SEARCH).calls == 125


def test_search_page_passes_sorts_and_cursor(gateway: Gateway, hub: FakeHubSpot) -> None:
    server = SearchServer(450)
    hub.route("POST", "/crm/v3/objects/deals/search")(server)
    sorts = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
    first = gateway.search("deals", [{"filters": []}], ["dealname"], sorts)
    second = gateway.search("deals", [{"filters": []}], ["dealname"], sorts, after=first.next_after)
    assert (first.total, first.next_after, len(second.records)) == (450, "200", 200)
    assert second.records[0].id == "1201"


def batch_answer(request: httpx.Request, bad: set[str], key: str = "ids") -> httpx.Response:
    inputs = body(request)["inputs"]
    good = [record(i["id"], **i.get("properties", {})) for i in inputs if i["id"] not in bad]
    missing = [i["id"] for i in inputs if i["id"] in bad]
    data: dict[str, Any] = {"status": "COMPLETE", "results": good,
                            "startedAt": STAMP, "completedAt": STAMP}
    if not missing:
        return httpx.Response(200, json=data)
    data["numErrors"] = 1
    data["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "not found",
                       "context": {key: missing}}]
    return httpx.Response(207, json=data)


def test_batch_update_is_one_call_and_names_refused_inputs_by_trace_id(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    @hub.route("POST", "/crm/v3/objects/deals/batch/update")
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        inputs = body(request)["inputs"]
        good = [record(i["id"]) for i in inputs if i["id"] != "7"]
        return httpx.Response(207, json={
            "status": "COMPLETE", "results": good, "startedAt": STAMP, "completedAt": STAMP,
            "numErrors": 1, "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                                        "message": "bad", "context": {
                                            "objectWriteTraceId": ["trace-7"]}}]})

    inputs = [{"id": str(i), "properties": {"amount": "1"}, "objectWriteTraceId": f"trace-{i}"}
              for i in range(1, 101)]
    result = gateway.batch_update("deals", inputs)

    (sent,) = hub.requests
    assert body(sent)["inputs"][6] == {"id": "7", "properties": {"amount": "1"},
                                       "objectWriteTraceId": "trace-7"}
    assert result.errors[0].trace_ids == ("trace-7",)
    assert result.failed_ids == []  # named by trace id only: the caller maps it
    assert len(result.succeeded) == 99


def test_batch_update_raises_a_whole_call_refusal_and_refuses_over_100(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    @hub.route("POST", "/crm/v3/objects/deals/batch/update")
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return error(400, "VALIDATION_ERROR", "Property values were not valid")

    with pytest.raises(ValidationFailed):
        gateway.batch_update("deals", [{"id": "1", "properties": {"amount": "x"}}])
    with pytest.raises(ValueError, match="at most 100"):
        gateway.batch_update("deals", [{"id": str(i), "properties": {}} for i in range(101)])
    assert len(hub.requests) == 1


def test_batch_read_chunks_dedupes_and_reports_missing(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("POST", "/crm/v3/objects/companies/batch/read")
    def _read(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return batch_answer(request, bad={"99"})

    ids = [str(i) for i in range(1, 131)] + ["5"]
    result = gateway.batch_read("companies", ids, ["name"], with_history=["partner_tier"])

    assert [len(body(r)["inputs"]) for r in hub.requests] == [50, 50, 30]
    assert body(hub.requests[0])["propertiesWithHistory"] == ["partner_tier"]
    assert result.failed_ids == ["99"]
    assert len(result.succeeded) == 129


def test_read_associations_follows_per_record_paging(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("POST", "/crm/v4/associations/deals/companies/batch/read")
    def _read(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        results = []
        for item in body(request)["inputs"]:
            if item["id"] == "2":
                continue  # no associations
            to_id = "500" if "after" not in item else "501"
            entry: dict[str, Any] = {"from": {"id": item["id"]}, "to": [{"toObjectId": to_id,
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                                     {"category": "HUBSPOT_DEFINED", "typeId": 5,
                                      "label": "Primary"}]}]}
            if item["id"] == "1" and "after" not in item:
                entry["paging"] = {"next": {"after": "cur-1"}}
            results.append(entry)
        return httpx.Response(200, json={"status": "COMPLETE", "results": results,
                                         "startedAt": STAMP, "completedAt": STAMP})

    ids = [str(i) for i in range(1, 151)]
    links = gateway.read_associations("deals", "companies", ids)

    assert [t.to_id for t in links["1"]] == ["500", "501"]
    assert links["2"] == []
    assert links["3"][0].has_label("primary")
    assert links["3"][0].type_ids == (341, 5)
    # The follow-up for record 1 rides along with the last 50 ids.
    assert [len(body(r)["inputs"]) for r in hub.requests] == [100, 51]


def test_create_property_and_group_treat_409_as_existing(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    existing = {"partner_tier"}

    @hub.route("POST", "/crm/v3/properties/companies")
    def _create(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        name = body(request)["name"]
        if name in existing:
            return error(409, "OBJECT_ALREADY_EXISTS", f"{name} already exists")
        existing.add(name)
        return httpx.Response(201, json=body(request))

    @hub.route("POST", "/crm/v3/properties/companies/groups")
    def _group(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return error(409, "OBJECT_ALREADY_EXISTS", "group exists")

    specs = {s.name: s for s in contract_for_prefix("partner_").property_specs()}
    tier = property_definition(specs["partner_tier"], "partner_program")
    certified = property_definition(specs["partner_certified"], "partner_program")

    assert gateway.create_property_group("companies", "partner_program", "Partner program") is False
    assert gateway.create_property("companies", tier) is False
    assert gateway.create_property("companies", certified) is True
    sent = body(hub.requests[-1])
    assert (sent["type"], sent["fieldType"]) == ("bool", "booleancheckbox")
    assert [o["value"] for o in sent["options"]] == ["true", "false"]
    assert [o["value"] for o in tier["options"]][:2] == ["untiered", "gold"]


def test_owners_and_properties_are_plain_dicts(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("GET", "/crm/v3/owners/?")
    def _owners(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        if request.url.params.get("after") == "2":
            return httpx.Response(200, json={"results": [{"id": "2", "email": "b@x.test"}]})
        return httpx.Response(200, json={"results": [{"id": "1", "email": "a@x.test"}],
                                         "paging": {"next": {"after": "2"}}})

    @hub.route("GET", "/crm/v3/properties/deals")
    def _props(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"results": [{"name": "dealstage", "type": "enumeration"}]})

    assert [o["email"] for o in gateway.get_owners()] == ["a@x.test", "b@x.test"]
    assert gateway.get_properties("deals")[0]["name"] == "dealstage"


def test_create_association_puts_the_type(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("PUT", "/crm/v4/objects/deals/10/associations/companies/20")
    def _put(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(201, json={"fromObjectId": 10, "toObjectId": 20, "labels": []})

    gateway.create_association("deals", "10", "companies", "20", 5)
    assert body(hub.requests[0]) == [{"associationCategory": "HUBSPOT_DEFINED",
                                      "associationTypeId": 5}]


def test_check_access_lists_missing_scopes(gateway: Gateway, hub: FakeHubSpot) -> None:
    scope_error = error(403, "MISSING_SCOPES", "missing", errors=[
        {"message": "required", "context": {"requiredGranularScopes": ["crm.objects.deals.read"]}}])

    @hub.route("GET", "/crm/v3/objects/(?P<type>[^/]+)")
    def _list(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        return scope_error if match["type"] == "deals" else httpx.Response(200, json={})

    @hub.route("POST", "/crm/v3/objects/(?P<type>[^/]+)/batch/update")
    def _write(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match["type"] == "contacts":
            return error(403, "MISSING_SCOPES", "missing")  # no scope list: named by the probe
        return error(400, "VALIDATION_ERROR", "inputs must not be empty")

    @hub.route("GET", "/crm/v3/(properties/[^/]+|owners/?)")
    def _other(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"results": []})

    report = gateway.check_access()

    assert report.token_ok
    assert report.missing_scopes == ["crm.objects.deals.read", "crm.objects.contacts.write"]
    assert report.problems == {}
    assert not report.ok


def test_check_access_stops_on_a_rejected_token(hub: FakeHubSpot, clock: FakeClock) -> None:
    hub.route("GET", "/crm/v3/objects/companies")(
        lambda request, match: error(401, "INVALID_AUTHENTICATION", "expired"))
    gateway = make_gateway(hub, clock)
    report = gateway.check_access()
    assert not report.token_ok
    assert len(hub.requests) == 1
    assert gateway.token_fingerprint in report.problems["read companies"]
    assert TOKEN not in repr(report)
    with pytest.raises(AuthError) as exc:
        next(gateway.list_objects("companies", []))
    assert exc.value.token_fingerprint == gateway.token_fingerprint


def test_prometheus_collector_exposes_the_counters(gateway: Gateway, hub: FakeHubSpot) -> None:
    hub.route("GET", "/crm/v3/objects/deals")(
        lambda request, match: httpx.Response(200, json={"results": []}))
    list(gateway.list_objects("deals", []))
    registry = CollectorRegistry()
    registry.register(GatewayCollector(gateway.metrics))
    labels = {"endpoint": "GET /crm/v3/objects/{type}", "status": "200"}
    assert registry.get_sample_value("partner_sync_hubspot_requests_total", labels) == 1.0
    assert registry.get_sample_value(
        "partner_sync_hubspot_calls_total", {"endpoint": "GET /crm/v3/objects/{type}"}) == 1.0
