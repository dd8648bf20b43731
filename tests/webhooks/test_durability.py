"""Durability: ``partner-sync serve`` killed (SIGKILL) after acknowledging an event, before the
worker could process it, processes it after a restart. Nothing acknowledged is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cli.runtime import build_runtime
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import free_port, serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock
from sync.store import Store
from tests.engine.seed import C, Seed, value
from tests.webhooks.conftest import SECRET, event, inbox_rows, signed

pytestmark = pytest.mark.slow


def wait_for(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def start_serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        assert process.poll() is None, "serve exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success
        except httpx.TransportError:
            return False

    wait_for(healthy)
    return process


def test_acknowledged_event_survives_a_kill(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    seed = Seed()
    seed.member("P1", "partner", today.replace(year=today.year - 2), "p1.example.com")
    config = SandboxConfig(rate_limits=RateLimitConfig(enabled=False))
    db = tmp_path / "serve.db"
    port = free_port()
    with serve_in_thread(config, SandboxState()) as sandbox:
        sandbox.state.bulk_load(seed.dataset())
        env = {**os.environ, "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
               "PARTNER_SYNC_HUBSPOT__BASE_URL": sandbox.url,
               "PARTNER_SYNC_STORE__URL": f"sqlite:///{db}",
               "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET": SECRET,
               "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL": f"http://127.0.0.1:{port}",
               "PARTNER_SYNC_SCHEDULER__ENABLED": "false", "PARTNER_SYNC_LOG_LEVEL": "WARNING"}
        runtime = build_runtime(load_settings_from(env))
        assert runtime.engine.full_sync().status == "ok"  # the mirror knows the members
        lock = runtime.engine.lock_name  # hold the engine's lock: the worker has to wait
        runtime.close()
        prospect = str(sandbox.state.create(sandbox.state.types["companies"], {
            "domain": "durable.com", C.registration_requested_by: "P1",
            C.registration_requested_at: today.isoformat()}).id)
        store = Store.from_url(f"sqlite:///{db}")
        assert store.try_lock(lock, "test", 3600)

        first = start_serve(env, port)
        body, headers = signed([event(int(prospect), kind="company.propertyChange",
                                      prop=C.registration_requested_by, value="P1")],
                               FixedClock(datetime.now(UTC)), base=f"http://127.0.0.1:{port}")
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/hubspot", content=body,
                            headers=headers)
        assert answer.status_code == 204, answer.text
        wait_for(lambda: (inbox_rows(f"sqlite:///{db}")[0]["last_error"] or "") == "sync busy")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert [r["status"] for r in inbox_rows(f"sqlite:///{db}")] == ["pending"]
        assert value(sandbox.state, "companies", prospect, C.registration_status) is None

        assert store.unlock(lock, "test")
        second = start_serve(env, port)
        try:
            wait_for(lambda: value(sandbox.state, "companies", prospect,
                                   C.registration_status) == "registered")
            wait_for(lambda: [r["status"] for r in inbox_rows(f"sqlite:///{db}")] == ["done"])
        finally:
            second.send_signal(signal.SIGTERM)  # graceful stop (uvicorn re-raises the signal)
            assert second.wait(30) in (0, -signal.SIGTERM)
            store.close()


def load_settings_from(env: dict[str, str]) -> Settings:
    names = {k: v for k, v in env.items() if k.startswith("PARTNER_SYNC_")}
    return Settings(
        hubspot={"access_token": names["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"],
                 "base_url": names["PARTNER_SYNC_HUBSPOT__BASE_URL"]},
        store={"url": names["PARTNER_SYNC_STORE__URL"]},
    )

