"""Events that need no work are queued as done on arrival: never claimed, never synced."""

from __future__ import annotations

from cli.serve import output_properties
from config.settings import Settings
from sync.clock import FixedClock
from sync.store import Store
from tests.webhooks.conftest import FakeEngine, event, inbox_rows, serve_app, signed
from webhooks.app import ServeParts, create_app
from webhooks.metrics import ServeMetrics
from webhooks.triage import Triage
from webhooks.worker import InboxWorker


async def test_echoes_and_unread_properties_and_types_are_settled_on_arrival(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    outputs = output_properties(settings)
    attributed = settings.contract().attributed_to
    triage = Triage.of(settings.contract(), outputs, settings.webhooks.app_id)
    metrics = ServeMetrics()
    parts = ServeParts(settings, store, engine, clock=clock, metrics=metrics, triage=triage)
    deliveries = [
        event(1, event_id=1),  # dealstage: read by the rules -> work
        event(2, event_id=2, kind="deal.creation", prop=None),  # no property -> work
        event(3, event_id=3, prop=attributed, value="P1"),  # our own output -> echo
        event(4, event_id=4, prop="dealstage", sourceId="integration:777"),  # our app -> echo
        event(5, event_id=5, prop="description", value="x"),  # not read by the engine
        event(6, event_id=6, kind="product.propertyChange", prop="price"),  # type not synced
        event(7, event_id=7, kind="contact.propertyChange", prop="email", value="a@b.com"),
    ]
    body, headers = signed(deliveries, clock)
    async with serve_app(create_app(parts)) as client:
        answer = await client.post("/webhooks/hubspot", content=body, headers=headers)
    assert answer.status_code == 204

    rows = inbox_rows(settings.store.url.get_secret_value())
    status = {row["object_id"]: row["status"] for row in rows}
    assert status == {"1": "pending", "2": "pending", "3": "done", "4": "done", "5": "done",
                      "6": "done", "7": "pending"}
    assert metrics.registry.get_sample_value("partner_sync_inbox_events_settled_total") == 4

    worker = InboxWorker(store, engine, clock=clock, output_properties=outputs,
                         app_id=settings.webhooks.app_id, worker_id="w")
    result = worker.run_once()  # it claims only what needs work
    assert (result.claimed, result.echoes, result.ignored) == (3, 0, 0)
    assert engine.calls == [("targeted", ([("contacts", "7"), ("deals", "1"), ("deals", "2")],
                                          "webhook"))]


async def test_without_triage_every_event_waits_for_the_worker(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    body, headers = signed([event(5, event_id=5, prop="description", value="x")], clock)
    async with serve_app(create_app(ServeParts(settings, store, engine, clock=clock))) as client:
        assert (await client.post("/webhooks/hubspot", content=body, headers=headers)
                ).status_code == 204
    assert [r["status"] for r in inbox_rows(settings.store.url.get_secret_value())] == ["pending"]
