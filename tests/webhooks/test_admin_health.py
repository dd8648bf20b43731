"""Admin API (auth, resync variants, run log), health and readiness, metrics and OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from config.settings import Settings
from sync.clock import FixedClock
from sync.gateway import GatewayCollector, GatewayMetrics
from sync.scheduler import SyncScheduler
from sync.store import Store
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, event, serve_app, signed
from webhooks.admin import token_matches
from webhooks.app import ServeParts, create_app
from webhooks.metrics import ServeMetrics
from webhooks.openapi import OPENAPI

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def client(settings: Settings, store: Store, engine: FakeEngine,
                 clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(create_app(ServeParts(settings, store, engine, clock=clock))) as c:
        yield c


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer wrong", f"Basic {ADMIN_TOKEN}",
                                    f"Bearer {ADMIN_TOKEN}x", f"Bearer {ADMIN_TOKEN[:-1]}"])
async def test_admin_refuses_missing_or_wrong_tokens(
    client: httpx.AsyncClient, engine: FakeEngine, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("POST", "/admin/resync"), ("GET", "/admin/runs"),
                         ("GET", "/admin/runs/1")):
        response = await client.request(method, path, headers=headers, json={"all": True})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert engine.calls == []


def test_token_matches_only_the_exact_token() -> None:
    assert token_matches("Bearer s3cret", "s3cret")
    assert token_matches("bearer  s3cret", "s3cret")
    assert not token_matches("Bearer s3cre", "s3cret")
    assert not token_matches("Bearer s3cretX", "s3cret")
    assert not token_matches("Bearer s3cret", None)  # no token configured: admin is closed
    assert not token_matches("Bearer ", "")
    assert not token_matches("Bearer é", "s3cret")  # non-ASCII does not raise


@pytest.mark.parametrize(("body", "call"), [
    ({"all": True}, ("full", "admin")),
    ({"object_type": "deals"}, ("type", "deals")),
    ({"member": "ACME"}, ("member", "ACME")),
    ({"records": [{"object_type": "deals", "id": 7}]}, ("targeted", ([("deals", "7")], "admin"))),
])
async def test_resync_runs_what_was_asked_and_returns_the_run_id(
    client: httpx.AsyncClient, engine: FakeEngine, body: dict[str, Any], call: tuple[str, Any]
) -> None:
    response = await client.post("/admin/resync", json=body, headers=AUTH)
    assert response.status_code == 200
    assert engine.calls == [call]
    assert response.json()["run_id"] == 1


@pytest.mark.parametrize("body", [{}, {"all": True, "member": "X"}, {"object_type": "tickets"},
                                  {"records": [{"object_type": "deals"}]}, {"records": "x"}, []])
async def test_resync_rejects_unclear_requests(
    client: httpx.AsyncClient, engine: FakeEngine, body: Any
) -> None:
    assert (await client.post("/admin/resync", json=body, headers=AUTH)).status_code == 400
    assert engine.calls == []


async def test_resync_while_busy_is_409(client: httpx.AsyncClient, engine: FakeEngine) -> None:
    engine.busy = True
    response = await client.post("/admin/resync", json={"all": True}, headers=AUTH)
    assert response.status_code == 409


async def test_resync_of_an_unknown_member_is_404(
    client: httpx.AsyncClient, engine: FakeEngine
) -> None:
    from sync.engine.targeted import MemberNotFound

    engine.raises = MemberNotFound("no member company has code or id 'NOBODY'")
    response = await client.post("/admin/resync", json={"member": "NOBODY"}, headers=AUTH)
    assert response.status_code == 404
    assert "NOBODY" in response.json()["error"]


async def test_failed_resync_names_its_run(client: httpx.AsyncClient, engine: FakeEngine) -> None:
    from types import SimpleNamespace

    from sync.engine.report import SyncError

    failed = SimpleNamespace(run_id=41)
    engine.raises = SyncError("HubSpot answered 503", "hubspot", failed)  # type: ignore[arg-type]
    response = await client.post("/admin/resync", json={"all": True}, headers=AUTH)
    assert response.status_code == 500
    assert response.json() == {"error": "resync failed: SyncError", "run_id": 41}


async def test_runs_list_and_detail(client: httpx.AsyncClient, store: Store) -> None:
    from policies.model import Problem

    first = store.start_run("full", None, "cli")
    store.finish_run(first, "ok", {"deals": {"read": 3, "written": 1}})
    second = store.start_run("targeted", None, "webhook")
    store.add_run_problems(second, [Problem("deal", "9", "bad_date", "closedate")])
    store.finish_run(second, "partial", {})
    runs = (await client.get("/admin/runs?limit=5", headers=AUTH)).json()["runs"]
    assert [(r["run_id"], r["status"]) for r in runs] == [(second, "partial"), (first, "ok")]
    detail = (await client.get(f"/admin/runs/{first}", headers=AUTH)).json()
    assert (detail["records_read"]["deals"], detail["written"]["deals"]) == (3, 1)
    detail = (await client.get(f"/admin/runs/{second}", headers=AUTH)).json()
    assert detail["problems"][0]["code"] == "bad_date"
    assert detail["problem_count"] == 1
    assert runs[0]["problems"] is None
    assert runs[0]["problem_count"] == 1
    assert (await client.get("/admin/runs/999", headers=AUTH)).status_code == 404
    assert (await client.get("/admin/runs?limit=0", headers=AUTH)).status_code == 400


async def test_openapi_lists_every_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert schema == OPENAPI
    assert set(schema["paths"]) == {
        "/webhooks/hubspot", "/admin/resync", "/admin/runs", "/admin/runs/{run_id}",
        "/admin/portals", "/healthz", "/readyz", "/metrics"}
    assert "/admin/resync" in (await client.get("/docs")).text


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["store"] == {"ok": True}


async def test_readyz_fails_on_unreachable_store_stopped_scheduler_and_stale_sync(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock, tmp_path: Any
) -> None:
    scheduler = SyncScheduler([])  # never started
    parts = ServeParts(settings, store, engine, clock=clock)
    parts.scheduler = scheduler
    app = create_app(parts)
    run = store.start_run("incremental", None, "schedule")
    store.finish_run(run, "ok", {})
    clock.advance(timedelta(hours=1))  # older than 3 incremental intervals (15 min floor)
    transport = httpx.ASGITransport(app=app)  # no lifespan: the scheduler stays stopped
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as c:
        body = (await c.get("/readyz")).json()
    assert body["status"] == "not_ready"
    assert body["checks"]["scheduler"] == {"ok": False}
    assert body["checks"]["last_sync"]["ok"] is False
    gone = Store.from_url(f"sqlite:///{tmp_path}/missing/dir/x.db")
    app = create_app(ServeParts(settings, gone, engine, clock=clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://x") as c:
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["store"] == {"ok": False}


async def test_metrics_expose_webhooks_inbox_syncs_and_gateway(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    metrics = ServeMetrics(CollectorRegistry())
    gateway = GatewayMetrics()
    gateway.record_attempt("POST /crm/v3/objects/{type}/batch/update", 429, 0.01)
    metrics.register(GatewayCollector(gateway))
    app = create_app(ServeParts(settings, store, engine, clock=clock, metrics=metrics))
    async with serve_app(app) as c:
        body, headers = signed([event(1)], clock)
        assert (await c.post("/webhooks/hubspot", content=body, headers=headers)).is_success
        headers["X-HubSpot-Signature-v3"] = "x"
        await c.post("/webhooks/hubspot", content=body, headers=headers)
        await c.post("/admin/resync", json={"records": [{"object_type": "deals", "id": "1"}]},
                     headers=AUTH)
        text = (await c.get("/metrics")).text
    expected = [
        'partner_sync_webhook_requests_total{status="204"} 1.0',
        'partner_sync_webhook_signature_failures_total{reason="signature_mismatch"} 1.0',
        "partner_sync_inbox_depth 1.0",
        "partner_sync_inbox_lag_seconds",
        'partner_sync_sync_runs_total{kind="targeted",status="ok"} 1.0',
        'partner_sync_records_read_total{object_type="deals"} 1.0',
        'partner_sync_records_written_total{object_type="deals"} 1.0',
        'partner_sync_sync_duration_seconds_count{kind="targeted"} 1.0',
        "partner_sync_hubspot_rate_limited_total",
        "partner_sync_webhook_request_seconds_bucket",
    ]
    for line in expected:
        assert line in text
