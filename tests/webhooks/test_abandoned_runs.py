"""A replica killed with ``kill -9`` mid-run leaves its run ``running``; the next holder of the
portal's sync lock marks it ``abandoned``, and ``/admin/runs`` shows it so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from config.settings import HubSpotSettings, Settings
from sync.clock import FixedClock
from sync.engine import SyncEngine
from sync.engine.engine import PORTAL_ID_KEY
from sync.gateway import Gateway, token_fingerprint
from sync.store import Store
from tests.webhooks.conftest import ADMIN_TOKEN, serve_app
from webhooks.app import ServeParts, create_app

ROOT = Path(__file__).resolve().parents[2]


def _kill_mid_run(db: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.webhooks.abandoning_child", str(db)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(10)


async def test_a_run_killed_mid_way_is_marked_abandoned_by_the_next_holder(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    seed = Store.from_url(f"sqlite:///{db}")
    seed.migrate()
    with seed.transaction() as tx:
        tx.set_checkpoint(PORTAL_ID_KEY + token_fingerprint("t"), "62515")
    seed.close()
    _kill_mid_run(db)

    later = datetime.now(UTC) + timedelta(seconds=61)  # past the dead holder's lease
    store = Store.from_url(f"sqlite:///{db}", clock=lambda: later)
    settings = Settings(hubspot=HubSpotSettings(access_token=SecretStr("t"),
                                                base_url="http://127.0.0.1:9"),
                        admin={"token": ADMIN_TOKEN})
    gateway = Gateway(settings.hubspot)
    try:
        (stuck,) = store.list_runs()
        assert stuck.status == "running"
        engine = SyncEngine(settings, gateway=gateway, store=store, clock=FixedClock(later))
        assert engine.reevaluate().status == "ok"  # an empty mirror: no HubSpot call
        app = create_app(ServeParts(settings, store, engine, clock=FixedClock(later)))
        async with serve_app(app) as client:
            answer = await client.get("/admin/runs",
                                      headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        runs = {r["run_id"]: r for r in answer.json()["runs"]}
        assert runs[stuck.run_id]["status"] == "abandoned"
        assert runs[stuck.run_id]["finished_at"] is not None
        assert [r["status"] for r in runs.values()].count("ok") == 1
    finally:
        gateway.close()
        store.close()
