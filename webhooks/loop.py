"""``WorkerLoop``: runs an ``InboxWorker`` on its own thread until stopped.

It passes again at once while passes find work, otherwise sleeps until ``wake()`` (the receiver
calls it after each inbox commit, so a deal close reaches the engine within milliseconds) or
``poll_s`` (events released for a later retry come due without anyone waking us). A pass whose
events all waited (busy, or an outage) sleeps too. A pass that
raises (store down) is logged and retried after ``poll_s``; the thread never dies of it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from webhooks.worker import InboxWorker, PassResult

__all__ = ["WorkerLoop"]

log = logging.getLogger(__name__)


class WorkerLoop:
    def __init__(
        self,
        worker: InboxWorker,
        *,
        poll_s: float = 1.0,
        on_pass: Callable[[PassResult], None] | None = None,
    ) -> None:
        self._worker = worker
        self._poll_s = poll_s
        self._on_pass = on_pass
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="inbox-worker", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Ask for a pass now (cheap; safe from any thread)."""
        self._wake.set()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Finish the pass under way (its targeted sync included), then stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                result = self._worker.run_once()
            except Exception:
                log.exception("inbox worker pass failed")
                self._stop.wait(self._poll_s)
                continue
            self.passes += 1
            if self._on_pass is not None:
                self._on_pass(result)
            # A full batch or progress means more may be waiting; otherwise sleep until woken.
            if result.claimed == 0 or result.busy + result.outage >= result.claimed:
                self._wake.wait(self._poll_s)
