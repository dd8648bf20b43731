"""The serve process answers webhooks while its worker is stuck in a long sync.

The worker process here runs an engine whose targeted sync spends seconds inside one C call that
holds the GIL (a backtracking regular expression), the way a long evaluation or a large parse
would. Were the worker on a thread of the receiving process, no request could be answered until
that call returned; in its own process it cannot hold the receiver up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts, worker_id
from cli.worker_process import ChildParts
from config.settings import Settings
from sync.clock import FixedClock, SystemClock
from sync.store import Store
from tests.webhooks.conftest import event, inbox_rows, signed
from webhooks.loop import WorkerLoop
from webhooks.worker import InboxWorker, RedeliveryPolicy

HOG_S = 3.0
ANSWER_WITHIN_S = 1.0


def _busy_marker(settings: Settings) -> Path:
    return Path(settings.store.url.get_secret_value().removeprefix("sqlite:///")).with_name("worker-busy")


class StuckEngine:
    """A sync that holds the GIL in C for about ``HOG_S`` (in slices of a fraction of that)."""

    def __init__(self, marker: Path) -> None:
        self._marker = marker

    def targeted_sync(self, records: Sequence[tuple[str, str]], *, as_of: date | None = None,
                      trigger: str = "webhook") -> Any:
        self._marker.write_text("busy")
        until = time.monotonic() + HOG_S
        while time.monotonic() < until:
            re.fullmatch(r"(a|aa)*c", "a" * 35)  # ~1.5 s per call here
        raise RuntimeError("stuck sync gave up")


def stuck_worker(settings: Settings, scheduler: bool, retry: RedeliveryPolicy | None,
                 report: Any) -> ChildParts:
    """The worker process's parts (module level: the child imports it by name)."""
    store = Store.from_url(settings.store.url)
    engine = StuckEngine(_busy_marker(settings))
    worker = InboxWorker(store, engine,  # type: ignore[arg-type]
                         clock=SystemClock(), output_properties=(), app_id=None,
                         worker_id=worker_id(), retry=retry)
    return ChildParts(WorkerLoop(worker, poll_s=0.2), None, store.close)


@pytest.mark.slow
def test_a_signed_batch_is_answered_while_the_worker_is_stuck(settings: Settings) -> None:
    settings = settings.model_copy(update={
        "hubspot": settings.hubspot.model_copy(
            update={"base_url": "http://127.0.0.1:9", "access_token": SecretStr("unused")}),
        "webhooks": settings.webhooks.model_copy(update={"max_body_bytes": 1_048_576}),
    })
    runtime = build_runtime(settings)
    clock = FixedClock(datetime.now(UTC))
    parts = build_parts(runtime, clock=clock, scheduler=False, worker_process=True,
                        worker_factory=stuck_worker)
    marker = _busy_marker(settings)
    try:
        with ServerThread(parts) as server, httpx.Client(base_url=server.url) as client:
            base = settings.webhooks.public_url or ""
            body, headers = signed([event(1, event_id=1)], clock, base=base)
            assert client.post("/webhooks/hubspot", content=body, headers=headers
                               ).status_code == 204
            deadline = time.monotonic() + 30
            while not marker.exists():  # the worker process claimed the event and is stuck
                assert time.monotonic() < deadline, "the worker never started its sync"
                time.sleep(0.05)

            batch = [event(1000 + n, event_id=1000 + n) for n in range(100)]
            body, headers = signed(batch, clock, base=base)
            started = time.perf_counter()
            answer = client.post("/webhooks/hubspot", content=body, headers=headers)
            elapsed = time.perf_counter() - started

            assert answer.status_code == 204
            assert elapsed < ANSWER_WITHIN_S
            rows = inbox_rows(settings.store.url.get_secret_value())
            assert len(rows) == 101
            assert rows[0]["status"] == "claimed"  # still inside the stuck sync
    finally:
        runtime.close()
