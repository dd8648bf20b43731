"""``POST /webhooks/hubspot``: verify, parse, queue durably, then answer.

Order of checks, each answered without doing any work for the caller:
1. body larger than ``max_body_bytes`` (declared or actually sent) -> 413, read no further;
2. signature (v3 on the raw bytes; v1/v2 only where enabled) -> 401 with an empty body, the
   reason counted in metrics and never told to the caller; no client secret configured -> 503;
   every refusal is logged with its reason and what to check (rate-limited: webhooks/refusals);
3. body not a JSON array of events -> 400;
4. events handed to the group-commit writer; 204 only after their transaction committed, 503
   (HubSpot retries) when the commit failed. Events that need no work (``Triage``: echoes,
   types and properties the engine does not read) are queued as already done.

The endpoint is a raw ASGI app (Starlette routes to it without building a ``Request`` or a
``Response``): it sits on the hot path of every delivery, and the framework objects cost more
than the checks themselves.

The signed URI is rebuilt as ``public_url`` + the request's raw path and query string. Behind a
reverse proxy set ``PARTNER_SYNC_WEBHOOKS__PUBLIC_URL`` to the scheme and host HubSpot calls
(e.g. ``https://hooks.example.com``, with any path prefix the proxy strips); if it already ends
with the request's path, the path is not added twice. Without it the URI is rebuilt from
``X-Forwarded-Proto``/``X-Forwarded-Host`` when present, else from the request itself.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from config.settings import WebhookSettings
from sync.clock import Clock
from sync.store import InboxEvent as QueuedEvent
from webhooks.events import InboxEvent, MalformedDelivery, parse_delivery
from webhooks.inbox_writer import InboxWriter
from webhooks.metrics import ServeMetrics
from webhooks.refusals import RefusalLog
from webhooks.signature import VERDICT_FIX, SignaturePolicy, verify
from webhooks.triage import Triage

__all__ = ["WebhookReceiver", "request_headers", "signed_uri"]

_JSON = [(b"content-type", b"application/json")]
_WANTED = frozenset({
    "content-length", "host", "x-forwarded-proto", "x-forwarded-host",
    "x-hubspot-signature", "x-hubspot-signature-v3", "x-hubspot-signature-version",
    "x-hubspot-request-timestamp",
})


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


def request_headers(scope: Scope) -> dict[str, str]:
    """The headers the receiver reads, by lower-case name (the first of repeated ones)."""
    out: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in _WANTED and name not in out:
            out[name] = raw_value.decode("latin-1")
    return out


def signed_uri(scope: Scope, headers: Mapping[str, str], public_url: str | None) -> str:
    """The full URL HubSpot signed: scheme + host (+ prefix) + raw path + raw query."""
    path = scope.get("raw_path") or scope["path"].encode()
    path_text = path.decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    if public_url:
        base = public_url.rstrip("/")
        if not base.endswith(path_text.rstrip("/")):
            base += path_text
    else:
        scheme = headers.get("x-forwarded-proto", scope.get("scheme", "http")).split(",")[0]
        host = headers.get("x-forwarded-host") or headers.get("host") or _server(scope)
        base = f"{scheme.strip()}://{host.split(',')[0].strip()}{path_text}"
    return f"{base}?{query}" if query else base


def _server(scope: Scope) -> str:
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else "localhost"


def _queued(event: InboxEvent, triage: Triage | None) -> QueuedEvent:
    payload = event.item
    return QueuedEvent(
        dedup_key=event.dedup_key,
        payload=payload,
        object_type=event.object_type,
        object_id=event.object_id,
        settled=triage is not None and not triage.needs_work(payload),
    )


@dataclass(slots=True)
class WebhookReceiver:
    """The webhook endpoint as a raw ASGI app (see module)."""

    settings: WebhookSettings
    writer: InboxWriter
    metrics: ServeMetrics
    clock: Clock
    triage: Triage | None = None  # None: every event waits for the worker
    refusals: RefusalLog | None = field(default=None)
    _answered: dict[int, Any] = field(default_factory=dict)

    def _refuse(self, status: int, answer: Mapping[str, str] | None, reason: str, fix: str,
                **context: str) -> tuple[int, bytes]:
        """Log why a delivery is refused (rate-limited: webhooks.refusals), then answer."""
        if self.refusals is None:
            self.refusals = RefusalLog(self.clock)
        self.refusals.refused(status, reason, fix, **context)
        return status, b"" if answer is None else orjson.dumps(answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        try:
            status, body = await self._handle(scope, receive)
        except _Disconnected:  # the caller is gone: nothing to answer, nothing acknowledged
            return
        if status == 204:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            headers = [*_JSON, (b"content-length", str(len(body)).encode())] if body else \
                [(b"content-length", b"0")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        counter = self._answered.get(status)
        if counter is None:
            counter = self._answered[status] = self.metrics.webhook_requests.labels(str(status))
        counter.inc()
        self.metrics.webhook_seconds.observe(time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        secret = self.settings.client_secret
        headers = request_headers(scope)
        try:
            body = await self._read_body(headers, receive)
        except _TooLarge:
            return self._refuse(
                413, {"error": "body too large"}, "body_too_large",
                "deliveries larger than PARTNER_SYNC_WEBHOOKS__MAX_BODY_BYTES are refused")
        if secret is None:
            return self._refuse(
                503, {"error": "webhooks are not configured"},
                "no_client_secret", "set PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET to the app's "
                "client secret")
        policy = SignaturePolicy(
            secret.get_secret_value(), self.settings.max_timestamp_skew_s,
            self.settings.accept_v1, self.settings.accept_v2,
        )
        uri = signed_uri(scope, headers, self.settings.public_url)
        check = verify(
            policy, method=scope["method"], uri=uri, body=body, headers=headers,
            now_ms=int(self.clock.now().timestamp() * 1000),
        )
        if not check.ok:
            self.metrics.signature_failures.labels(check.verdict.value).inc()
            return self._refuse(401, None, check.verdict.value,
                                VERDICT_FIX.get(check.verdict, "docs/troubleshooting.md"),
                                signed_uri=uri, version=check.version or "none")
        try:
            events = parse_delivery(body)
        except MalformedDelivery as exc:
            return self._refuse(400, {"error": str(exc)},
                                "malformed_body", f"a signed delivery that is not an array "
                                f"of events: {exc}")
        self.metrics.events_received.inc(len(events))
        if events:
            queued = [_queued(e, self.triage) for e in events]
            try:
                await self.writer.write(queued)
            except Exception as exc:  # not durable: do not acknowledge; HubSpot retries
                return self._refuse(
                    503, {"error": "inbox unavailable"},
                    "inbox_unavailable", "the store did not commit the events (HubSpot "
                    f"retries): {type(exc).__name__}; check PARTNER_SYNC_STORE__URL")
            settled = sum(1 for e in queued if e.settled)
            if settled:
                self.metrics.events_settled.inc(settled)
        return 204, b""

    async def _read_body(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        limit = self.settings.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
