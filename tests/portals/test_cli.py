"""``partner-sync portals invite | list | sync | disconnect`` against the multi-portal sandbox."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.portals.rig import ALPHA_HUB, Rig, portal_rig


def _env(rig: Rig) -> dict[str, str]:
    p = rig.settings.portals
    assert p.client_secret is not None
    assert p.token_key is not None
    return {
        "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "sandbox-token",
        "PARTNER_SYNC_HUBSPOT__BASE_URL": rig.sandbox.url,
        "PARTNER_SYNC_STORE__URL": rig.settings.store.url.get_secret_value(),
        "PARTNER_SYNC_PORTALS__CLIENT_ID": p.client_id or "",
        "PARTNER_SYNC_PORTALS__CLIENT_SECRET": p.client_secret.get_secret_value(),
        "PARTNER_SYNC_PORTALS__TOKEN_KEY": p.token_key.get_secret_value(),
        "PARTNER_SYNC_PORTALS__INSTALL_URL": p.install_url or "",
        "PARTNER_SYNC_PORTALS__REDIRECT_URL": p.redirect_url or "",
        "PARTNER_SYNC_PORTALS__AUTHORIZE_URL": p.authorize_url,
        "PARTNER_SYNC_LOG_LEVEL": "WARNING",
    }


def test_invite_list_sync_and_disconnect(tmp_path: Path) -> None:
    runner = CliRunner()
    with portal_rig(tmp_path) as rig:
        env = _env(rig)
        invite = runner.invoke(app, ["portals", "invite", "alpha"], env=env)
        assert invite.exit_code == 0, invite.output
        assert invite.stdout.startswith("http://serve.test/oauth/install?state=")
        unknown = runner.invoke(app, ["portals", "invite", "NOPE"], env=env)
        assert unknown.exit_code == 1
        assert "no program member has partner code 'NOPE'" in unknown.output
        empty = runner.invoke(app, ["portals", "list"], env=env)
        assert "no member portals connected" in empty.stdout
        rig.connect("ALPHA", ALPHA_HUB)
        synced = runner.invoke(app, ["portals", "sync", "ALPHA", "--json"], env=env)
        assert synced.exit_code == 0, synced.output
        outcomes = json.loads(synced.stdout)
        assert {o["status"] for o in outcomes} == {"done"}
        listed = json.loads(runner.invoke(app, ["portals", "list", "--json"], env=env).stdout)
        assert [(r["member"], r["hub_id"], r["status"]) for r in listed] == [
            ("ALPHA", ALPHA_HUB, "connected")]
        assert listed[0]["calls_used"] > 0
        gone = runner.invoke(app, ["portals", "disconnect", "ALPHA"], env=env)
        assert gone.exit_code == 0
        text = runner.invoke(app, ["portals", "list"], env=env).stdout
        assert "disconnected" in text
        assert env["PARTNER_SYNC_PORTALS__CLIENT_SECRET"] not in text
        failed = runner.invoke(app, ["portals", "sync"], env=env)
        assert failed.exit_code == 0  # nothing connected: nothing to do
