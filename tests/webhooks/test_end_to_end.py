"""End to end: the sandbox delivers real signed webhooks over HTTP to the serve app (uvicorn on
a thread) running the real engine, worker and inbox. A deal closed in the "CRM" gets its
attribution and commission properties, a new registration request gets its status, duplicate
and out-of-order deliveries change nothing twice, and our own writes cause no further writes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.server import RunningSandbox, free_port, serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock, SystemClock
from tests.engine.seed import C, Seed, value
from tests.webhooks.conftest import SECRET, event, inbox_rows, signed

pytestmark = pytest.mark.slow

APP_ID = 1000001


@dataclass
class World:
    sandbox: RunningSandbox
    server: ServerThread
    store_url: str
    deal: str
    prospects: dict[str, str]

    def writes(self) -> int:
        snapshot = self.server.parts.metrics.registry.get_sample_value
        total = 0.0
        for label in ("POST /crm/v3/objects/{type}/batch/update",):
            total += snapshot("partner_sync_hubspot_calls_total", {"endpoint": label}) or 0.0
        return int(total)

    def settle(self, timeout_s: float = 15.0) -> None:
        """Wait until the sandbox delivered everything and the inbox is empty, twice over
        (our writes' echoes arrive after the writes)."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while quiet < 3:
            assert time.monotonic() < deadline, "the system did not settle"
            self.sandbox.drain_webhooks(timeout_s)
            open_rows = [r for r in inbox_rows(self.store_url)
                         if r["status"] in ("pending", "claimed")]
            quiet = quiet + 1 if not open_rows else 0
            time.sleep(0.1)


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    port = free_port()
    config = SandboxConfig(
        rate_limits=RateLimitConfig(enabled=False),
        webhooks=WebhookConfig(url=f"http://127.0.0.1:{port}/webhooks/hubspot",
                               client_secret=SECRET, app_id=APP_ID, batch_window_s=0.02),
    )
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com",
                **{C.paperwork_completed_at: "2023-02-01"})
    acme = seed.prospect("acme.com", by="P1", at=date(2024, 1, 10))
    deal = seed.deal(acme, closed=None, created=date(2024, 2, 1))
    seed.member("P2", "partner", date(2023, 1, 1), "p2.example.com")
    other = seed.prospect("other.com", by="P2", at=date(2024, 1, 10))
    store_url = f"sqlite:///{tmp_path / 'serve.db'}"
    with serve_in_thread(config, SandboxState()) as sandbox:
        sandbox.state.bulk_load(seed.dataset())
        settings = Settings(
            hubspot={"access_token": SecretStr("sandbox-token"), "base_url": sandbox.url,
                     "rate_limit_per_10s": 1000, "search_per_s": 50},
            store={"url": store_url},
            webhooks={"client_secret": SECRET, "public_url": f"http://127.0.0.1:{port}",
                      "app_id": str(APP_ID)},
            admin={"token": "t"}, scheduler={"enabled": False},
        )
        runtime = build_runtime(settings, clock=FixedClock(datetime(2024, 6, 1, 12, tzinfo=UTC)))
        assert runtime.engine.full_sync().status == "ok"
        parts = build_parts(runtime, clock=SystemClock())
        try:
            with ServerThread(parts, port=port) as server:
                world = World(sandbox, server, store_url, deal, {"P1": acme, "P2": other})
                world.settle()  # the initial sync's own writes come back as echoes
                yield world
        finally:
            runtime.close()


def test_deal_close_and_new_registration_flow_through_webhooks(world: World) -> None:
    state = world.sandbox.state
    deals = state.types["deals"]
    assert value(state, "deals", world.deal, C.attributed_to) is None
    state.update(deals, deals.records[int(world.deal)],
                 {"dealstage": "closedwon", "closedate": "2024-05-20T00:00:00.000Z"})
    latency_s = wait_for(lambda: value(state, "deals", world.deal, C.attributed_to) == "P1")
    assert latency_s < 5.0
    assert value(state, "deals", world.deal, C.attribution) == "registered"
    assert value(state, "deals", world.deal, C.commission_plan) == "partner_36"

    companies = state.types["companies"]
    new = state.create(companies, {"domain": "newco.com", C.registration_requested_by: "P1",
                                   C.registration_requested_at: "2024-05-30"})
    wait_for(lambda: value(state, "companies", str(new.id), C.registration_status) is not None)
    assert value(state, "companies", str(new.id), C.registration_status) == "registered"
    assert value(state, "companies", str(new.id), C.registered_to) == "P1"

    world.settle()
    writes = world.writes()
    registry = world.server.parts.metrics.registry
    echoes = registry.get_sample_value("partner_sync_worker_events_total", {"outcome": "echoes"})
    settled = registry.get_sample_value("partner_sync_inbox_events_settled_total")
    assert (echoes or 0) + (settled or 0) > 0  # our writes came back ...
    time.sleep(1.0)
    world.settle()
    assert world.writes() == writes  # ... and caused no further writes


def test_duplicate_and_out_of_order_deliveries_change_nothing_twice(world: World) -> None:
    clock = SystemClock()
    now_ms = int(clock.now().timestamp() * 1000)
    stale = event(int(world.deal), prop="dealstage", value="closedwon", event_id=9,
                  occurred=now_ms - 60_000)
    fresh = event(int(world.deal), prop="dealstage", value="appointmentscheduled",
                  event_id=10, occurred=now_ms)
    writes = world.writes()
    rows_before = len(inbox_rows(world.store_url))
    url = world.server.url + "/webhooks/hubspot"
    with httpx.Client() as http:
        fixed = FixedClock(clock.now())
        for batch in ([fresh, stale], [stale], [fresh], [fresh, stale]):  # dupes, reversed order
            body, headers = signed(batch, fixed, base=world.server.url)
            assert http.post(url, content=body, headers=headers).status_code == 204
    world.settle()
    assert len(inbox_rows(world.store_url)) == rows_before + 2  # each event queued once
    assert world.writes() == writes  # events are hints: the deal did not change, nothing written
    assert value(world.sandbox.state, "deals", world.deal, "dealstage") == "appointmentscheduled"


def test_admin_resync_of_one_member_touches_only_its_records(world: World) -> None:
    state = world.sandbox.state
    companies = state.types["companies"]
    for prospect in world.prospects.values():  # outputs lost out of band (echoes: no work)
        state.update(companies, companies.records[int(prospect)], {C.registered_to: ""})
    world.settle()
    answer = httpx.post(world.server.url + "/admin/resync", json={"member": "P1"},
                        headers={"Authorization": "Bearer t"}, timeout=30)
    assert answer.status_code == 200
    touched = {(p["object_type"], p["object_id"]) for p in answer.json()["patches"]}
    assert touched == {("companies", world.prospects["P1"])}
    assert value(state, "companies", world.prospects["P1"], C.registered_to) == "P1"
    assert value(state, "companies", world.prospects["P2"], C.registered_to) in (None, "")
    run = httpx.get(f"{world.server.url}/admin/runs/{answer.json()['run_id']}",
                    headers={"Authorization": "Bearer t"}).json()
    assert run["trigger"] == "admin"
