"""The moving parts of the chaos soak (``bench/chaos.py``): a unique PostgreSQL database, the
round-robin webhook proxy, ``partner-sync serve`` replicas that can be killed, and the stream
of user edits made in the sandbox.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from config.contract import CrmContract
from sandbox.associations import default_type_ids
from sandbox.server import free_port
from sandbox.state import SandboxState
from sandbox.store import Record

ADMIN_PG = "postgresql://postgres@127.0.0.1:5432/test"
USER_SOURCE = "userId:72000042"  # a sales user: not our app, so not an echo


# -- PostgreSQL ------------------------------------------------------------------------------

def create_database(prefix: str = "chaos") -> str:
    """A fresh database with a unique name; returns its SQLAlchemy URL."""
    name = f"{prefix}_{datetime.now(UTC):%Y%m%d%H%M%S}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the webhook proxy -----------------------------------------------------------------------

_FAILOVER = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError,
             httpx.WriteError, httpx.ConnectTimeout, httpx.ReadTimeout)


def event_identity(event: dict[str, Any]) -> tuple[Any, ...]:
    """What makes an event itself (HubSpot does not promise unique event ids alone)."""
    return (event.get("portalId"), event.get("subscriptionId"), event.get("eventId"),
            event.get("objectId", event.get("fromObjectId")), event.get("occurredAt"))


@dataclass
class Proxy:
    """One webhook URL in front of the replicas: round-robin per request, failing over to the
    next replica when one does not answer (a killed one). Records every event a replica
    acknowledged (2xx)."""

    backends: list[int]  # replica ports
    port: int = field(default_factory=free_port)
    acknowledged: set[tuple[Any, ...]] = field(default_factory=set)
    answers: dict[int, int] = field(default_factory=dict)
    _next: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(len(self.backends)):
                port = self.backends[self._next % len(self.backends)]
                self._next += 1
                try:
                    answer = await client.post(f"http://127.0.0.1:{port}{request.url.path}",
                                               content=body, headers=headers)
                except _FAILOVER:
                    continue
                self.answers[answer.status_code] = self.answers.get(answer.status_code, 0) + 1
                if 200 <= answer.status_code < 300:
                    self.acknowledged.update(event_identity(e) for e in orjson.loads(body))
                return Response(answer.content, answer.status_code,
                                media_type=answer.headers.get("content-type"))
        self.answers[502] = self.answers.get(502, 0) + 1
        return Response(b"no replica answered", 502)

    def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="proxy")
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


# -- serve replicas --------------------------------------------------------------------------

@dataclass
class Replica:
    """``partner-sync serve`` in a child process (``kill9`` and ``start`` again)."""

    name: str
    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"{self.name}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code \
                        == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"replica {self.name} did not become healthy")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        if self.process is not None and self.alive():
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.alive():
            self.process.terminate()
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.kill9()


# -- user edits ------------------------------------------------------------------------------

def noon(day: date) -> str:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


class Editor:
    """Random edits of the kinds the program reacts to, made as a sales user in the sandbox
    (so they come back as real signed webhooks)."""

    KINDS = ("registration", "deal_close", "merge", "archive")

    def __init__(self, state: SandboxState, c: CrmContract, day: date, rng: random.Random):
        self.state, self.c, self.day, self.rng = state, c, day, rng
        self.done: dict[str, int] = dict.fromkeys(self.KINDS, 0)

    def _live(self, object_type: str, keep: Callable[[Record], bool]) -> list[Record]:
        store = self.state.types[object_type]
        return [r for r in store.records.values() if r.archived_ms is None and keep(r)]

    def _raw(self, object_type: str, rec: Record, name: str) -> str | None:
        return self.state.types[object_type].raw(rec, name)

    def _members(self) -> list[str]:
        return [code for r in self._live("companies", lambda r: True)
                if (code := self._raw("companies", r, self.c.code))
                and self._raw("companies", r, self.c.program_type)]

    def edit(self) -> str | None:
        kind = self.rng.choice(self.KINDS)
        with self.state.lock:
            made = getattr(self, f"_{kind}")()
        if made:
            self.done[kind] += 1
            return kind
        return None

    def _update(self, object_type: str, rec: Record, props: dict[str, str]) -> None:
        self.state.update(self.state.types[object_type], rec, props, USER_SOURCE)

    def _registration(self) -> bool:
        object_type = self.rng.choice(("companies", "contacts"))
        c = self.c
        prospects = self._live(object_type, lambda r: not self._raw(
            object_type, r, c.registration_requested_by) and not self._raw(
            object_type, r, c.program_type))
        members = self._members()
        if not prospects or not members:
            return False
        self._update(object_type, self.rng.choice(prospects), {
            c.registration_requested_by: self.rng.choice(members),
            c.registration_requested_at: self.day.isoformat()})
        return True

    def _deal_close(self) -> bool:
        open_deals = self._live("deals", lambda r: self._raw("deals", r, "dealstage")
                                not in ("closedwon", "closedlost"))
        if not open_deals:
            return False
        self._update("deals", self.rng.choice(open_deals),
                     {"dealstage": "closedwon", "closedate": noon(self.day)})
        return True

    def _merge(self) -> bool:
        """HubSpot's visible effects of merging company B into A: B's deals and contacts move
        to A (association events) and B disappears (a deletion event)."""
        plain = self._live("companies", lambda r: not self._raw("companies", r,
                                                                  self.c.program_type))
        if len(plain) < 2:
            return False
        keep, gone = self.rng.sample(plain, 2)
        for other in ("deals", "contacts"):
            for to_id, _ in self.state.linked("companies", gone.id, other):
                self.state.associate("companies", keep.id, other, to_id,
                                     default_type_ids("companies", other, primary=False),
                                     USER_SOURCE)
        self.state.archive(self.state.types["companies"], gone, USER_SOURCE)
        return True

    def _archive(self) -> bool:
        object_type = self.rng.choice(("contacts", "companies", "deals"))
        candidates = self._live(object_type, lambda r: not self._raw(
            object_type, r, self.c.program_type))
        if not candidates:
            return False
        self.state.archive(self.state.types[object_type], self.rng.choice(candidates),
                           USER_SOURCE)
        return True
