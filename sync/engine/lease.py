"""The sync lock held for a run: a short lease, renewed by a heartbeat while the run lasts.

On SQLite the lock is a row with a lease (``Store.acquire_lock``). A short lease (``LEASE_S``,
``PARTNER_SYNC_SYNC__LOCK_LEASE_S``) renewed every ``lease_s / 3`` by a daemon thread frees the
lock within a minute of a crash, while a live run, however long, keeps it. PostgreSQL holds the
lock on a session; a renewal checks that session still answers.

Holding is proven, not assumed: ``fence`` (owner and fencing token) is checked inside the
transaction that commits the run (``Transaction.check_fence``), and ``ensure_held`` stops a run
that has already seen its lease lost before it pushes anything more. Right after taking the lock,
runs of earlier holders that never finished are marked ``abandoned``.
"""

from __future__ import annotations

import logging
import threading
import uuid

from sync.store import Fence, LockLost, Store

__all__ = ["LEASE_S", "LockLease"]

LEASE_S = 60.0
"""How long a crashed holder keeps the lock, at most (the setting's default)."""

log = logging.getLogger(__name__)


class LockLease:
    """``with LockLease(store, name) as held:`` -> ``held`` is False when another owner holds
    the lock; otherwise the lock is renewed until the block ends, then released.

    ``renewals`` counts successful renewals; ``lost`` turns True if a renewal found the lock
    taken by someone else (the heartbeat was late by more than a lease), which is logged.
    """

    def __init__(self, store: Store, name: str, *, lease_s: float = LEASE_S,
                 interval_s: float | None = None) -> None:
        self.store, self.name, self.lease_s = store, name, lease_s
        self.interval_s = lease_s / 3 if interval_s is None else interval_s
        self.owner = uuid.uuid4().hex
        self.fence: Fence | None = None
        self.renewals = 0
        self.lost = False
        self.abandoned: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> bool:
        self.fence = self.store.acquire_lock(self.name, self.owner, self.lease_s)
        if self.fence is None:
            return False
        self._thread = threading.Thread(target=self._beat, name=f"lease:{self.name}",
                                        daemon=True)
        self._thread.start()
        try:
            self.abandoned = self.store.abandon_runs(self.fence)
        except Exception:  # bookkeeping only: the run itself can go on
            log.warning("marking abandoned runs under %s failed", self.name, exc_info=True)
        if self.abandoned:
            log.warning("runs %s were abandoned by a holder of %s that is gone",
                        self.abandoned, self.name)
        return True

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.store.unlock(self.name, self.owner)

    def ensure_held(self) -> None:
        """Raise ``LockLost`` when the lock is known to be lost (push no further)."""
        if self.fence is None or self.lost:
            raise LockLost(f"this run lost the sync lock {self.name}")

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                renewed = self.store.acquire_lock(self.name, self.owner, self.lease_s)
            except Exception:  # a store hiccup: try again at the next beat, the lease runs on
                log.warning("renewing the sync lock %s failed", self.name, exc_info=True)
                continue
            if renewed is not None and renewed == self.fence:
                self.renewals += 1
            else:  # someone took it over; renewing later could snatch it back mid-run
                self.lost = True
                log.warning("the sync lock %s was taken over: the lease ran out", self.name)
                return
