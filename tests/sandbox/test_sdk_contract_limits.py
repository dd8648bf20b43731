"""Contract tests, continued: the official SDK, unchanged, meets the sandbox's limits.

The 10,000-result search cap and a 429 with HubSpot's headers and body are seen through the
SDK's own exceptions, as the worker would see them against a real portal. The last test checks
in raw HTTP what the SDK cannot send: ``properties`` given comma-separated.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from hubspot import HubSpot
from hubspot.crm.objects import PublicObjectSearchRequest
from hubspot.crm.objects.exceptions import ApiException

from sandbox.config import RateLimitConfig
from sandbox.dataset import Dataset, SeedRecord
from sandbox.server import serve_in_thread
from sandbox.state import SandboxState
from tests.sandbox.sandbox_fixtures import BASE_MS, TOKEN, companies, config


def test_sdk_search_pages_to_the_10000_cap_then_gets_hubspots_400() -> None:
    records = (SeedRecord("contacts", str(i), {"email": f"u{i}@cap.example"}, BASE_MS + i,
                          BASE_MS + i) for i in range(1, 10_301))
    state = SandboxState()
    state.bulk_load(Dataset(records=records))
    with serve_in_thread(config(), state) as running:
        search = HubSpot(access_token=TOKEN, host=running.url).crm.objects.search_api
        sorted_by_id = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
        page = search.do_search("contacts", PublicObjectSearchRequest(
            sorts=sorted_by_id, limit=200, after="9600"))
        assert page.total == 10_300
        seen = [r.id for r in page.results]
        while len(seen) < 400:  # walk the last pages below the cap with the SDK's own cursor
            page = search.do_search("contacts", PublicObjectSearchRequest(
                sorts=sorted_by_id, limit=200, after=page.paging.next.after))
            seen += [r.id for r in page.results]
        assert seen == [str(i) for i in range(9601, 10_001)]
        with pytest.raises(ApiException) as beyond:
            search.do_search("contacts", PublicObjectSearchRequest(
                sorts=sorted_by_id, limit=200, after=page.paging.next.after))
    assert beyond.value.status == 400
    assert orjson.loads(beyond.value.body)["category"] == "VALIDATION_ERROR"


def test_sdk_sees_a_429_with_hubspots_headers_and_body() -> None:
    state = SandboxState()
    state.bulk_load(companies(3))
    limited = config(rate_limits=RateLimitConfig(per_10s=2, daily=50))
    with serve_in_thread(limited, state) as running:
        basic = HubSpot(access_token=TOKEN, host=running.url).crm.objects.basic_api
        first = basic.get_page_with_http_info("companies", limit=2)
        basic.get_page("companies", limit=2)
        with pytest.raises(ApiException) as rejected:
            basic.get_page("companies", limit=2)
    assert first[1] == 200
    assert first[2]["X-HubSpot-RateLimit-Max"] == "2"
    assert first[2]["X-HubSpot-RateLimit-Remaining"] == "1"
    error = rejected.value
    assert error.status == 429
    assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert error.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert error.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "48"
    body = orjson.loads(error.body)
    assert (body["status"], body["errorType"], body["policyName"]) == (
        "error", "RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert body["correlationId"] == error.headers["X-HubSpot-Correlation-Id"]


def test_sdk_lists_archived_records_and_property_groups() -> None:
    state = SandboxState()
    state.bulk_load(companies(4))
    with serve_in_thread(config(), state) as running:
        client = HubSpot(access_token=TOKEN, host=running.url)
        client.crm.objects.basic_api.archive("companies", "2")
        live = client.crm.objects.basic_api.get_page("companies", limit=100)
        gone = client.crm.objects.basic_api.get_page("companies", limit=100, archived=True)
        groups = client.crm.properties.groups_api.get_all("companies")
    assert [r.id for r in live.results] == ["1", "3", "4"]
    assert [(r.id, r.archived) for r in gone.results] == [("2", True)]
    assert "companyinformation" in {g.name for g in groups.results}


def test_list_properties_comma_separated_or_repeated_and_search_skips_archived() -> None:
    state = SandboxState()
    state.bulk_load(companies(4))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with serve_in_thread(config(), state) as running, httpx.Client(
            base_url=running.url, headers=headers, timeout=10) as http:
        assert http.delete("/crm/v3/objects/companies/2").status_code == 204
        comma = http.get("/crm/v3/objects/companies?properties=name,domain&limit=2").json()
        repeated = http.get(
            "/crm/v3/objects/companies?properties=name&properties=domain&limit=2").json()
        found = http.post("/crm/v3/objects/companies/search", json={"limit": 10}).json()
    assert comma == repeated
    assert {"name", "domain"} <= set(comma["results"][0]["properties"])
    assert "partner_tier" not in comma["results"][0]["properties"]
    assert (found["total"], [r["id"] for r in found["results"]]) == (3, ["1", "3", "4"])
