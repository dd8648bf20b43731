"""Signed, batched, retried webhook deliveries of the sandbox's change events (research notes §6).

``WebhookDispatcher`` subscribes to the state's ``EventBus`` (a thread-safe, non-blocking
enqueue), gathers events for ``batch_window_s``, and POSTs JSON arrays of at most ``max_batch``
HubSpot webhook events to ``config.url``:

* at most ``max_concurrency`` requests in flight, each with a ``timeout_s`` timeout;
* a batch is retried on a connection failure, a timeout or any non-2xx answer (HubSpot retries
  4xx too), after ``retry_base_s * 2**(k-1)`` seconds (capped at ``retry_max_s``) before retry k,
  up to ``max_attempts`` attempts in all; each attempt carries ``attemptNumber`` = k (0 first);
* every attempt is signed afresh: v1 (``X-HubSpot-Signature`` + ``X-HubSpot-Signature-Version:
  v1``) and v3 (``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp`` in ms), as enabled.

``deliveries`` is the delivery log (newest last, the last ``log_size`` batches).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import orjson

from sandbox.config import WebhookConfig
from sandbox.events import ChangeEvent, EventBus
from sandbox.webhook_payloads import sign_v1, sign_v3, v3_uri, webhook_event

__all__ = ["Delivery", "DeliveryAttempt", "WebhookDispatcher", "sign_v1", "sign_v3"]

USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) - sandbox"


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    attempt_number: int
    status_code: int | None  # None: no answer (timeout or connection failure)
    error: str | None  # "timeout", the transport error's class name, or None
    started_s: float  # on the dispatcher's monotonic clock
    duration_s: float


@dataclass(slots=True)
class Delivery:
    """One batch: its events and every attempt made to deliver it."""

    batch_id: int
    event_ids: list[int]
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    outcome: Literal["pending", "delivered", "failed"] = "pending"

    @property
    def event_count(self) -> int:
        return len(self.event_ids)


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class WebhookDispatcher:
    """Deliver ``bus`` events to ``config.url`` (nothing when the URL is None).

    ``start()`` and ``stop()`` run in the event loop that does the delivering; events may be
    emitted from any thread. ``transport``, ``now_ms`` (signature timestamps) and ``sleep``
    (retry delays) are seams for tests.
    """

    def __init__(
        self,
        bus: EventBus,
        config: WebhookConfig,
        portal_id: int,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now_ms: Callable[[], int] = _wall_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        log_size: int = 10_000,
    ) -> None:
        self._bus = bus
        self.config = config
        self.portal_id = portal_id
        self._transport = transport
        self._now_ms = now_ms
        self._sleep = sleep
        self.deliveries: deque[Delivery] = deque(maxlen=log_size)
        self._incoming: deque[ChangeEvent] = deque()
        self._event_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._gathering = False
        self._subscribed = False
        self._collector: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(max(config.max_concurrency, 1))

    async def start(self) -> None:
        """Begin delivering; events emitted before this are not delivered."""
        if self.config.url is None or self._collector is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(self.config.timeout_s),
            limits=httpx.Limits(max_connections=max(self.config.max_concurrency, 1)),
        )
        self._collector = asyncio.create_task(self._collect())
        if not self._subscribed:
            self._bus.subscribe(self._enqueue)
            self._subscribed = True

    async def stop(self) -> None:
        """Stop at once: pending and retrying batches are abandoned (``drain`` first to flush)."""
        self._loop = None
        tasks = [*self._tasks, *([self._collector] if self._collector else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._collector = None
        self._incoming.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def drain(self, timeout_s: float) -> None:
        """Wait until every event so far is delivered or given up; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout_s
        while self._incoming or self._gathering or self._wake_pending or self._tasks:
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhook deliveries still pending after {timeout_s} s")
            await asyncio.sleep(0.005)

    def drain_blocking(self, timeout_s: float) -> None:
        """``drain`` from another thread than the dispatcher's loop (e.g. a test's main thread)."""
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.drain(timeout_s), loop).result(timeout_s + 1)

    def _enqueue(self, event: ChangeEvent) -> None:
        # Called by the bus from any thread, maybe under the state's lock: append, wake, return.
        loop = self._loop
        if loop is None:
            return
        self._incoming.append(event)
        if not self._wake_pending:
            self._wake_pending = True
            try:
                loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # the loop closed under us: nothing left to deliver to
                self._wake_pending = False

    async def _collect(self) -> None:
        while True:
            await self._wake.wait()
            self._gathering = True
            self._wake.clear()
            # Cleared before reading the queue: an event appended from now on wakes us again.
            self._wake_pending = False
            if self.config.batch_window_s > 0:
                await asyncio.sleep(self.config.batch_window_s)
            events = [self._payload(self._incoming.popleft()) for _ in range(len(self._incoming))]
            size = max(self.config.max_batch, 1)
            for start in range(0, len(events), size):
                task = asyncio.create_task(self._deliver(events[start : start + size]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._gathering = False

    def _payload(self, event: ChangeEvent) -> dict[str, Any]:
        return webhook_event(
            event, event_id=next(self._event_ids), portal_id=self.portal_id,
            app_id=self.config.app_id,
        )

    async def _deliver(self, events: list[dict[str, Any]]) -> None:
        delivery = Delivery(next(self._batch_ids), [int(e["eventId"]) for e in events])
        self.deliveries.append(delivery)
        for attempt in range(max(self.config.max_attempts, 1)):
            if attempt:
                await self._sleep(self.retry_delay_s(attempt))
            result = await self._attempt(events, attempt)
            delivery.attempts.append(result)
            if result.status_code is not None and 200 <= result.status_code < 300:
                delivery.outcome = "delivered"
                return
        delivery.outcome = "failed"

    def retry_delay_s(self, retry: int) -> float:
        """Seconds waited before retry ``retry`` (1 = the first retry)."""
        return float(min(self.config.retry_base_s * 2 ** (retry - 1), self.config.retry_max_s))

    async def _attempt(self, events: list[dict[str, Any]], attempt: int) -> DeliveryAttempt:
        body = orjson.dumps([{**event, "attemptNumber": attempt} for event in events])
        url, client = self.config.url, self._client
        if url is None or client is None:
            raise RuntimeError("WebhookDispatcher.start() was not called with a URL")
        async with self._slots:
            # Signed inside the slot so a queued attempt never carries a stale timestamp.
            headers = self._signature_headers(url, body)
            started = time.monotonic()
            status: int | None = None
            error: str | None = None
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.TimeoutException:
                error = "timeout"
            except httpx.TransportError as exc:
                error = type(exc).__name__
        return DeliveryAttempt(attempt, status, error, started, time.monotonic() - started)

    def _signature_headers(self, url: str, body: bytes) -> dict[str, str]:
        secret = self.config.client_secret
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self.config.sign_v1:
            headers["X-HubSpot-Signature"] = sign_v1(secret, body)
            headers["X-HubSpot-Signature-Version"] = "v1"
        if self.config.sign_v3:
            timestamp_ms = self._now_ms()
            headers["X-HubSpot-Signature-v3"] = sign_v3(
                secret, "POST", v3_uri(url), body, timestamp_ms
            )
            headers["X-HubSpot-Request-Timestamp"] = str(timestamp_ms)
        return headers
