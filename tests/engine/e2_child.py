"""A sync in a child process (killed on purpose by ``test_traps``).

``python -m tests.engine.e2_child URL DB_PATH ISO_INSTANT``: one incremental sync of the sandbox
at ``URL`` into the SQLite store ``DB_PATH``, with the engine's clock fixed at ``ISO_INSTANT``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from tests.engine.e2_rig import settings_for


def main(url: str, db: str, at: str) -> None:
    settings = settings_for(url, Path(db))
    store = Store.from_url(settings.store.url)
    gateway = Gateway(settings.hubspot)
    engine = SyncEngine(settings, gateway=gateway, store=store,
                        clock=FixedClock(datetime.fromisoformat(at)))
    engine.incremental_sync()
    gateway.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
