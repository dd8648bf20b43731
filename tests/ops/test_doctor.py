"""`partner-sync doctor` against the sandbox: success and each main failure, each naming its fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from typer.testing import CliRunner

from cli.main import app
from config.settings import HubSpotSettings
from sandbox.app import create_app
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.server import RunningSandbox, free_port, serve_in_thread
from sync.gateway import Gateway
from tests.sandbox.servers import serve

from .conftest import TOKEN, env_for, init_contract

runner = CliRunner()


def _doctor(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["doctor", "--json", *args], env=env)
    return result.exit_code, orjson.loads(result.stdout)


def _check(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["checks"] if c["name"] == name)


def test_healthy_installation_passes_every_check(portal: RunningSandbox, store_url: str) -> None:
    code, doc = _doctor(env_for(portal.url, store_url))
    assert code == 0, doc
    assert {c["status"] for c in doc["checks"]} == {"ok"}
    names = [c["name"] for c in doc["checks"]]
    assert names == ["program terms", "webhooks", "store", "token", "scopes",
                     "contract properties", "rate limits"]
    assert "window max 190 per 10 s" in _check(doc, "rate limits")["detail"]
    assert "daily remaining" in _check(doc, "rate limits")["detail"]


def test_text_output_lists_checks_and_never_prints_the_token(
    portal: RunningSandbox, store_url: str
) -> None:
    result = runner.invoke(app, ["doctor"], env=env_for(portal.url, store_url))
    assert result.exit_code == 0
    assert "ok   token: HubSpot accepts token tok:" in result.stdout
    assert "7 checks: 0 failed, 0 warnings" in result.stdout
    assert TOKEN not in result.output


def test_wrong_token_fails_with_exit_3_and_says_how_to_fix(
    portal: RunningSandbox, store_url: str
) -> None:
    env = env_for(portal.url, store_url,
                  PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN="pat-na1-99999999-0000-0000-0000-000000000000")
    code, doc = _doctor(env)
    assert code == 3
    token = _check(doc, "token")
    assert token["status"] == "fail"
    assert "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in token["fix"]
    assert "pat-na1-9999" not in orjson.dumps(doc).decode()


def test_no_token_fails_with_exit_3(portal: RunningSandbox, store_url: str) -> None:
    env = env_for(portal.url, store_url)
    del env["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]
    code, doc = _doctor(env)
    assert code == 3
    assert "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN is unset" in _check(doc, "token")["detail"]


def test_missing_contract_properties_point_to_init(
    bare_portal: RunningSandbox, store_url: str
) -> None:
    code, doc = _doctor(env_for(bare_portal.url, store_url))
    assert code == 3
    props = _check(doc, "contract properties")
    assert props["status"] == "fail"
    assert "deals.partner_commission_plan is missing" in props["detail"]
    assert "partner-sync init" in props["fix"]
    assert "partner-sync init" in _check(doc, "property group")["fix"]


def test_wrong_property_type_is_named(bare_portal: RunningSandbox, store_url: str) -> None:
    settings = HubSpotSettings(access_token=TOKEN, base_url=bare_portal.url)
    gateway = Gateway(settings)
    gateway.create_property_group("deals", "partner_program", "Partner program")
    gateway.create_property("deals", {
        "name": "partner_commission_rate", "label": "Rate", "type": "string",
        "fieldType": "text", "groupName": "partner_program",
    })
    gateway.close()
    init_contract(bare_portal.url)  # creates the rest; the wrong one stays (409)
    code, doc = _doctor(env_for(bare_portal.url, store_url))
    assert code == 3
    types = _check(doc, "property types")
    assert types["detail"] == "deals.partner_commission_rate is string, expected number"
    assert "cannot change a property's type" in types["fix"]


def test_unreachable_portal_exits_4(store_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, doc = _doctor(env_for(closed, store_url))
    assert code == 4
    portal = _check(doc, "portal")
    assert portal["detail"].startswith(f"cannot reach {closed}")
    assert "PARTNER_SYNC_HUBSPOT__BASE_URL" in portal["fix"]


class _DenyScopes:
    """Answers HubSpot's 403 MISSING_SCOPES for subscriptions, like a private app without the
    commerce scope; everything else goes to the sandbox."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/objects/subscriptions" in scope["path"]:
            body = orjson.dumps({
                "status": "error", "category": "MISSING_SCOPES", "correlationId": "c-1",
                "message": "This app hasn't been granted all required scopes to make this call.",
                "errors": [{"message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes":
                                        ["crm.objects.subscriptions.read"]}}],
            })
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.inner(scope, receive, send)


@pytest.fixture
def scopeless_portal() -> Iterator[str]:
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(per_10s=190))
    with serve(_DenyScopes(create_app(config))) as url:
        init_contract(url)
        yield url


def test_missing_scopes_are_listed_with_exit_3(scopeless_portal: str, store_url: str) -> None:
    code, doc = _doctor(env_for(scopeless_portal, store_url))
    assert code == 3
    scopes = _check(doc, "scopes")
    assert scopes["detail"] == "missing scope(s): crm.objects.subscriptions.read"
    assert "Private apps > your app > Scopes" in scopes["fix"]
    assert _check(doc, "token")["status"] == "ok"


def test_bad_settings_exit_2_naming_the_variable(store_url: str) -> None:
    env = env_for("ftp://nowhere", store_url)
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 2
    assert "PARTNER_SYNC_HUBSPOT__BASE_URL: " in result.stderr
    assert "docs/configuration.md" in result.stderr


def test_low_configured_budget_and_webhook_problems_warn(store_url: str) -> None:
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(per_10s=100))
    with serve_in_thread(config) as running:
        init_contract(running.url)
        env = env_for(running.url, store_url,
                      PARTNER_SYNC_WEBHOOKS__PUBLIC_URL="http://sync.example.com/hooks")
        del env["PARTNER_SYNC_ADMIN__TOKEN"]
        code, doc = _doctor(env)
        strict_code, _ = _doctor({**env, "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL": "https://x.io/h"},
                                 "--strict")
    assert code == 2  # the http public URL is a settings failure
    assert "PARTNER_SYNC_HUBSPOT__RATE_LIMIT_PER_10S=100" in _check(doc, "rate limits")["fix"]
    assert _check(doc, "webhook URL")["status"] == "fail"
    assert _check(doc, "admin token")["status"] == "warn"
    assert strict_code == 1  # only warnings left, and --strict counts them


def test_unmigrated_store_is_reported(portal: RunningSandbox, tmp_path: Any) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, doc = _doctor(env_for(portal.url, f"sqlite:///{empty}"))
    assert code == 2
    store = _check(doc, "store")
    assert "revision none" in store["detail"]
    assert "partner-sync init" in store["fix"]
