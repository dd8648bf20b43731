"""A sync run in a child process that the test kills with ``kill -9`` mid-run.

``python -m tests.webhooks.abandoning_child DB_PATH``: starts one run under the sync lock on
the SQLite store ``DB_PATH`` (the portal id is already in the store), prints ``ready`` once the
run is open, then waits to be killed.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings
from sync.engine import ReadOutcome, SyncEngine
from sync.gateway import Gateway
from sync.store import Store


def _hang(_started_at: datetime, _dry_run: bool) -> ReadOutcome:
    print("ready", flush=True)
    time.sleep(120)
    raise SystemExit("not killed in time")


def main(db: str) -> None:
    settings = Settings(hubspot=HubSpotSettings(access_token=SecretStr("t"),
                                                base_url="http://127.0.0.1:9"))
    store = Store.from_url(f"sqlite:///{db}")
    gateway = Gateway(settings.hubspot)
    SyncEngine(settings, gateway=gateway, store=store).execute(
        "incremental", trigger="schedule", read=_hang)


if __name__ == "__main__":
    main(sys.argv[1])
