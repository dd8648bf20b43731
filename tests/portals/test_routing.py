"""The receiver routes each webhook event by portalId: program events to the inbox, member-portal
events to that portal's inbound job (echoes of our own outputs ignored), unknown portals
counted and dropped."""

from __future__ import annotations

from pathlib import Path

from cli.serve import build_parts
from sync.clock import SystemClock
from tests.portals.rig import ALPHA_HUB, portal_rig
from tests.webhooks.conftest import PUBLIC_URL, SECRET, event, serve_app, signed
from webhooks.app import create_app
from webhooks.console.portals import member_portals


async def test_events_are_routed_by_portal(tmp_path: Path) -> None:
    overrides = {"webhooks": {"client_secret": SECRET, "public_url": PUBLIC_URL},
                 "admin": {"token": "admin-secret"}}
    with portal_rig(tmp_path, settings_overrides=overrides, program_portal_id=62515) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        parts = build_parts(rig.runtime, scheduler=False, worker=False)
        request = event(11, kind="company.propertyChange", prop="partner_registration_requested_at",
                        value="2026-12-01", event_id=1, portalId=ALPHA_HUB)
        echo = event(11, kind="company.propertyChange", prop="partner_registration_status",
                     value="registered", event_id=2, portalId=ALPHA_HUB)
        program = event(3001, event_id=3)
        stranger = event(5, event_id=4, portalId=999)
        body, headers = signed([request, echo, program, stranger], SystemClock())  # type: ignore[arg-type]
        async with serve_app(create_app(parts)) as client:
            answer = await client.post("/webhooks/hubspot", content=body, headers=headers)
            metrics = (await client.get("/metrics")).text
            refused = await client.get("/admin/portals")
            listed = await client.get("/admin/portals",
                                      headers={"Authorization": "Bearer admin-secret"})
        assert refused.status_code == 401
        assert [(p["member"], p["status"]) for p in listed.json()["portals"]] == [
            ("ALPHA", "connected")]
        assert answer.status_code == 204
        assert rig.runtime.store.inbox_depth() == 1
        assert rig.parts.repo.job_counts() == {"done": 1, "pending": 1}
        [job] = rig.parts.repo.claim("t", 10, 60)
        assert (job.hub_id, job.kind) == (ALPHA_HUB, "inbound")
        for route in ("member", "echo", "program", "unknown"):
            assert f'partner_sync_webhook_events_routed_total{{route="{route}"}} 1.0' in metrics


def test_the_console_lists_connected_portals(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        assert member_portals(rig.runtime.store) == []
        rig.connect("ALPHA", ALPHA_HUB)
        [row] = member_portals(rig.runtime.store)
        assert (row.member_code, row.portal_id, row.status) == ("ALPHA", ALPHA_HUB, "connected")
