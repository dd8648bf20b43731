"""Group commit for the inbox: many requests' events, one transaction.

A webhook request may only be answered 2xx once its events are durable. Committing each request
on its own costs one transaction (and on SQLite one writer slot) per request; instead requests
hand their events to one writer thread, which gathers whatever arrives within ``window_s`` (and
whatever queued up while the previous commit ran) and inserts it all in one transaction. Each
submitter's future resolves only after that commit, or fails with the commit's error, so a 2xx
always means "committed" and a failure means "answer 5xx, HubSpot will retry".

Three writers share that contract (``InboxWriter``):
- ``LoopCommitWriter`` (SQLite): commits on the event loop's own thread, the requests of one
  loop iteration in one transaction, with no thread hand-off per request; it never waits for
  SQLite's lock on the loop: while another process writes, the batch goes to a
  ``GroupCommitWriter`` thread that waits for it;
- ``AsyncCommitWriter`` (PostgreSQL): commits through the async driver, one transaction in
  flight while the next batch gathers;
- ``GroupCommitWriter``: the writer thread (the fallback above, and member-portal routing).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from sync.store import InboxEvent

__all__ = [
    "AsyncCommitWriter", "Busy", "GroupCommitWriter", "InboxWriter", "LoopCommitWriter",
    "WriterClosed",
]

log = logging.getLogger(__name__)

Insert = Callable[[Sequence[InboxEvent]], int]
"""Queue events in ONE transaction; return how many were new (``Store.inbox_insert``)."""
OnCommit = Callable[[int, int], None]
"""Called after each commit with (events submitted, events newly queued)."""


class InboxWriter(Protocol):
    """What the receiver needs of a writer: ``write`` returns once the events committed.
    The app's lifespan calls ``start``, and at the end ``await drain()`` then ``stop``."""

    def start(self) -> None: ...

    async def write(self, events: Sequence[InboxEvent]) -> None: ...

    async def drain(self) -> None: ...

    def stop(self, timeout_s: float = 10.0) -> None: ...


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
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self._insert = insert
        self._on_stop = on_stop
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
        if self._on_stop is not None:
            self._on_stop()

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

    async def drain(self) -> None:
        """Nothing to wait for on the loop: ``stop`` commits what was submitted."""

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



class Busy(Exception):
    """``LoopCommitWriter``'s insert could not take the write lock without waiting."""


class LoopCommitWriter:
    """Group commit on the event loop's own thread, for a store that answers at once.

    Requests add their events to a pending list; the first one schedules a flush with
    ``call_soon``, which runs after every request that arrived in the same loop iteration has
    added its own, so one transaction commits them all, with no thread hand-off per request.
    ``insert`` must never wait for a lock (SQLite with no busy timeout: ``Busy`` at once);
    when it raises ``Busy`` (another process is writing) the batch goes to ``fallback``, the
    writer thread, which waits for the lock off the loop. Either way a future resolves only
    after the events' commit, so a 2xx always means "committed".
    """

    def __init__(self, insert: Insert, fallback: GroupCommitWriter, *,
                 busy: type[Exception] = Busy, on_commit: OnCommit | None = None,
                 on_stop: Callable[[], None] | None = None) -> None:
        self._insert = insert
        self._on_stop = on_stop
        self._fallback = fallback
        self._busy = busy
        self._on_commit = on_commit
        self._pending: list[tuple[Sequence[InboxEvent], asyncio.Future[None]]] = []
        self._scheduled = False
        self._running = False
        self.handed_off = 0  # batches the writer thread committed because the lock was held

    def start(self) -> None:
        self._fallback.start()
        self._running = True

    def stop(self, timeout_s: float = 10.0) -> None:
        """Commit what is pending, then stop the fallback thread. Later writes fail."""
        self._running = False
        if self._pending:
            self._flush()
        self._fallback.stop(timeout_s)
        if self._on_stop is not None:
            self._on_stop()

    async def write(self, events: Sequence[InboxEvent]) -> None:
        """Returns once ``events`` are committed; raises the commit's error."""
        future = _enqueue(self._pending, events, running=self._running)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        await future

    async def drain(self) -> None:
        """Nothing in flight on the loop between iterations; ``stop`` flushes the rest."""

    def _flush(self) -> None:
        batch, self._pending, self._scheduled = self._pending, [], False
        events = [event for submitted, _ in batch for event in submitted]
        if not events:
            return
        try:
            new = self._insert(events)
        except self._busy:
            self.handed_off += 1
            self._hand_off(batch, events)
            return
        except Exception as exc:  # any store failure: nobody in this batch is acknowledged
            log.warning("inbox commit of %d events failed: %s", len(events), type(exc).__name__)
            _settle(batch, exc)
            return
        _settle(batch, None)
        if self._on_commit is not None:
            self._on_commit(len(events), new)

    def _hand_off(self, batch: list[tuple[Sequence[InboxEvent], asyncio.Future[None]]],
                  events: list[InboxEvent]) -> None:
        loop = asyncio.get_running_loop()
        done = self._fallback.submit(events)

        def settle(finished: Future[None]) -> None:
            loop.call_soon_threadsafe(_settle, batch, finished.exception())

        done.add_done_callback(settle)


AsyncInsert = Callable[[Sequence[InboxEvent]], Awaitable[int]]


def _enqueue(pending: list[tuple[Sequence[InboxEvent], asyncio.Future[None]]],
             events: Sequence[InboxEvent], *, running: bool) -> asyncio.Future[None]:
    """Queue ``events`` for the loop's next commit; the future resolves once they are committed.
    A writer that is not running refuses them (``WriterClosed``)."""
    if not running:
        raise WriterClosed("the inbox writer is not running")
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    pending.append((events, future))
    return future


class AsyncCommitWriter:
    """Group commit on the event loop with an async insert (PostgreSQL's async driver).

    One transaction is in flight at a time; requests that arrive while it waits on the
    database form the next batch, committed as soon as it returns. No thread, no hand-off: the
    loop waits on the socket. A future resolves only after its events' commit.
    """

    def __init__(self, insert: AsyncInsert, *, on_commit: OnCommit | None = None,
                 on_close: Callable[[], Awaitable[None]] | None = None) -> None:
        self._insert = insert
        self._on_commit = on_commit
        self._on_close = on_close
        self._pending: list[tuple[Sequence[InboxEvent], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        self._running = True

    async def write(self, events: Sequence[InboxEvent]) -> None:
        future = _enqueue(self._pending, events, running=self._running)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_all())
        await future

    async def _flush_all(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                events = [event for submitted, _ in batch for event in submitted]
                try:
                    new = await self._insert(events)
                except Exception as exc:  # nobody in this batch is acknowledged
                    log.warning("inbox commit of %d events failed: %s", len(events),
                                type(exc).__name__)
                    _settle(batch, exc)
                    continue
                _settle(batch, None)
                if self._on_commit is not None:
                    self._on_commit(len(events), new)
        finally:
            self._task = None

    async def drain(self) -> None:
        """Stop taking writes, commit what was taken, close the connection."""
        self._running = False
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._on_close is not None:
            await self._on_close()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._running = False


def _settle(batch: list[tuple[Sequence[InboxEvent], asyncio.Future[None]]],
            error: BaseException | None) -> None:
    for _, future in batch:
        if future.done():  # its request was cancelled (the client went away)
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
