"""Fixtures for the serve-process tests: a SQLite store on a temp file, a fixed clock, a fake
engine (records what it was asked; fails or is busy on demand) and a signed-request builder."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, select
from starlette.applications import Starlette

from config.settings import Settings
from sync.clock import FixedClock
from sync.engine import SyncBusy, WriteFailure
from sync.store import Store
from sync.store.schema import inbox
from webhooks.signature import sign_v3

SECRET = "test-client-secret"
PUBLIC_URL = "https://hooks.example.com"
ADMIN_TOKEN = "admin-token-0123456789"


@dataclass
class FakeReport:
    run_id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime
    records_read: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0
    error: str | None = None
    write_failures: list[WriteFailure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "kind": self.kind, "status": self.status}


class FakeEngine:
    """Records every call. ``busy`` raises SyncBusy; records in ``bad`` make a run fail;
    records in ``refused`` end it ``partial`` with a write failure each."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.calls: list[tuple[str, Any]] = []
        self.busy = False
        self.bad: set[tuple[str, str]] = set()
        self.refused: set[tuple[str, str]] = set()
        self.raises: Exception | None = None  # raised by the next run, as the engine would
        self.attempts = 0  # every run asked for, raising or not
        self.during: Callable[[], None] | None = None  # runs inside each run (a slow sync)
        self._ids = itertools.count(1)

    def _run(self, kind: str, arg: Any, records: Sequence[tuple[str, str]] = ()) -> FakeReport:
        self.attempts += 1
        if self.during is not None:
            self.during()
        if self.busy:
            raise SyncBusy("sync:portal")
        if self.raises is not None:
            raise self.raises
        self.calls.append((kind, arg))
        now = self.clock.now()
        if self.bad & set(records):
            return FakeReport(next(self._ids), kind, "failed", now, now, error="boom")
        read: dict[str, int] = {}
        for object_type, _ in records:
            read[object_type] = read.get(object_type, 0) + 1
        refused = [WriteFailure(t, i, "INVALID_OPTION") for t, i in self.refused & set(records)]
        return FakeReport(next(self._ids), kind, "partial" if refused else "ok", now, now,
                          read, dict(read), write_failures=refused)

    def full_sync(self, *, as_of: date | None = None, dry_run: bool = False,
                  trigger: str = "cli") -> FakeReport:
        return self._run("full", trigger)

    def incremental_sync(self, *, as_of: date | None = None, dry_run: bool = False,
                         trigger: str = "schedule") -> FakeReport:
        return self._run("incremental", trigger)

    def reevaluate(self, *, as_of: date | None = None, dry_run: bool = False,
                   trigger: str = "schedule") -> FakeReport:
        return self._run("reevaluate", trigger)

    def targeted_sync(self, records: Sequence[tuple[str, str]], *, as_of: date | None = None,
                      trigger: str = "webhook") -> FakeReport:
        return self._run("targeted", (list(records), trigger), records)

    def resync_member(self, member: str, *, trigger: str = "admin") -> FakeReport:
        return self._run("member", member)

    def resync_type(self, object_type: str, *, trigger: str = "admin") -> FakeReport:
        return self._run("type", object_type)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'serve.db'}"


@pytest.fixture
def store(store_url: str, clock: FixedClock) -> Iterator[Store]:
    s = Store.from_url(store_url, clock.now)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def engine(clock: FixedClock) -> FakeEngine:
    return FakeEngine(clock)


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(
        store={"url": store_url},
        webhooks={"client_secret": SECRET, "public_url": PUBLIC_URL, "app_id": "777",
                  "max_body_bytes": 4096},
        admin={"token": ADMIN_TOKEN},
    )


def inbox_rows(store_url: str) -> list[dict[str, Any]]:
    """Every inbox row, read through a separate engine (what another process would see)."""
    eng = create_engine(store_url)
    try:
        with eng.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(inbox).order_by(inbox.c.item_id))]
    finally:
        eng.dispose()


def event(object_id: int, *, kind: str = "deal.propertyChange", prop: str | None = "dealstage",
          value: str | None = "closedwon", event_id: int = 1, occurred: int = 1_700_000_000_000,
          **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "eventId": event_id, "subscriptionId": 1, "portalId": 62515, "appId": 555,
        "occurredAt": occurred, "subscriptionType": kind, "attemptNumber": 0,
        "objectId": object_id, "changeSource": "CRM_UI",
    }
    if prop is not None:
        out["propertyName"] = prop
        out["propertyValue"] = value
    out.update(extra)
    return out


def signed(body: bytes | list[dict[str, Any]], clock: FixedClock, *,
           path: str = "/webhooks/hubspot", secret: str = SECRET,
           base: str = PUBLIC_URL) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    ts = str(int(clock.now().timestamp() * 1000))
    sig = sign_v3(secret, "POST", base + path, raw, ts)
    return raw, {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts,
                 "Content-Type": "application/json"}


@asynccontextmanager
async def serve_app(app: Starlette, base_url: str = "http://internal:8000"
                    ) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an in-process client to call it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
