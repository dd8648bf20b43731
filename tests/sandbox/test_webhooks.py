"""WebhookDispatcher against a real receiver: batches, signatures, retries, timeouts, limits."""

from __future__ import annotations

import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import orjson
from hubspot.utils.signature import Signature

from sandbox.config import WebhookConfig
from sandbox.events import ChangeEvent, EventBus
from sandbox.webhooks import WebhookDispatcher
from tests.sandbox.servers import serve
from tests.sandbox.webhook_receiver import Received, Receiver, v3_is_valid

SECRET = "test-client-secret"
PORTAL = 62515


def _config(url: str, **overrides: object) -> WebhookConfig:
    config = WebhookConfig(url=url, client_secret=SECRET, batch_window_s=0.02,
                           retry_base_s=0.05, retry_max_s=1.0, timeout_s=2.0)
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


@contextmanager
def _receiving(receiver: Receiver) -> Iterator[str]:
    with serve(receiver.app()) as base_url:
        yield f"{base_url}/hooks"


@asynccontextmanager
async def _dispatching(bus: EventBus, config: WebhookConfig) -> AsyncIterator[WebhookDispatcher]:
    dispatcher = WebhookDispatcher(bus, config, PORTAL)
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()


def _created(object_id: int) -> ChangeEvent:
    return ChangeEvent("creation", "contacts", str(object_id), 1_700_000_000_000 + object_id)


def _v3_is_valid(request: Received) -> bool:
    return v3_is_valid(request, SECRET)


def _events(request: Received) -> list[dict[str, object]]:
    events = orjson.loads(request.body)
    assert isinstance(events, list)
    return events


async def test_batches_of_at_most_100_signed_v1_and_v3() -> None:
    receiver = Receiver()
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url)) as dispatcher:
            for object_id in range(1, 251):
                bus.emit(_created(object_id))
            await dispatcher.drain(10)
    sizes = [len(_events(r)) for r in receiver.received]
    assert sum(sizes) == 250
    assert max(sizes) <= 100
    assert len(sizes) >= 3
    for request in receiver.received:
        assert _v3_is_valid(request)
        assert request.headers["x-hubspot-signature-version"] == "v1"
        assert Signature.is_valid(
            signature=request.headers["x-hubspot-signature"], client_secret=SECRET,
            request_body=request.body.decode(), signature_version="v1")
    first = _events(receiver.received[0])[0]
    assert first["subscriptionType"] == "contact.creation"
    assert first["portalId"] == PORTAL
    assert first["attemptNumber"] == 0
    ids = sorted(int(str(e["objectId"])) for r in receiver.received for e in _events(r))
    assert ids == list(range(1, 251))
    assert [d.outcome for d in dispatcher.deliveries] == ["delivered"] * len(sizes)


async def test_tampered_body_fails_both_checks() -> None:
    receiver = Receiver()
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url)) as dispatcher:
            bus.emit(_created(1))
            await dispatcher.drain(5)
    original = receiver.received[0]
    tampered = Received(original.url, original.headers, original.body.replace(b"1", b"2"), 0.0)
    assert not _v3_is_valid(tampered)
    assert not Signature.is_valid(
        signature=tampered.headers["x-hubspot-signature"], client_secret=SECRET,
        request_body=tampered.body.decode(), signature_version="v1")


async def test_retries_on_5xx_with_increasing_delays_and_attempt_numbers() -> None:
    receiver = Receiver(script=[(500, 0.0), (503, 0.0), (404, 0.0)])
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url)) as dispatcher:
            bus.emit(_created(7))
            await dispatcher.drain(10)
    arrivals = [r.arrived_s for r in receiver.received]
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(receiver.received) == 4
    assert gaps[0] >= 0.05
    assert gaps[1] >= 0.1
    assert gaps[2] >= 0.2
    assert [_events(r)[0]["attemptNumber"] for r in receiver.received] == [0, 1, 2, 3]
    assert all(_v3_is_valid(r) for r in receiver.received)
    (delivery,) = dispatcher.deliveries
    assert [a.status_code for a in delivery.attempts] == [500, 503, 404, 200]
    assert delivery.outcome == "delivered"


async def test_timeout_is_retried() -> None:
    receiver = Receiver(script=[(200, 1.0)])
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url, timeout_s=0.2)) as dispatcher:
            bus.emit(_created(3))
            await dispatcher.drain(10)
    (delivery,) = dispatcher.deliveries
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(None, "timeout"), (200, None)]
    assert delivery.attempts[0].duration_s < 0.9


async def test_gives_up_after_max_attempts() -> None:
    receiver = Receiver(script=[(500, 0.0)] * 10)
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url, max_attempts=3)) as dispatcher:
            bus.emit(_created(4))
            await dispatcher.drain(10)
    assert len(receiver.received) == 3
    (delivery,) = dispatcher.deliveries
    assert delivery.outcome == "failed"
    assert [a.attempt_number for a in delivery.attempts] == [0, 1, 2]


async def test_connection_failures_are_retried_then_given_up() -> None:
    with serve(Receiver().app()) as base_url:
        url = f"{base_url}/hooks"  # the server stops at the end of the block: nobody listens
    bus = EventBus()
    async with _dispatching(bus, _config(url, max_attempts=2)) as dispatcher:
        bus.emit(_created(5))
        await dispatcher.drain(10)
    (delivery,) = dispatcher.deliveries
    assert [a.error for a in delivery.attempts] == ["ConnectError", "ConnectError"]
    assert delivery.outcome == "failed"


async def test_at_most_max_concurrency_requests_in_flight() -> None:
    receiver = Receiver(delay_s=0.1)
    bus = EventBus()
    with _receiving(receiver) as url:
        config = _config(url, max_batch=1, max_concurrency=3)
        async with _dispatching(bus, config) as dispatcher:
            for object_id in range(12):
                bus.emit(_created(object_id))
            await dispatcher.drain(10)
    assert len(receiver.received) == 12
    assert receiver.max_in_flight == 3


async def test_events_from_other_threads_are_all_delivered_once() -> None:
    receiver = Receiver()
    bus = EventBus()
    with _receiving(receiver) as url:
        async with _dispatching(bus, _config(url)) as dispatcher:
            def emit_hundred(base: int) -> None:
                for offset in range(100):
                    bus.emit(_created(base + offset))

            threads = [threading.Thread(target=emit_hundred, args=(base,))
                       for base in (0, 1000, 2000, 3000)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            await dispatcher.drain(10)
    events = [e for r in receiver.received for e in _events(r)]
    assert len(events) == 400
    assert len({e["eventId"] for e in events}) == 400


async def test_without_url_nothing_is_delivered() -> None:
    bus = EventBus()
    dispatcher = WebhookDispatcher(bus, WebhookConfig(url=None), PORTAL)
    await dispatcher.start()
    bus.emit(_created(1))
    await dispatcher.drain(1)
    await dispatcher.stop()
    assert list(dispatcher.deliveries) == []
