"""The webhook receiver: status codes, dedup, signed URI rebuilding, group-commit durability."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import orjson
import pytest

from config.settings import Settings
from sync.clock import FixedClock
from sync.store import Store
from tests.webhooks.conftest import FakeEngine, event, inbox_rows, serve_app, signed
from webhooks.app import ServeParts, create_app
from webhooks.metrics import ServeMetrics

URL = "/webhooks/hubspot"


@pytest.fixture
def metrics() -> ServeMetrics:
    return ServeMetrics()


@pytest.fixture
async def client(settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock,
                 metrics: ServeMetrics) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServeParts(settings, store, engine, clock=clock, metrics=metrics))
    async with serve_app(app) as c:
        yield c


def sample(metrics: ServeMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def test_signed_delivery_is_queued_and_answered_2xx(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock
) -> None:
    body, headers = signed([event(1, event_id=1), event(2, event_id=2)], clock)
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 204
    rows = inbox_rows(store_url)  # read through another connection: committed
    assert [(r["object_type"], r["object_id"], r["status"]) for r in rows] == [
        ("deals", "1", "pending"), ("deals", "2", "pending")]
    assert rows[0]["payload"]["propertyValue"] == "closedwon"


async def test_duplicates_and_redeliveries_are_queued_once(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock
) -> None:
    first, headers = signed([event(1)], clock)
    retry = orjson.dumps([{**event(1), "attemptNumber": 3}])  # HubSpot's retry of the same event
    for body in (first, first, retry):
        headers = signed(body, clock)[1]
        assert (await client.post(URL, content=body, headers=headers)).status_code == 204
    assert len(inbox_rows(store_url)) == 1


@pytest.mark.parametrize("tamper", ["signature", "secret", "stale", "future", "missing", "path"])
async def test_bad_signatures_get_401_without_detail(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock, metrics: ServeMetrics, tamper: str
) -> None:
    good_clock = FixedClock(clock.now())
    if tamper in ("stale", "future"):
        good_clock.advance(timedelta(minutes=-6 if tamper == "stale" else 6))
    body, headers = signed(
        [event(1)], good_clock, secret="wrong" if tamper == "secret" else "test-client-secret",
        path="/other" if tamper == "path" else URL,
    )
    if tamper == "signature":
        headers["X-HubSpot-Signature-v3"] = "A" * 44
    if tamper == "missing":
        del headers["X-HubSpot-Signature-v3"]
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == 401
    assert response.content == b""
    assert inbox_rows(store_url) == []
    failures = sum(
        s.value for m in metrics.registry.collect() for s in m.samples
        if s.name == "partner_sync_webhook_signature_failures_total"
    )
    assert failures == 1


@pytest.mark.parametrize("body", [b"{not json", b'{"an": "object"}', b'[1, 2]', b'[{"x": 1}]'])
async def test_malformed_signed_bodies_get_400(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock, body: bytes
) -> None:
    raw, headers = signed(body, clock)
    assert (await client.post(URL, content=raw, headers=headers)).status_code == 400
    assert inbox_rows(store_url) == []


async def test_oversized_bodies_get_413_declared_or_streamed(
    client: httpx.AsyncClient, store_url: str, clock: FixedClock
) -> None:
    big = orjson.dumps([event(i, event_id=i) for i in range(100)])  # > 4096 bytes
    raw, headers = signed(big, clock)
    assert (await client.post(URL, content=raw, headers=headers)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: capped while reading
        for start in range(0, len(raw), 1000):
            yield raw[start:start + 1000]

    assert (await client.post(URL, content=chunks(), headers=headers)).status_code == 413
    assert inbox_rows(store_url) == []


async def test_no_client_secret_refuses_with_503(
    store: Store, engine: FakeEngine, clock: FixedClock, store_url: str
) -> None:
    app = create_app(ServeParts(Settings(store={"url": store_url}), store, engine, clock=clock))
    async with serve_app(app) as c:
        body, headers = signed([event(1)], clock)
        assert (await c.post(URL, content=body, headers=headers)).status_code == 503


async def test_signed_uri_from_forwarded_headers_and_query(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock, store_url: str
) -> None:
    unset = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"public_url": None})})
    app = create_app(ServeParts(unset, store, engine, clock=clock))
    async with serve_app(app, "http://10.0.0.5:8000") as c:
        body, headers = signed([event(1)], clock, path=URL + "?portal=1&x=%2Fy",
                               base="https://proxy.example.org")
        headers |= {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "proxy.example.org"}
        target = URL + "?portal=1&x=%2Fy"
        assert (await c.post(target, content=body, headers=headers)).status_code == 204
        headers["X-Forwarded-Host"] = "evil.example.org"
        assert (await c.post(target, content=body, headers=headers)).status_code == 401
    assert len(inbox_rows(store_url)) == 1


async def test_public_url_holding_the_full_path_is_not_doubled(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    full = settings.model_copy(update={"webhooks": settings.webhooks.model_copy(
        update={"public_url": "https://hooks.example.com/webhooks/hubspot"})})
    async with serve_app(create_app(ServeParts(full, store, engine, clock=clock))) as c:
        body, headers = signed([event(1)], clock)
        assert (await c.post(URL, content=body, headers=headers)).status_code == 204


async def test_store_failure_is_never_acknowledged(
    client: httpx.AsyncClient, store: Store, clock: FixedClock, store_url: str
) -> None:
    with store.transaction() as tx:  # break the inbox under the running app
        tx._conn.exec_driver_sql("ALTER TABLE inbox RENAME TO inbox_gone")
    body, headers = signed([event(1)], clock)
    assert (await client.post(URL, content=body, headers=headers)).status_code == 503


async def test_concurrent_requests_share_commits_and_each_2xx_is_durable(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock, store_url: str
) -> None:
    metrics = ServeMetrics()
    app = create_app(ServeParts(settings, store, engine, clock=clock, metrics=metrics,
                                commit_window_s=0.02))
    app.state.writer.start()
    observer = Store.from_url(store_url)  # a second connection: sees only committed rows
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:

            async def post(i: int) -> None:
                body, headers = signed([event(i, event_id=i)], clock)
                response = await http.post(URL, content=body, headers=headers)
                assert response.status_code == 204
                keys = {r["object_id"] for r in inbox_rows(store_url)}
                assert str(i) in keys  # acknowledged => already committed

            await asyncio.gather(*(post(i) for i in range(40)))
    finally:
        app.state.writer.stop()
        observer.close()
    commits = sample(metrics, "partner_sync_inbox_commits_total")
    assert len(inbox_rows(store_url)) == 40
    assert 1 <= commits < 40  # grouped: fewer transactions than requests
    assert sample(metrics, "partner_sync_inbox_events_queued_total") == 40
