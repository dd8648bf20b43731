"""``ClaimKeeper``: renews a worker's inbox claims while it works on them.

Claims are short (``claim_lease_s``) so a worker that dies frees its events quickly; a worker
that lives renews them every ``claim_renew_s`` from a daemon thread, however long the targeted
syncs take. A renewal that fails (store hiccup) is logged and tried again at the next beat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from sync.store import Store

__all__ = ["ClaimKeeper"]

log = logging.getLogger(__name__)


class ClaimKeeper:
    """``with ClaimKeeper(store, worker_id, ids, lease_s, renew_s):`` renews until the block
    ends. ``renewals`` counts the beats that renewed at least one claim."""

    def __init__(self, store: Store, worker_id: str, item_ids: Sequence[int], *,
                 lease_s: float, renew_s: float) -> None:
        self._store, self._worker_id = store, worker_id
        self._ids = list(item_ids)
        self._lease_s, self._renew_s = lease_s, renew_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def __enter__(self) -> ClaimKeeper:
        if self._ids:
            self._thread = threading.Thread(target=self._beat, name="inbox-claims",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _beat(self) -> None:
        while not self._stop.wait(self._renew_s):
            try:
                held = self._store.inbox_renew(self._worker_id, self._ids, self._lease_s)
            except Exception:
                log.warning("renewing %d inbox claims failed", len(self._ids), exc_info=True)
                continue
            if held:
                self.renewals += 1
