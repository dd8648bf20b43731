"""Bad input found by fuzzing ``serve``, each a regression test: a defined 4xx, never a 500,
and nothing unusable acknowledged into the inbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from cli.runtime import build_runtime
from config.settings import HubSpotSettings, Settings, StoreSettings
from policies.sweep import id_key
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock
from sync.engine.targeted import MemberNotFound
from sync.store import Store
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, event, inbox_rows, serve_app, signed
from webhooks.app import ServeParts, create_app
from webhooks.events import MalformedDelivery, parse_delivery

URL = "/webhooks/hubspot"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SUPERSCRIPT = "\u00b2\u00b3"  # "²³": str.isdigit() says yes, int() says no


@pytest.fixture
async def client(settings: Settings, store: Store, engine: FakeEngine,
                 clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(create_app(ServeParts(settings, store, engine, clock=clock))) as c:
        yield c


def _nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(("field", "value"), [
    ("propertyName", ["dealstage"]),  # unhashable: crashed is_own_echo in every worker pass
    ("propertyValue", _nested(300)),  # past orjson's 255 levels: the dedup key raised
    ("propertyValue", {"a": 1}),
    ("objectId", "12x"),
    ("objectId", 2**64),
    ("objectId", True),
    ("portalId", -1),
    ("subscriptionType", 7),
    ("occurredAt", "1700000000000"),
    ("associationRemoved", "false"),
    ("mergedObjectIds", [1, "x"]),
    ("somethingNew", _nested(20)),
])
async def test_a_signed_event_with_a_wrongly_typed_field_refuses_the_delivery(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock, field: str, value: object
) -> None:
    bad = event(1, event_id=1)
    bad[field] = value
    body = json.dumps([event(2, event_id=2), bad]).encode()
    raw, headers = signed(body, clock)
    response = await client.post(URL, content=raw, headers=headers)
    assert response.status_code == 400
    assert field in response.json()["error"]
    assert inbox_rows(store_url) == []  # the whole delivery: HubSpot's retry is not wasted


def test_future_fields_of_plain_types_are_accepted() -> None:
    (parsed,) = parse_delivery(json.dumps([event(1, newFlag="x", extra={"a": [1, 2]},
                                                 objectId="42")]).encode())
    assert parsed.object_id == "42"
    with pytest.raises(MalformedDelivery, match="propertyName"):
        parse_delivery(json.dumps([event(1, prop=None, propertyName=None)]).encode())


def _latin1(headers: dict[str, str]) -> dict[str, bytes]:
    """Header bytes as a server decodes them (latin-1): "²" arrives as "²"."""
    return {k: v.encode("latin-1") for k, v in headers.items()}


@pytest.mark.parametrize("timestamp", [SUPERSCRIPT, "1" + SUPERSCRIPT, "\u00b9"])
@pytest.mark.parametrize("signature", ["not-a-signature", None])
async def test_a_timestamp_of_non_ascii_digits_is_a_bad_signature_not_a_500(
    client: httpx.AsyncClient, clock: FixedClock, timestamp: str, signature: str | None
) -> None:
    raw, headers = signed([event(1)], clock)
    headers["X-HubSpot-Request-Timestamp"] = timestamp
    if signature is not None:  # unsigned: any signature value, the timestamp is read first
        headers["X-HubSpot-Signature-v3"] = signature
    response = await client.post(URL, content=raw, headers=_latin1(headers))
    assert response.status_code == 401


async def test_a_content_length_of_superscript_digits_is_not_a_500(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    raw, headers = signed([event(1)], clock)
    headers["Content-Length"] = SUPERSCRIPT
    response = await client.post(URL, content=raw, headers=_latin1(headers))
    assert response.status_code < 500


@pytest.mark.parametrize("limit", [SUPERSCRIPT, "\u00b9", "1" * 400, "0", "501", "-1", ""])
async def test_admin_runs_limit_that_is_no_ascii_number_is_a_400(
    client: httpx.AsyncClient, limit: str
) -> None:
    response = await client.get("/admin/runs", params={"limit": limit}, headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"error": "limit must be 1..500"}


@pytest.mark.parametrize("run_id", ["9223372036854775808", "9" * 400])
async def test_a_run_id_past_64_bits_is_a_404(client: httpx.AsyncClient, run_id: str) -> None:
    response = await client.get(f"/admin/runs/{run_id}", headers=AUTH)
    assert response.status_code == 404


@pytest.mark.parametrize("body", [
    {"object_type": [1]},
    {"object_type": {"a": 1}},
    {"records": [{"object_type": ["deals"], "id": "1"}]},
    {"records": [{"object_type": "deals", "id": ["1"]}]},
    {"records": [{"object_type": "deals", "id": True}]},
    {"member": {"code": "ACME"}},
    {"member": ["ACME"]},
    {"all": "yes"},
])
async def test_admin_resync_with_wrongly_typed_fields_is_a_400(
    client: httpx.AsyncClient, engine: FakeEngine, body: dict[str, object]
) -> None:
    response = await client.post("/admin/resync", json=body, headers=AUTH)
    assert response.status_code == 400
    assert engine.calls == []


def test_sweep_orders_superscript_ids_as_text() -> None:
    assert id_key(SUPERSCRIPT) == (1, 0, SUPERSCRIPT)
    assert id_key("42") == (0, 42, "")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(SandboxConfig(rate_limits=RateLimitConfig(enabled=False)),
                         SandboxState()) as running:
        yield running


def test_sandbox_ids_of_superscript_digits_are_not_found(sandbox: RunningSandbox) -> None:
    headers = {"Authorization": "Bearer sandbox-token"}
    with httpx.Client(base_url=sandbox.url, headers=headers, timeout=10) as http:
        one = http.get(f"/crm/v3/objects/companies/{SUPERSCRIPT}")
        batch = http.post("/crm/v3/objects/companies/batch/read",
                          json={"inputs": [{"id": SUPERSCRIPT}], "properties": []})
        page = http.get("/crm/v3/objects/companies", params={"after": SUPERSCRIPT})
    assert one.status_code == 404
    assert batch.status_code in (200, 207)
    assert page.status_code == 200


def test_a_member_named_by_superscript_digits_is_not_found(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = Settings(
        hubspot=HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=sandbox.url,
                                max_attempts=1),
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'store.db'}"),
    )
    runtime = build_runtime(settings, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    try:
        with pytest.raises(MemberNotFound):
            runtime.engine.resync_member(SUPERSCRIPT)
    finally:
        runtime.close()
