"""Fault injection as pure ASGI middleware, with a control endpoint to change the rules at run time.

For each HTTP request the first rule that matches (``path_regex`` searched in the path, ``method``
case-insensitive, fewer than ``count`` firings so far) and wins its draw (``rate``, from a
``random.Random(seed)``, drawn only for rules with rate < 1) decides the fault:

* ``429`` / ``429_no_retry_after``: HubSpot's TEN_SECONDLY_ROLLING 429 body, with or without
  ``Retry-After: retry_after_s``; the request never reaches the app.
* ``500`` / ``502`` / ``503`` / ``504``: HubSpot's error envelope (``status``, ``message``,
  ``correlationId``, ``category``); the request never reaches the app. HubSpot does not document
  5xx bodies, so the messages and categories are the sandbox's own.
* ``slow``: the app answers normally after ``slow_s`` seconds.
* ``drop``: the response headers start and the connection is closed before the body; under uvicorn
  an httpx client sees ``httpx.RemoteProtocolError``. The request never reaches the app.
  In-process (ASGI transport) the client sees ``ConnectionDropped`` instead.

Control endpoint (never faulted, never forwarded): ``PUT /_sandbox/faults`` with a JSON list of
rules (FaultRule fields) replaces the rules, resets the firing counts and reseeds the RNG, so runs
repeat; ``DELETE`` removes every rule; ``GET`` lists the rules with their firing counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
import threading
import typing
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.config import FaultKind, FaultRule
from sandbox.limits import json_error_messages
from sandbox.limits import rate_limit_body as _rate_limit_body

__all__ = ["CONTROL_PATH", "ConnectionDropped", "FaultMiddleware", "parse_rules"]

CONTROL_PATH = "/_sandbox/faults"
_KINDS = frozenset(typing.get_args(FaultKind))
_RULE_FIELDS = frozenset(f.name for f in dataclasses.fields(FaultRule))
_SERVER_ERRORS = {
    500: ("An internal error occurred.", "INTERNAL_ERROR"),
    502: ("Bad gateway: a processing limit was hit, retry in a few seconds.", "BAD_GATEWAY"),
    503: ("The service is temporarily unavailable.", "SERVICE_UNAVAILABLE"),
    504: ("Gateway timeout: the request hit a processing limit.", "GATEWAY_TIMEOUT"),
}


class ConnectionDropped(Exception):
    """Raised after the response started, so the server closes the connection mid-answer."""


def parse_rules(document: Any) -> list[FaultRule]:
    """Build rules from a decoded JSON list; raise ``ValueError`` naming the bad item."""
    if not isinstance(document, list):
        raise ValueError("fault rules must be a JSON list")
    rules: list[FaultRule] = []
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            raise ValueError(f"rule {index}: must be an object")
        unknown = set(item) - _RULE_FIELDS
        if unknown:
            raise ValueError(f"rule {index}: unknown fields {sorted(unknown)}")
        if item.get("kind") not in _KINDS:
            raise ValueError(f"rule {index}: kind must be one of {sorted(_KINDS)}")
        try:
            rule = FaultRule(**item)
            if rule.path_regex is not None:
                re.compile(rule.path_regex)
        except (TypeError, re.error) as exc:
            raise ValueError(f"rule {index}: {exc}") from exc
        rules.append(rule)
    return rules


class _Armed:
    """A rule with its compiled pattern and firing count."""

    def __init__(self, rule: FaultRule) -> None:
        self.rule = rule
        self.pattern = re.compile(rule.path_regex) if rule.path_regex is not None else None
        self.method = rule.method.upper() if rule.method is not None else None
        self.fired = 0

    def matches(self, method: str, path: str) -> bool:
        if self.rule.count is not None and self.fired >= self.rule.count:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.pattern is None or self.pattern.search(path) is not None


class FaultMiddleware:
    """Inject the faults of ``rules`` (see the module docstring); thread- and async-safe.

    ``sleep`` is how ``slow`` waits (injectable so tests need not wait).
    """

    def __init__(
        self,
        app: ASGIApp,
        rules: list[FaultRule],
        seed: int,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.app = app
        self._seed = seed
        self._sleep = sleep
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._rng = random.Random(seed)
        self.set_rules(rules)

    def set_rules(self, rules: list[FaultRule]) -> None:
        """Replace every rule, reset firing counts and reseed the RNG."""
        with self._lock:
            self._armed = [_Armed(rule) for rule in rules]
            self._rng = random.Random(self._seed)

    def fired_counts(self) -> list[int]:
        """How often each current rule fired, in rule order."""
        with self._lock:
            return [armed.fired for armed in self._armed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CONTROL_PATH:
            await self._control(scope, receive, send)
            return
        rule = self._pick(scope["method"].upper(), scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "slow":
            await self._sleep(rule.slow_s)
            await self.app(scope, receive, send)
        elif rule.kind == "drop":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1024")]})
            raise ConnectionDropped(f"sandbox fault: dropped {scope['method']} {scope['path']}")
        else:
            for message in _fault_messages(rule):
                await send(message)

    def _pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for armed in self._armed:
                if not armed.matches(method, path):
                    continue
                if armed.rule.rate < 1.0 and self._rng.random() >= armed.rule.rate:
                    continue
                armed.fired += 1
                return armed.rule
        return None

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"].upper()
        if method == "PUT":
            try:
                self.set_rules(parse_rules(orjson.loads(await _read_body(receive))))
            except (ValueError, orjson.JSONDecodeError) as exc:
                await _send_json(send, 400, _error_body(str(exc), "VALIDATION_ERROR"))
                return
            await _send_json(send, 200, self._describe())
        elif method == "DELETE":
            self.set_rules([])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif method == "GET":
            await _send_json(send, 200, self._describe())
        else:
            await _send_json(send, 405, _error_body("Use GET, PUT or DELETE.", "BAD_REQUEST"))

    def _describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [
                    {**dataclasses.asdict(armed.rule), "fired": armed.fired}
                    for armed in self._armed
                ]
            }


def _fault_messages(rule: FaultRule) -> tuple[Message, Message]:
    if rule.kind == "429":
        retry_after = [(b"retry-after", str(rule.retry_after_s).encode())]
        return json_error_messages(429, _rate_limit_body("TEN_SECONDLY_ROLLING"), retry_after)
    if rule.kind == "429_no_retry_after":
        return json_error_messages(429, _rate_limit_body("TEN_SECONDLY_ROLLING"))
    status = int(rule.kind)
    message, category = _SERVER_ERRORS[status]
    return json_error_messages(status, _error_body(message, category))


def _error_body(message: str, category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    for message in json_error_messages(status, body):
        await send(message)
