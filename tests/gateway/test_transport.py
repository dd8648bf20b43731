"""The httpx adapter answers the SDK exactly where the SDK's urllib3 REST layer would."""

from __future__ import annotations

import re

import httpx
import hubspot
import pytest
from hubspot.crm.objects.exceptions import ApiException, NotFoundException, ServiceException
from hubspot.crm.properties.exceptions import ForbiddenException

from sync.gateway.pacing import RateLimiter
from sync.gateway.transport import SdkTransport, is_search
from tests.gateway.fakes import BASE_URL, TOKEN, FakeClock, FakeHubSpot, body, error, record


def sdk_client(hub: FakeHubSpot, limiter: RateLimiter | None = None) -> hubspot.Client:
    http = httpx.Client(transport=httpx.MockTransport(hub))
    transport = SdkTransport(http, limiter)
    factory = transport.api_factory
    return hubspot.Client.create(access_token=TOKEN, host=BASE_URL, api_factory=factory)


def test_sdk_call_through_adapter_returns_sdk_models(hub: FakeHubSpot) -> None:
    @hub.route("GET", "/crm/v3/objects/companies")
    def _page(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"results": [record(7, name="Acme")],
                                         "paging": {"next": {"after": "8"}}})

    page = sdk_client(hub).crm.objects.basic_api.get_page(
        "companies", limit=100, properties=["name", "domain"], archived=False
    )

    assert page.results[0].id == "7"
    assert page.results[0].properties["name"] == "Acme"
    assert page.paging.next.after == "8"
    sent = hub.requests[0]
    # Same wire format as the SDK's own REST layer: repeated keys, Python booleans, bearer auth.
    assert sent.url.query == b"limit=100&properties=name&properties=domain&archived=False"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["user-agent"].startswith("hubspot-api-client-python; 12.")


def test_json_body_is_sent_and_207_deserialized(hub: FakeHubSpot) -> None:
    @hub.route("POST", "/crm/v3/objects/deals/batch/update")
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        inputs = body(request)["inputs"]
        return httpx.Response(207, json={
            "status": "COMPLETE", "results": [record(inputs[0]["id"])], "numErrors": 1,
            "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "gone",
                        "context": {"ids": [inputs[1]["id"]]}}],
            "startedAt": "2024-01-01T00:00:00Z", "completedAt": "2024-01-01T00:00:01Z"})

    api = sdk_client(hub).crm.objects.batch_api
    result = api.update("deals", {"inputs": [{"id": "1", "properties": {"a": "1"}},
                                             {"id": "2", "properties": {"a": "2"}}]})

    assert [r.id for r in result.results] == ["1"]
    assert result.errors[0].context == {"ids": ["2"]}
    assert hub.requests[0].headers["content-type"] == "application/json"


def test_non_2xx_raises_the_packages_own_api_exception(hub: FakeHubSpot) -> None:
    @hub.route("GET", "/crm/v3/objects/deals/(?P<id>\\d+)")
    def _get(request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        if match["id"] == "1":
            return error(503, "SERVICE_UNAVAILABLE", "try later")
        return error(429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.",
                     policyName="TEN_SECONDLY_ROLLING")

    api = sdk_client(hub).crm.objects.basic_api
    with pytest.raises(NotFoundException) as not_found:
        api.get_by_id("companies", "404")
    assert not_found.value.status == 404
    assert not_found.value.body == "<html>not found</html>"
    with pytest.raises(ServiceException) as unavailable:
        api.get_by_id("deals", "1")
    assert unavailable.value.status == 503
    with pytest.raises(ApiException) as limited:
        api.get_by_id("deals", "2")
    assert limited.value.status == 429
    assert "TEN_SECONDLY_ROLLING" in limited.value.body
    assert limited.value.headers["content-type"] == "application/json"


def test_every_sdk_api_shares_one_client_and_one_limiter(hub: FakeHubSpot) -> None:
    @hub.route("GET", "/crm/v3/properties/deals")
    def _props(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return error(403, "MISSING_SCOPES", "scopes")

    @hub.route("GET", "/crm/v3/owners/?")
    def _owners(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"results": []})

    @hub.route("POST", "/crm/v4/associations/deals/companies/batch/read")
    def _assoc(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"status": "COMPLETE", "results": [],
                                         "startedAt": "2024-01-01T00:00:00Z",
                                         "completedAt": "2024-01-01T00:00:00Z"})

    clock = FakeClock()
    limiter = RateLimiter(per_window=10, daily=1000, clock=clock, sleep=clock.sleep)
    client = sdk_client(hub, limiter)
    client.crm.owners.owners_api.get_page(limit=1)
    client.crm.associations.v4.batch_api.get_page("deals", "companies", {"inputs": [{"id": "1"}]})
    with pytest.raises(ForbiddenException):
        client.crm.properties.core_api.get_all("deals")

    assert len(hub.requests) == 3
    assert limiter.daily_left == 997  # every API's requests took a slot from the one limiter


def test_transport_errors_propagate_as_httpx_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    api = hubspot.Client.create(
        access_token=TOKEN, host=BASE_URL, api_factory=SdkTransport(http).api_factory
    ).crm.objects.basic_api
    with pytest.raises(httpx.ConnectError):
        api.get_page("deals")


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", f"{BASE_URL}/crm/v3/objects/deals/search", True),
        ("post", f"{BASE_URL}/crm/v3/objects/0-69/search?x=1", True),
        ("GET", f"{BASE_URL}/crm/v3/objects/deals/search", False),
        ("POST", f"{BASE_URL}/crm/v3/objects/deals/batch/read", False),
    ],
)
def test_is_search(method: str, url: str, expected: bool) -> None:
    assert is_search(method, url) is expected
