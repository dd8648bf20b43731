"""FaultMiddleware: each fault kind, seeded rates, count caps, matching and the control endpoint."""

from __future__ import annotations

import httpx
import pytest

from sandbox.config import FaultKind, FaultRule
from sandbox.faults import ConnectionDropped, FaultMiddleware
from tests.sandbox.asgi_helpers import Calls, client_for, tiny_app
from tests.sandbox.servers import serve

CONTACTS = "/crm/v3/objects/contacts"
SEARCH = "/crm/v3/objects/contacts/search"


def _faulty(rules: list[FaultRule], seed: int = 7) -> tuple[FaultMiddleware, Calls]:
    calls = Calls()
    return FaultMiddleware(tiny_app(calls), rules, seed), calls


async def test_429_with_and_without_retry_after() -> None:
    app, calls = _faulty([
        FaultRule("429", method="GET", retry_after_s=3),
        FaultRule("429_no_retry_after", method="POST"),
    ])
    async with client_for(app) as client:
        with_header = await client.get(CONTACTS)
        without = await client.post(CONTACTS, json={})
    assert with_header.status_code == without.status_code == 429
    assert with_header.headers["Retry-After"] == "3"
    assert "retry-after" not in without.headers
    for answer in (with_header, without):
        assert answer.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert answer.json()["errorType"] == "RATE_LIMIT"
    assert calls.count == 0


@pytest.mark.parametrize("kind", ["500", "502", "503", "504"])
async def test_server_errors_have_hubspot_envelope(kind: FaultKind) -> None:
    app, calls = _faulty([FaultRule(kind)])
    async with client_for(app) as client:
        answer = await client.get(CONTACTS)
    body = answer.json()
    assert answer.status_code == int(kind)
    assert body["status"] == "error"
    assert body["category"]
    assert body["message"]
    assert answer.headers["X-HubSpot-Correlation-Id"] == body["correlationId"]
    assert calls.count == 0


async def test_slow_answers_after_the_delay_through_the_injected_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    calls = Calls()
    app = FaultMiddleware(tiny_app(calls), [FaultRule("slow", slow_s=1.5)], 0, sleep=fake_sleep)
    async with client_for(app) as client:
        answer = await client.get(CONTACTS)
    assert answer.status_code == 200
    assert slept == [1.5]
    assert calls.count == 1


def test_drop_closes_the_connection_under_uvicorn() -> None:
    app, calls = _faulty([FaultRule("drop", count=1)])
    with serve(app) as base_url, httpx.Client(base_url=base_url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(CONTACTS)
        assert client.get(CONTACTS).status_code == 200
    assert calls.count == 1


async def test_drop_in_process_raises_connection_dropped() -> None:
    app, _ = _faulty([FaultRule("drop")])
    async with client_for(app) as client:
        with pytest.raises(ConnectionDropped):
            await client.get(CONTACTS)


async def _statuses(app: FaultMiddleware, n: int) -> list[int]:
    async with client_for(app) as client:
        return [(await client.get(CONTACTS)).status_code for _ in range(n)]


async def test_rate_is_seeded_and_repeatable() -> None:
    rules = [FaultRule("503", rate=0.3)]
    first = await _statuses(_faulty(rules, seed=11)[0], 200)
    again = await _statuses(_faulty(rules, seed=11)[0], 200)
    other = await _statuses(_faulty(rules, seed=12)[0], 200)
    assert first == again
    assert first != other
    assert 30 <= first.count(503) <= 90  # 60 expected at rate 0.3


async def test_count_caps_firings() -> None:
    app, calls = _faulty([FaultRule("500", count=2)])
    assert await _statuses(app, 5) == [500, 500, 200, 200, 200]
    assert app.fired_counts() == [2]
    assert calls.count == 3


async def test_path_and_method_matching_first_rule_wins() -> None:
    app, _ = _faulty([
        FaultRule("502", path_regex=r"/search$", method="post"),
        FaultRule("504", path_regex=r"^/crm/v3/objects/"),
    ])
    async with client_for(app) as client:
        search = await client.post(SEARCH, json={})
        listing = await client.get(CONTACTS)
        control_like = await client.get("/_sandbox/health")
    assert (search.status_code, listing.status_code, control_like.status_code) == (502, 504, 200)


async def test_control_endpoint_replaces_lists_and_clears_rules() -> None:
    app, _ = _faulty([FaultRule("500")])
    async with client_for(app) as client:
        put = await client.put("/_sandbox/faults", json=[
            {"kind": "503", "path_regex": "contacts$", "count": 1}])
        assert put.status_code == 200
        assert [(await client.get(CONTACTS)).status_code for _ in range(2)] == [503, 200]
        listed = (await client.get("/_sandbox/faults")).json()["rules"]
        assert [(r["kind"], r["fired"]) for r in listed] == [("503", 1)]
        await client.put("/_sandbox/faults", json=[{"kind": "500"}])
        assert (await client.delete("/_sandbox/faults")).status_code == 204
        assert (await client.get(CONTACTS)).status_code == 200


@pytest.mark.parametrize(
    "document",
    [{"kind": "500"}, [{"kind": "418"}], [{"kind": "500", "colour": "red"}],
     [{"kind": "500", "path_regex": "("}], ["500"]],
)
async def test_control_endpoint_rejects_bad_rules_and_keeps_the_old_ones(document: object) -> None:
    app, _ = _faulty([FaultRule("500")])
    async with client_for(app) as client:
        answer = await client.put("/_sandbox/faults", json=document)
        assert answer.status_code == 400
        assert answer.json()["category"] == "VALIDATION_ERROR"
        assert (await client.get(CONTACTS)).status_code == 500
