"""Bad input never gets a 500: raw HTTP checks of HubSpot's status codes and error bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.dataset import Dataset, SeedRecord
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from tests.sandbox.sandbox_fixtures import BASE_MS, TOKEN, assert_error_shape, companies, config


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    state = SandboxState()
    state.bulk_load(companies(3))
    with serve_in_thread(config(), state) as running:
        yield running


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=sandbox.url, headers=headers, timeout=10) as client:
        yield client


def _check(response: httpx.Response, status: int, category: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body: dict[str, Any] = response.json()
    assert_error_shape(body, status, category)
    assert response.headers["x-hubspot-correlation-id"] == body["correlationId"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/crm/v3/objects/contacts", b"{not json"),
        ("POST", "/crm/v3/objects/contacts", b""),
        ("PATCH", "/crm/v3/objects/companies/1", b"[1,"),
        ("POST", "/crm/v3/objects/contacts/batch/create", b"\xff\xfe"),
        ("POST", "/crm/v3/objects/contacts/search", b"{"),
        ("POST", "/crm/v4/associations/contacts/companies/batch/read", b"nope"),
        ("POST", "/crm/v3/properties/contacts", b"{]"),
    ],
)
def test_malformed_json_is_400(http: httpx.Client, method: str, path: str,
                               content: bytes) -> None:
    _check(http.request(method, path, content=content), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({"no_such_prop": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"numberofemployees": "many"}, "INVALID_DECIMAL"),
        ({"lifecyclestage": "royalty"}, "INVALID_OPTION"),
        ({"partner_tier": "Gold"}, "INVALID_OPTION"),  # enumerations are case-sensitive
        ({"createdate": "yesterday"}, "INVALID_DATE"),
        ({"hs_object_id": "5"}, "READ_ONLY_VALUE"),
        ({"name": {"nested": 1}}, "INVALID_TYPE"),
    ],
)
def test_invalid_property_values_are_400(http: httpx.Client, properties: dict[str, Any],
                                         code: str) -> None:
    response = http.patch("/crm/v3/objects/companies/1", json={"properties": properties})
    body = _check(response, 400, "VALIDATION_ERROR")
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["context"]["propertyName"] == [next(iter(properties))]
    assert body["message"].startswith("Property values were not valid: ")


def test_date_property_must_be_midnight_utc(http: httpx.Client) -> None:
    created = http.post("/crm/v3/objects/subscriptions", json={"properties": {
        "hs_name": "S", "hs_recurring_billing_start_date": "1704067200000"}})
    assert created.status_code == 201
    assert created.json()["properties"]["hs_recurring_billing_start_date"] == "2024-01-01"
    late = http.post("/crm/v3/objects/subscriptions", json={"properties": {
        "hs_name": "S", "hs_recurring_billing_start_date": "2024-01-01T10:00:00Z"}})
    assert _check(late, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_DATE"


@pytest.mark.parametrize("moment", ["999999999999999999999999", "253402300800000",
                                    "-62135596800001", "0001-01-01T00:00:00+05:00"])
@pytest.mark.parametrize("path", ["/crm/v3/objects/deals",
                                  "/crm/v3/objects/deals/batch/create"])
def test_dates_beyond_year_9999_or_before_year_1_are_invalid_not_500(
    http: httpx.Client, path: str, moment: str
) -> None:
    props = {"dealname": "Far", "createdate": moment, "closedate": moment}
    if path.endswith("batch/create"):
        traced = {"properties": props, "objectWriteTraceId": "t1"}
        response = http.post(path, json={"inputs": [traced]})
        assert response.status_code == 207, response.text
        assert response.json()["errors"][0]["category"] == "VALIDATION_ERROR"
        assert response.json()["results"] == []
    else:
        body = _check(http.post(path, json={"properties": props}), 400, "VALIDATION_ERROR")
        assert {e["code"] for e in body["errors"]} == {"INVALID_DATE"}


def test_last_renderable_millisecond_is_still_a_date(http: httpx.Client) -> None:
    made = http.post("/crm/v3/objects/deals", json={"properties": {
        "dealname": "Edge", "closedate": "253402300799999"}})
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["closedate"] == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize("id_property", [["email"], {"email": 1}, 7])
@pytest.mark.parametrize("action", ["read", "update", "upsert"])
def test_id_property_that_is_not_a_string_is_400_not_500(
    http: httpx.Client, action: str, id_property: Any
) -> None:
    item: dict[str, Any] = {"id": "1", "properties": {}, "objectWriteTraceId": "t1"}
    body: dict[str, Any] = {"inputs": [item]}
    if action == "read":
        body["idProperty"] = id_property
        _check(http.post(f"/crm/v3/objects/companies/batch/{action}", json=body), 400,
               "VALIDATION_ERROR")
        return
    item["idProperty"] = id_property
    response = http.post(f"/crm/v3/objects/companies/batch/{action}", json=body)
    # Problems of a traced batch-write input are reported per input, in a 207 (HubSpot's way).
    assert response.status_code == 207, response.text
    (error,) = response.json()["errors"]
    assert error["category"] == "VALIDATION_ERROR"
    assert "idProperty" in error["message"]


def test_bool_values_are_checked(http: httpx.Client) -> None:
    http.post("/crm/v3/properties/companies/groups", json={"name": "g_bool", "label": "G"})
    made = http.post("/crm/v3/properties/companies", json={
        "name": "flag_x", "label": "Flag", "type": "bool", "fieldType": "booleancheckbox",
        "groupName": "g_bool"})
    assert made.status_code == 201
    ok = http.patch("/crm/v3/objects/companies/2", json={"properties": {"flag_x": "TRUE"}})
    assert ok.json()["properties"]["flag_x"] == "true"
    bad = http.patch("/crm/v3/objects/companies/2", json={"properties": {"flag_x": "yes"}})
    assert _check(bad, 400, "VALIDATION_ERROR")["errors"][0]["code"] == "INVALID_BOOLEAN"


@pytest.mark.parametrize("action", ["read", "create", "update", "upsert", "archive"])
def test_more_than_100_inputs_is_400(http: httpx.Client, action: str) -> None:
    inputs = [{"id": str(i), "properties": {}} for i in range(101)]
    response = http.post(f"/crm/v3/objects/contacts/batch/{action}", json={"inputs": inputs})
    _check(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/crm/v3/objects/tickets_x", None),
        ("POST", "/crm/v3/objects/0-999/search", {}),
        ("GET", "/crm/v3/properties/widgets", None),
        ("POST", "/crm/v3/objects/nothing/batch/read", {"inputs": []}),
    ],
)
def test_unknown_object_type_is_400(http: httpx.Client, method: str, path: str,
                                    body: Any) -> None:
    _check(http.request(method, path, json=body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("path", ["/crm/v3/objects/companies/424242",
                                  "/crm/v3/objects/companies/abc",
                                  "/crm/v3/objects/contacts/x@y.z?idProperty=email",
                                  "/crm/v4/objects/contacts/77/associations/companies"])
def test_unknown_ids_are_404(http: httpx.Client, path: str) -> None:
    _check(http.get(path), 404, "OBJECT_NOT_FOUND")


def test_patch_unknown_id_is_404(http: httpx.Client) -> None:
    response = http.patch("/crm/v3/objects/deals/31337", json={"properties": {}})
    _check(response, 404, "OBJECT_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"filterGroups": "x"},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "LIKE"}]}]},
        {"filterGroups": [{"filters": [{"operator": "EQ", "value": "a"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "name"}]}] * 6},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]
                           * 7}]},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]
                           * 5}] * 4},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "EQ"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT",
                                        "value": "ten"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "name", "operator": "IN",
                                        "values": "a"}]}]},
        {"sorts": [{"propertyName": "name"}, {"propertyName": "domain"}]},
        {"sorts": [{"propertyName": "name", "direction": "SIDEWAYS"}]},
        {"limit": 201},
        {"limit": "lots"},
        {"after": "-1"},
        {"query": "x" * 3001},
        {"properties": "name"},
    ],
)
def test_bad_search_requests_are_400(http: httpx.Client, body: Any) -> None:
    _check(http.post("/crm/v3/objects/companies/search", json=body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "body",
    [
        {"properties": "x"},
        {"properties": {}, "associations": "x"},
        {"properties": {}, "associations": [{"to": {"id": "1"}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 9999}]}]},
        {"properties": {}, "associations": [{"to": {"id": "1"}}]},
        7,
    ],
)
def test_bad_create_bodies_are_400(http: httpx.Client, body: Any) -> None:
    _check(http.post("/crm/v3/objects/contacts", json=body), 400, "VALIDATION_ERROR")


def test_create_associated_to_a_missing_record_is_404(http: httpx.Client) -> None:
    body = {"properties": {}, "associations": [{"to": {"id": "98765"}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]}
    _check(http.post("/crm/v3/objects/contacts", json=body), 404, "OBJECT_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "p1"},
        {"name": "p1", "label": "P", "type": "text", "fieldType": "text",
         "groupName": "companyinformation"},
        {"name": "p1", "label": "P", "type": "number", "fieldType": "select",
         "groupName": "companyinformation"},
        {"name": "p1", "label": "P", "type": "string", "fieldType": "text",
         "groupName": "missing_group"},
        {"name": "p1", "label": "P", "type": "enumeration", "fieldType": "select",
         "groupName": "companyinformation"},
    ],
)
def test_bad_property_definitions_are_400(http: httpx.Client, body: Any) -> None:
    _check(http.post("/crm/v3/properties/companies", json=body), 400, "VALIDATION_ERROR")


def test_duplicate_contact_email_is_409_conflict(http: httpx.Client) -> None:
    first = http.post("/crm/v3/objects/contacts", json={"properties": {"email": "d@x.io"}})
    again = http.post("/crm/v3/objects/contacts", json={"properties": {"email": "D@x.io"}})
    body = _check(again, 409, "CONFLICT")
    assert body["message"] == f"Contact already exists. Existing ID: {first.json()['id']}"


def test_missing_token_and_unknown_route(sandbox: RunningSandbox) -> None:
    _check(httpx.get(sandbox.url + "/crm/v3/objects/contacts"), 401, "INVALID_AUTHENTICATION")
    wrong = httpx.get(sandbox.url + "/crm/v3/owners",
                      headers={"Authorization": "Bearer other"})
    _check(wrong, 401, "INVALID_AUTHENTICATION")
    unknown = httpx.get(sandbox.url + "/crm/v3/nothing",
                        headers={"Authorization": f"Bearer {TOKEN}"})
    _check(unknown, 404, "OBJECT_NOT_FOUND")


def test_search_caps_at_10000_results() -> None:
    records = (SeedRecord("contacts", str(i), {"email": f"u{i}@cap.example"}, BASE_MS + i,
                          BASE_MS + i) for i in range(1, 10_501))
    state = SandboxState()
    state.bulk_load(Dataset(records=records))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with serve_in_thread(config(), state) as running, httpx.Client(
            base_url=running.url, headers=headers, timeout=30) as http:
        near = http.post("/crm/v3/objects/contacts/search", json={"limit": 200, "after": 9800})
        assert near.status_code == 200
        body = near.json()
        assert body["total"] == 10_500
        assert len(body["results"]) == 200
        assert body["results"][-1]["id"] == "10000"
        past = http.post("/crm/v3/objects/contacts/search",
                         json={"limit": 200, "after": body["paging"]["next"]["after"]})
        _check(past, 400, "VALIDATION_ERROR")
