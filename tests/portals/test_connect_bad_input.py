"""Bad installs: each a clear 4xx/502 answer, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from config.settings import PortalSettings
from sync.clock import SystemClock
from sync.portals import list_portals
from sync.portals.connect import ConnectError, complete_install, invite
from sync.portals.invite import sign_state
from sync.portals.oauth_client import OAuthClient
from sync.portals.repo import PortalRepo
from sync.portals.vault import TokenVault
from sync.store import MirrorRecord, Store
from tests.engine.seed import C
from tests.portals.rig import ALPHA_HUB, CLIENT_SECRET, Rig, portal_rig


def _callback(rig: Rig, **params: str) -> httpx.Response:
    with rig.callback_client() as client:
        return client.get("/oauth/callback", params=params)


def _nothing_stored(rig: Rig) -> None:
    assert list_portals(rig.runtime.store) == []
    assert rig.parts.repo.job_counts() == {}


def test_forged_expired_and_missing_states_are_refused(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        good = sign_state(rig.settings.portals, "ALPHA", datetime.now(UTC))
        head, _, mac = good.partition(".")
        forged = _callback(rig, code="x", state=f"{head}.{mac[::-1]}")
        assert forged.status_code == 400
        assert "signature does not match" in forged.text
        other_key = rig.settings.portals.model_copy(
            update={"client_secret": SecretStr("someone-else")})
        assert _callback(rig, code="x", state=sign_state(other_key, "ALPHA",
                                                         datetime.now(UTC))).status_code == 400
        old = sign_state(rig.settings.portals, "ALPHA", datetime.now(UTC) - timedelta(days=30))
        expired = _callback(rig, code="x", state=old)
        assert expired.status_code == 400
        assert "expired" in expired.text
        assert _callback(rig, code="x").status_code == 400
        assert _callback(rig, error="access_denied").status_code == 400
        with rig.callback_client() as client:
            assert client.get("/oauth/install", params={"state": "junk"}).status_code == 400
        _nothing_stored(rig)


def test_unknown_member_and_unknown_oauth_code_are_refused(tmp_path: Path) -> None:
    with portal_rig(tmp_path) as rig:
        with pytest.raises(ConnectError, match="no program member has partner code 'NOPE'"):
            invite(rig.settings.portals, rig.runtime.store, rig.settings.contract(), "NOPE",
                   SystemClock().now())
        state = sign_state(rig.settings.portals, "ALPHA", datetime.now(UTC))
        answer = _callback(rig, code="never-issued", state=state)
        assert answer.status_code == 400
        assert "BAD_AUTH_CODE" in answer.text
        _nothing_stored(rig)


def test_a_portal_missing_scopes_is_refused(tmp_path: Path) -> None:
    scopes = {ALPHA_HUB: ("oauth", "crm.objects.companies.read")}
    with portal_rig(tmp_path, scope_overrides=scopes) as rig:
        answer = rig.connect("ALPHA", ALPHA_HUB)
        assert answer.status_code == 400
        assert "did not grant the required scopes: crm.objects.companies.write" in answer.text
        _nothing_stored(rig)


@pytest.mark.parametrize(("status", "body", "http_status", "says"), [
    (400, {"status": "BAD_CLIENT_SECRET", "message": "bad"}, 400, "BAD_CLIENT_SECRET"),
    (500, {"message": "oops"}, 502, "unavailable"),
    (503, {}, 502, "unavailable"),
])
def test_token_endpoint_refusals_and_outages(tmp_path: Path, status: int, body: dict[str, str],
                                            http_status: int, says: str) -> None:
    settings = PortalSettings(client_id="id", client_secret=SecretStr(CLIENT_SECRET),
                              redirect_url="http://serve.test/oauth/callback",
                              token_key=SecretStr(Fernet.generate_key().decode()))
    store = Store.from_url(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    store.upsert_records([MirrorRecord("companies", "1", {C.code: "ALPHA",
                                                          C.program_type: "provider"})])
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    with httpx.Client(transport=transport) as http:
        oauth = OAuthClient(settings, "http://hubspot.test", http)
        with pytest.raises(ConnectError, match=says) as raised:
            complete_install(settings, store, C, oauth, TokenVault(settings),
                             state=sign_state(settings, "ALPHA", datetime.now(UTC)),
                             code="c", now=datetime.now(UTC))
    assert raised.value.http_status == http_status
    assert CLIENT_SECRET not in str(raised.value)
    assert PortalRepo(store).all() == []
    store.close()
