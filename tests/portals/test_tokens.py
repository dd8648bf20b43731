"""Access tokens are refreshed before they expire (or when HubSpot says they expired); a refused
refresh disconnects the portal and nothing crashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from cli.doctor_member_portals import member_portal_checks
from config.settings import Settings
from sync.clock import SystemClock
from sync.portals import list_portals
from sync.portals.oauth_client import OAuthUnavailable
from sync.portals.repo import PortalRepo
from sync.portals.session import PortalSessions
from sync.portals.vault import TokenVault
from sync.store import Store
from tests.engine.seed import C
from tests.portals.rig import ALPHA_HUB, BETA_HUB, portal_rig


def test_short_lived_tokens_are_refreshed_before_each_expiry(tmp_path: Path) -> None:
    with portal_rig(tmp_path, lifetime_s=60, refresh_margin_s=120) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        issued = rig.portals.oauth.token_requests  # the code exchange
        rig.parts.worker.drain()
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        [outcome] = rig.parts.worker.drain()
        assert outcome.status == "done"
        assert rig.portals.oauth.token_requests == issued + 2  # one refresh per job
        assert rig.companies(ALPHA_HUB)["shop-a.com"][C.registration_status] == "converted"


def test_an_access_token_hubspot_expired_early_is_refreshed_and_the_job_retried(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        rig.portals.oauth.expire_access_tokens(ALPHA_HUB)
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        outcomes = rig.parts.worker.drain()
        assert [o.status for o in outcomes] == ["retry", "done"]


def test_a_revoked_refresh_token_disconnects_the_portal_and_spares_the_others(
        tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.connect("BETA", BETA_HUB)
        rig.parts.worker.drain()
        rig.portals.oauth.revoke(ALPHA_HUB)  # ALPHA uninstalled the app
        rig.parts.repo.enqueue([ALPHA_HUB, BETA_HUB], "inbound")
        outcomes = {o.job.hub_id: o for o in rig.parts.worker.drain() if o.status != "retry"}
        assert outcomes[BETA_HUB].status == "done"
        assert outcomes[ALPHA_HUB].status == "failed"
        assert "install the app again" in (outcomes[ALPHA_HUB].error or "")
        status = {p.member_code: (p.status, p.last_error) for p in list_portals(rig.runtime.store)}
        assert status == {"ALPHA": ("disconnected", "refresh refused: BAD_REFRESH_TOKEN"),
                          "BETA": ("connected", None)}
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        [again] = rig.parts.worker.drain()
        assert again.status == "failed"  # disconnected: no call is even tried


def test_a_changed_token_key_disconnects_instead_of_failing_forever(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        other = rig.settings.portals.model_copy(
            update={"token_key": SecretStr(Fernet.generate_key().decode())})
        rig.parts.sessions.vault = TokenVault(other)
        rig.parts.sessions.repo.expire_access(ALPHA_HUB)  # the next job must open a stored token
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        [outcome] = rig.parts.worker.drain()
        assert outcome.status == "failed"
        [portal] = list_portals(rig.runtime.store)
        assert portal.status == "disconnected"
        assert "does not decrypt" in (portal.last_error or "")


def test_doctor_warns_about_a_disconnected_portal(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        rig.connect("ALPHA", ALPHA_HUB)
        rig.parts.worker.drain()
        assert [c.status for c in member_portal_checks(rig.settings, True)] == ["ok"]
        rig.portals.oauth.revoke(ALPHA_HUB)
        rig.parts.repo.expire_access(ALPHA_HUB)
        rig.parts.repo.enqueue([ALPHA_HUB], "inbound")
        rig.parts.worker.drain()
        [check] = member_portal_checks(rig.settings, True)
        assert check.status == "warn"
        assert "ALPHA (refresh refused: BAD_REFRESH_TOKEN)" in check.detail
        assert "portals invite" in (check.fix or "")


def test_a_token_endpoint_outage_during_refresh_keeps_the_portal_connected(
        tmp_path: Path) -> None:
    settings = Settings(
        hubspot={"base_url": "http://hubspot.test"},
        portals={"client_id": "id", "client_secret": SecretStr("s"),
                 "token_key": SecretStr(Fernet.generate_key().decode())})
    store = Store.from_url(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    repo = PortalRepo(store)
    vault = TokenVault(settings.portals)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    repo.save_connection(5, "ALPHA", ("oauth",), vault.seal("refresh"), vault.seal("old"),
                         long_ago)
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={}))
    with httpx.Client(transport=transport) as http:
        sessions = PortalSessions(settings, repo, http, SystemClock())
        with pytest.raises(OAuthUnavailable, match="503"):
            sessions.gateway(5)
    row = repo.get(5)
    assert row is not None
    assert row.status == "connected"
    store.close()
