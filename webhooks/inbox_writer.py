"""Group commit for the inbox: many requests' events, one transaction.

A webhook request may only be answered 2xx once its events are durable. Committing each request
on its own costs one transaction (and on SQLite one writer slot) per request; instead requests
hand their events to one writer thread, which gathers whatever arrives within ``window_s`` (and
whatever queued up while the previous commit ran) and inserts it all in one transaction. Each
submitter's future resolves only after that commit, or fails with the commit's error, so a 2xx
always means "committed" and a failure means "answer 5xx, HubSpot will retry".
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from sync.store import InboxEvent

__all__ = ["GroupCommitWriter", "WriterClosed"]

log = logging.getLogger(__name__)

Insert = Callable[[Sequence[InboxEvent]], int]
"""Queue events in ONE transaction; return how many were new (``Store.inbox_insert``)."""
OnCommit = Callable[[int, int], None]
"""Called after each commit with (events submitted, events newly queued)."""


class WriterClosed(RuntimeError):
    """The writer is stopped: the request must be refused (5xx), not acknowledged."""


@dataclass(slots=True)
class _Submission:
    events: Sequence[InboxEvent]
    future: Future[None]


_STOP = object()


class GroupCommitWriter:
    """One writer thread committing batches of submissions. Thread-safe ``submit``."""

    def __init__(
        self,
        insert: Insert,
        *,
        window_s: float = 0.001,
        max_batch_events: int = 5_000,
        on_commit: OnCommit | None = None,
    ) -> None:
        self._insert = insert
        self._window_s = window_s
        self._max_batch_events = max_batch_events
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Submission | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._lock = threading.Lock()  # orders every submission before the stop marker

    def start(self) -> None:
        if self._thread is None:
            self._queue = queue.SimpleQueue()
            self._closed.clear()
            self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Commit everything submitted so far, then stop. Later submissions fail."""
        with self._lock:
            self._closed.set()
            self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def submit(self, events: Sequence[InboxEvent]) -> Future[None]:
        """Queue ``events`` for the next commit; the future resolves once they are durable."""
        future: Future[None] = Future()
        with self._lock:
            if self._closed.is_set() or self._thread is None:
                future.set_exception(WriterClosed("the inbox writer is not running"))
                return future
            self._queue.put(_Submission(events, future))
        return future

    async def write(self, events: Sequence[InboxEvent]) -> None:
        """``submit`` for async callers: returns after the commit, raises its error."""
        await asyncio.wrap_future(self.submit(events))

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Submission)
            batch, stopping = self._gather(first)
            self._commit(batch)
        self._fail_leftovers()

    def _gather(self, first: _Submission) -> tuple[list[_Submission], bool]:
        """Collect submissions for up to ``window_s`` or ``max_batch_events`` events."""
        batch = [first]
        count = len(first.events)
        deadline = time.monotonic() + self._window_s
        while count < self._max_batch_events:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Submission)
            batch.append(item)
            count += len(item.events)
        return batch, False

    def _commit(self, batch: list[_Submission]) -> None:
        events = [event for submission in batch for event in submission.events]
        try:
            new = self._insert(events) if events else 0
        except Exception as exc:  # any store failure: nobody in this batch is acknowledged
            log.warning("inbox commit of %d events failed: %s", len(events), type(exc).__name__)
            for submission in batch:
                submission.future.set_exception(exc)
            return
        for submission in batch:
            submission.future.set_result(None)
        if self._on_commit is not None:
            self._on_commit(len(events), new)

    def _fail_leftovers(self) -> None:
        # Submissions that raced with stop(): refuse them so their requests answer 5xx.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Submission):
                item.future.set_exception(WriterClosed("the inbox writer stopped"))
