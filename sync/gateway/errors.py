"""HubSpot error classification (one table) and the gateway's exception tree.

``classify(status, headers, body)`` is the only place that decides what an HTTP failure means;
retries, pacing and the sync engine read its ``Action``. ``translate`` turns the SDK's
``ApiException`` (or an httpx transport error) into a ``HubSpotError`` once, at the boundary.

Messages name the token by ``token_fingerprint`` (a short hash) and never contain the token.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

__all__ = [
    "Action",
    "ActionKind",
    "AuthError",
    "Conflict",
    "HubSpotError",
    "NotFound",
    "PermanentError",
    "RateLimited",
    "TransientError",
    "Unreachable",
    "ValidationFailed",
    "classify",
    "header",
    "missing_scopes",
    "parse_body",
    "token_fingerprint",
    "translate_status",
    "translate_transport",
]

TEN_SECONDS = 10.0
ONE_SECOND = 1.0
LOCKED_WAIT_S = 2.0  # 423 Locked: "include a delay of at least 2 seconds" (error-handling docs)
RETRYABLE_5XX = frozenset({502, 503, 504, 521, 522, 523, 524})


class ActionKind(enum.Enum):
    RETRY = "retry"  # transient: retry after ``wait_s`` (or the policy's backoff when None)
    RETRY_AFTER_WINDOW = "retry_after_window"  # rate limited: wait out the rest of the window
    FAIL_AUTH = "fail_auth"  # 401 (or a 403 that is not about scopes): the token is unusable
    FAIL_SCOPE = "fail_scope"  # 403 MISSING_SCOPES: the token lacks a scope
    SKIP_RECORD = "skip_record"  # 400 validation / 404 / 409: this record (or input) is bad
    FAIL = "fail"  # anything else: stop this operation


@dataclass(frozen=True, slots=True)
class Action:
    """What to do about one failed response. ``window_s`` is set for RETRY_AFTER_WINDOW."""

    kind: ActionKind
    wait_s: float | None = None
    window_s: float | None = None
    reason: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind in (ActionKind.RETRY, ActionKind.RETRY_AFTER_WINDOW)


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup over any mapping (httpx.Headers, dict, urllib3 dict)."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def parse_body(body: bytes | str | None) -> dict[str, Any]:
    """HubSpot's JSON error body as a dict; ``{}`` for empty, HTML or otherwise non-JSON bodies."""
    if not body:
        return {}
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    # HubSpot documents Retry-After in seconds (477); HTTP-date values are not used by HubSpot
    # and would need a wall clock here, so they are ignored (the window wait applies instead).
    raw = header(headers, "Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return max(value, 0.0)


def _classify_429(headers: Mapping[str, str] | None, body: Mapping[str, Any]) -> Action:
    policy = str(body.get("policyName") or "").upper()
    message = str(body.get("message") or "").lower()
    if policy == "DAILY" or "daily limit" in message:
        return Action(ActionKind.FAIL, reason="daily API limit reached")
    retry_after = _retry_after_s(headers)
    if retry_after is not None:
        return Action(ActionKind.RETRY, wait_s=retry_after, reason="429 with Retry-After")
    if policy == "SECONDLY" or "secondly limit" in message:
        # The search endpoints' 5/s limit answers with this message and no policyName.
        return Action(ActionKind.RETRY_AFTER_WINDOW, window_s=ONE_SECOND, reason="secondly limit")
    return Action(ActionKind.RETRY_AFTER_WINDOW, window_s=TEN_SECONDS, reason="ten-second limit")


def classify(
    status: int, headers: Mapping[str, str] | None, body: bytes | str | Mapping[str, Any] | None
) -> Action:
    """The classification table: what to do about a non-2xx HubSpot response.

    | status | action |
    |---|---|
    | 429 DAILY | FAIL (waiting hours is not a retry) |
    | 429 with Retry-After | RETRY after that many seconds |
    | 429 search "secondly" | RETRY_AFTER_WINDOW (1 s) |
    | 429 other | RETRY_AFTER_WINDOW (10 s) |
    | 423 | RETRY after 2 s; 477 with Retry-After: RETRY after it |
    | 502, 503, 504, 521-524 | RETRY (policy backoff, or Retry-After when sent) |
    | 401 | FAIL_AUTH; 403 MISSING_SCOPES: FAIL_SCOPE; other 403: FAIL_AUTH |
    | 400, 404, 409 | SKIP_RECORD |
    | anything else (500, 414, ...) | FAIL |
    """
    data = body if isinstance(body, Mapping) else parse_body(body)
    category = str(data.get("category") or "")
    if status == 429:
        return _classify_429(headers, data)
    if status == 423:
        return Action(ActionKind.RETRY, wait_s=LOCKED_WAIT_S, reason="record locked")
    if status == 477 and (wait := _retry_after_s(headers)) is not None:
        return Action(ActionKind.RETRY, wait_s=wait, reason="migration in progress")
    if status in RETRYABLE_5XX:
        return Action(ActionKind.RETRY, wait_s=_retry_after_s(headers), reason=f"{status}")
    if status == 401:
        return Action(ActionKind.FAIL_AUTH, reason="token rejected")
    if status == 403:
        if category == "MISSING_SCOPES" or missing_scopes(data):
            return Action(ActionKind.FAIL_SCOPE, reason="missing scopes")
        return Action(ActionKind.FAIL_AUTH, reason="forbidden")
    if status in (400, 404, 409):
        return Action(ActionKind.SKIP_RECORD, reason=category or f"{status}")
    return Action(ActionKind.FAIL, reason=category or f"{status}")


def missing_scopes(body: Mapping[str, Any]) -> tuple[str, ...]:
    """Scopes a 403 body names (``errors[].context.requiredGranularScopes``), in order, once."""
    found: dict[str, None] = {}
    for error in body.get("errors") or ():
        context = error.get("context") if isinstance(error, Mapping) else None
        if not isinstance(context, Mapping):
            continue
        for key in ("requiredGranularScopes", "requiredScopes"):
            found.update((str(scope), None) for scope in context.get(key) or ())
    return tuple(found)


def token_fingerprint(token: str | None) -> str:
    """A short, stable, non-reversible name for a token (``tok:1a2b3c4d``), safe for logs."""
    if not token:
        return "tok:none"
    return "tok:" + hashlib.sha256(token.encode()).hexdigest()[:8]


class HubSpotError(Exception):
    """A failed HubSpot call. Carries what HubSpot said and the classified ``action``.

    ``endpoint`` is the call's label (``POST /crm/v3/objects/{type}/batch/update``), ``url``
    the URL called when known (transport errors);
    ``correlation_id`` is HubSpot's, for support tickets. ``str()`` never contains a token.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
        endpoint: str | None = None,
        action: Action | None = None,
        body: Mapping[str, Any] | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.message = message
        self.status = status
        self.category = category
        self.correlation_id = correlation_id
        self.endpoint = endpoint
        self.action = action or Action(ActionKind.FAIL)
        self.body: Mapping[str, Any] = body or {}

    def __str__(self) -> str:
        # The URL called when known (the label's placeholders filled in), else the label.
        shown = f"{self.endpoint.split(' ', 1)[0]} {self.url}" if self.url and self.endpoint \
            else (self.url or self.endpoint)
        where = f" [{shown}]" if shown else ""
        status = f"{self.status} " if self.status is not None else ""
        category = f"{self.category}: " if self.category else ""
        corr = f" (correlation id {self.correlation_id})" if self.correlation_id else ""
        return f"{status}{category}{self.message}{where}{corr}"


class TransientError(HubSpotError):
    """Worth retrying later: 429, 502/503/504, timeouts, dropped connections.

    ``retry_after_s`` is how long to wait before retrying, when known (Retry-After, or the rest
    of the rate-limit window as the pacer sees it); None means "use the backoff".
    """

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s: float | None = self.action.wait_s


class Unreachable(TransientError):
    """No connection could be opened to a host that has not answered yet: not retried now (a
    later run or job may find it up)."""


class PermanentError(HubSpotError):
    """Retrying the same request will fail the same way."""


class RateLimited(TransientError):
    """HTTP 429. ``policy`` is HubSpot's ``policyName`` when sent (DAILY, TEN_SECONDLY_ROLLING)."""

    @property
    def policy(self) -> str | None:
        name = self.body.get("policyName")
        return str(name) if name else None


class AuthError(PermanentError):
    """401 or 403. Names the token by fingerprint and lists the scopes HubSpot says are missing."""

    def __init__(self, message: str, *, token: str, scopes: tuple[str, ...], **kw: Any) -> None:
        super().__init__(message, **kw)
        self.token_fingerprint = token
        self.missing_scopes = scopes


class NotFound(PermanentError):
    """404: the record (or object type) does not exist."""


class ValidationFailed(PermanentError):
    """400: HubSpot rejected the input (bad property value, unknown property, search past 10k)."""


class Conflict(PermanentError):
    """409: the thing already exists (a property, a unique value)."""


def _error_class(status: int, action: Action) -> type[HubSpotError]:
    if status == 429:
        return RateLimited
    if action.kind in (ActionKind.FAIL_AUTH, ActionKind.FAIL_SCOPE):
        return AuthError
    if action.retryable:
        return TransientError
    return {404: NotFound, 400: ValidationFailed, 409: Conflict}.get(status, PermanentError)


def translate_status(
    status: int,
    headers: Mapping[str, str] | None,
    body: bytes | str | None,
    *,
    endpoint: str,
    token: str,
) -> HubSpotError:
    """Build the right ``HubSpotError`` for a non-2xx response; ``token`` is a fingerprint."""
    data = parse_body(body)
    action = classify(status, headers, data)
    category = str(data["category"]) if data.get("category") else None
    correlation = data.get("correlationId") or header(headers, "X-HubSpot-Correlation-Id")
    message = str(data.get("message") or "").strip() or f"HTTP {status}"
    cls = _error_class(status, action)
    common: dict[str, Any] = {
        "status": status,
        "category": category,
        "correlation_id": str(correlation) if correlation else None,
        "endpoint": endpoint,
        "action": action,
        "body": data,
    }
    if cls is AuthError:
        scopes = missing_scopes(data)
        if scopes:
            message = f"token {token} lacks scope(s) {', '.join(scopes)}: {message}"
        else:
            message = f"HubSpot rejected token {token}: {message}"
        return AuthError(message, token=token, scopes=scopes, **common)
    return cls(message, **common)


def _request_url(exc: httpx.TransportError) -> str | None:
    try:
        return str(exc.request.url)
    except RuntimeError:  # an error raised without its request
        return None


# Could not open a connection at all (refused, DNS, no route, connect timeout).
_NO_CONNECTION = (httpx.ConnectError, httpx.ConnectTimeout)


def translate_transport(
    exc: httpx.TransportError, *, endpoint: str, answered_before: bool = True
) -> TransientError:
    """Timeouts, refused or dropped connections: transient, retried with backoff when allowed.

    The message names the host and the URL called (the endpoint label's ``{type}`` filled in).
    A connection that cannot even be opened to a host that has never answered this process
    (``answered_before=False``) is ``Unreachable`` and not retried: a wrong base URL or a
    portal that is down should fail in a second, not after the whole backoff.
    """
    kind = type(exc).__name__
    url = _request_url(exc)
    origin = None
    if url:
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode()}"
    detail = f"{kind}: {exc}" if str(exc) else kind
    message = f"cannot reach {origin}: {detail}" if origin else detail
    if not answered_before and isinstance(exc, _NO_CONNECTION):
        return Unreachable(message, endpoint=endpoint, url=url,
                           action=Action(ActionKind.FAIL, reason=f"{kind} on first contact"))
    return TransientError(
        message,
        endpoint=endpoint,
        url=url,
        action=Action(ActionKind.RETRY, reason=kind),
    )
