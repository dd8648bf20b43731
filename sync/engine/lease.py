"""The sync lock held for a run: a short lease, renewed by a heartbeat while the run lasts.

On SQLite the lock is a row with a lease (``Store.try_lock``). A lease of an hour meant that a
crashed run blocked every sync for up to an hour; a short lease (``LEASE_S``) renewed every
``lease_s / 3`` by a daemon thread frees the lock within a minute of a crash, while a live run,
however long, keeps it. (PostgreSQL holds the lock on a session and ignores the lease; the
renewals are then no-ops.)
"""

from __future__ import annotations

import logging
import threading
import uuid

from sync.store import Store

__all__ = ["LEASE_S", "LockLease"]

LEASE_S = 60.0
"""How long a crashed holder keeps the lock, at most."""

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
        self.renewals = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> bool:
        if not self.store.try_lock(self.name, self.owner, self.lease_s):
            return False
        self._thread = threading.Thread(target=self._beat, name=f"lease:{self.name}",
                                        daemon=True)
        self._thread.start()
        return True

    def __exit__(self, *exc: object) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.store.unlock(self.name, self.owner)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                renewed = self.store.try_lock(self.name, self.owner, self.lease_s)
            except Exception:  # a store hiccup: try again at the next beat, the lease runs on
                log.warning("renewing the sync lock %s failed", self.name, exc_info=True)
                continue
            if renewed:
                self.renewals += 1
            else:  # someone took it over; renewing later could snatch it back mid-run
                self.lost = True
                log.warning("the sync lock %s was taken over: the lease ran out", self.name)
                return
