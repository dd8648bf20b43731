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

The signed URI is rebuilt as ``public_url`` + the request's raw path and query string. Behind a
reverse proxy set ``PARTNER_SYNC_WEBHOOKS__PUBLIC_URL`` to the scheme and host HubSpot calls
(e.g. ``https://hooks.example.com``, with any path prefix the proxy strips); if it already ends
with the request's path, the path is not added twice. Without it the URI is rebuilt from
``X-Forwarded-Proto``/``X-Forwarded-Host`` when present, else from the request itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from config.settings import WebhookSettings
from sync.clock import Clock
from sync.store import InboxEvent as QueuedEvent
from webhooks.events import InboxEvent, MalformedDelivery, parse_delivery
from webhooks.inbox_writer import GroupCommitWriter
from webhooks.metrics import ServeMetrics
from webhooks.refusals import RefusalLog
from webhooks.signature import VERDICT_FIX, SignaturePolicy, verify
from webhooks.triage import Triage

__all__ = ["WebhookReceiver", "signed_uri"]


class _TooLarge(Exception):
    pass


def signed_uri(request: Request, public_url: str | None) -> str:
    """The full URL HubSpot signed: scheme + host (+ prefix) + raw path + raw query."""
    path = request.scope.get("raw_path") or request.url.path.encode()
    path_text = path.decode("latin-1")
    query = request.scope.get("query_string", b"").decode("latin-1")
    if public_url:
        base = public_url.rstrip("/")
        if not base.endswith(path_text.rstrip("/")):
            base += path_text
    else:
        headers = request.headers
        scheme = headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
        host = headers.get("x-forwarded-host") or headers.get("host") or request.url.netloc
        base = f"{scheme}://{host.split(',')[0].strip()}{path_text}"
    return f"{base}?{query}" if query else base


def _queued(event: InboxEvent, triage: Triage | None) -> QueuedEvent:
    payload = orjson.loads(event.payload)
    return QueuedEvent(
        dedup_key=event.dedup_key,
        payload=payload,
        object_type=event.object_type,
        object_id=event.object_id,
        settled=triage is not None and not triage.needs_work(payload),
    )


@dataclass(slots=True)
class WebhookReceiver:
    settings: WebhookSettings
    writer: GroupCommitWriter
    metrics: ServeMetrics
    clock: Clock
    triage: Triage | None = None  # None: every event waits for the worker
    refusals: RefusalLog | None = field(default=None)

    def _refuse(self, response: Response, reason: str, fix: str, **context: str) -> Response:
        """Log why a delivery is refused (rate-limited: webhooks.refusals), then answer."""
        if self.refusals is None:
            self.refusals = RefusalLog(self.clock)
        self.refusals.refused(response.status_code, reason, fix, **context)
        return response

    async def handle(self, request: Request) -> Response:
        """The endpoint (a bound method: Starlette treats callable objects as raw ASGI apps)."""
        started = time.perf_counter()
        response = await self._handle(request)
        self.metrics.webhook_requests.labels(str(response.status_code)).inc()
        self.metrics.webhook_seconds.observe(time.perf_counter() - started)
        return response

    async def _handle(self, request: Request) -> Response:
        secret = self.settings.client_secret
        try:
            body = await self._read_body(request)
        except _TooLarge:
            return self._refuse(
                JSONResponse({"error": "body too large"}, status_code=413), "body_too_large",
                "deliveries larger than PARTNER_SYNC_WEBHOOKS__MAX_BODY_BYTES are refused")
        if secret is None:
            return self._refuse(
                JSONResponse({"error": "webhooks are not configured"}, status_code=503),
                "no_client_secret", "set PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET to the app's "
                "client secret")
        policy = SignaturePolicy(
            secret.get_secret_value(), self.settings.max_timestamp_skew_s,
            self.settings.accept_v1, self.settings.accept_v2,
        )
        uri = signed_uri(request, self.settings.public_url)
        check = verify(
            policy, method=request.method, uri=uri, body=body, headers=request.headers,
            now_ms=int(self.clock.now().timestamp() * 1000),
        )
        if not check.ok:
            self.metrics.signature_failures.labels(check.verdict.value).inc()
            return self._refuse(Response(status_code=401), check.verdict.value,
                                VERDICT_FIX.get(check.verdict, "docs/troubleshooting.md"),
                                signed_uri=uri, version=check.version or "none")
        try:
            events = parse_delivery(body)
        except MalformedDelivery as exc:
            return self._refuse(JSONResponse({"error": str(exc)}, status_code=400),
                                "malformed_body", f"a signed delivery that is not an array "
                                f"of events: {exc}")
        self.metrics.events_received.inc(len(events))
        if events:
            queued = [_queued(e, self.triage) for e in events]
            try:
                await self.writer.write(queued)
            except Exception as exc:  # not durable: do not acknowledge; HubSpot retries
                return self._refuse(
                    JSONResponse({"error": "inbox unavailable"}, status_code=503),
                    "inbox_unavailable", "the store did not commit the events (HubSpot "
                    f"retries): {type(exc).__name__}; check PARTNER_SYNC_STORE__URL")
            self.metrics.events_settled.inc(sum(1 for e in queued if e.settled))
        return Response(status_code=204)

    async def _read_body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)
