"""`partner-sync serve` as a process, as a user runs it: its stderr is JSON lines only (uvicorn's
included), a delivery with a wrong secret is refused with 401 and logged with its reason, and
the scheduler's per-job lines stay out of an INFO log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from sandbox.server import RunningSandbox, free_port
from tests.cli.conftest import env_for

ROOT = Path(__file__).resolve().parents[2]
RUN_CLI = "import sys; from cli.main import run; sys.argv[0] = 'partner-sync'; run()"


def _wait_listening(url: str, process: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "serve exited early"
        try:
            httpx.get(url + "/healthz", timeout=0.5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("serve did not start")


@pytest.mark.slow
def test_serve_logs_json_only_and_names_a_refused_webhook(
    portal: RunningSandbox, store_url: str
) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PARTNER_SYNC_")}
    env.update(env_for(portal.url, store_url,
                       PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET="the-right-secret",
                       PARTNER_SYNC_WEBHOOKS__PUBLIC_URL=f"http://127.0.0.1:{port}",
                       PARTNER_SYNC_SCHEDULER__INBOX_INTERVAL_SECONDS="1",
                       PARTNER_SYNC_LOG_FORMAT="auto"))  # stderr is a pipe: JSON
    process = subprocess.Popen([sys.executable, "-c", RUN_CLI, "serve", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_listening(f"http://127.0.0.1:{port}", process)
        answer = httpx.post(f"http://127.0.0.1:{port}/webhooks/hubspot", content=b"[]", headers={
            "X-HubSpot-Signature-v3": "d3Jvbmc=",
            "X-HubSpot-Request-Timestamp": str(int(time.time() * 1000))})
        time.sleep(2.2)  # two inbox ticks of the scheduler
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)

    assert answer.status_code == 401
    lines = [orjson.loads(line) for line in err.decode().splitlines()]  # every line is JSON
    loggers = {line["logger"] for line in lines}
    assert "uvicorn.error" in loggers
    assert not any(name.startswith("apscheduler") for name in loggers)
    [refusal] = [line for line in lines if line["logger"] == "partner_sync.webhooks"]
    assert refusal["msg"].startswith("webhook refused with 401: signature_mismatch")
    assert "the-right-secret" not in err.decode()
    # uvicorn stops gracefully, then re-raises the signal it caught (exit status "terminated").
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in {line["msg"] for line in lines}
