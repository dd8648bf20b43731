"""`partner-sync resync`: flags -> admin body, remote through the real admin API, local runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from cli.main import app
from cli.resync_remote import ResyncScope
from config.settings import load_settings
from sandbox.server import RunningSandbox, free_port
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.store import Store
from tests.sandbox.servers import serve
from webhooks.admin import AdminApi

from .conftest import env_for

runner = CliRunner()
ADMIN = "admin-token-for-tests"


def test_flags_become_the_admin_api_body() -> None:
    def body(**kw: object) -> dict[str, object]:
        flags: dict[str, object] = {"all_": False, "object_type": None, "ids": None,
                                    "member": None, **kw}
        return ResyncScope.from_flags(**flags).body()  # type: ignore[arg-type]

    assert body(all_=True) == {"all": True}
    assert body(object_type="Deals") == {"object_type": "deals"}
    assert body(member=" ACME ") == {"member": "ACME"}
    assert body(ids="deals:12, companies:7") == {"records": [
        {"object_type": "deals", "id": "12"}, {"object_type": "companies", "id": "7"}]}


@pytest.mark.parametrize(("args", "message"), [
    ([], "exactly one of"),
    (["--all", "--type", "deals"], "exactly one of"),
    (["--type", "tickets"], "unknown object type 'tickets'"),
    (["--ids", "deals:abc"], "type:id pairs"),
])
def test_bad_flags_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["resync", *args], env={"NO_COLOR": "1"})
    assert result.exit_code == 2
    assert message in result.stderr


@pytest.fixture
def serve_url(portal: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[str]:
    """The real admin API over a real engine on the sandbox portal."""
    for key, value in env_for(portal.url, store_url).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    store = Store.from_url(store_url)
    gateway = Gateway(settings.hubspot)
    engine = SyncEngine(settings, gateway=gateway, store=store)
    api = AdminApi(engine=engine, store=store, token=ADMIN)
    with serve(Starlette(routes=api.routes())) as url:
        yield url
    gateway.close()
    store.close()


def test_remote_resync_runs_through_serve(serve_url: str, store_url: str) -> None:
    result = runner.invoke(app, ["resync", "--all", "--remote", serve_url, "--admin-token",
                                 ADMIN, "--json"])
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    assert answer["status"] == "ok"
    store = Store.from_url(store_url)
    (run,) = store.list_runs()
    store.close()
    assert (run.run_id, run.kind, run.trigger) == (answer["run_id"], "full", "admin")


def test_remote_with_wrong_admin_token_exits_3(serve_url: str) -> None:
    result = runner.invoke(app, ["resync", "--all", "--remote", serve_url,
                                 "--admin-token", "wrong"])
    assert result.exit_code == 3
    assert "--admin-token" in result.stderr


def test_remote_without_admin_token_exits_2() -> None:
    result = runner.invoke(app, ["resync", "--all", "--remote", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "PARTNER_SYNC_ADMIN__TOKEN" in result.stderr


def test_remote_unreachable_exits_4() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["resync", "--all", "--remote", url, "--admin-token", ADMIN])
    assert result.exit_code == 4
    assert f"cannot reach {url}/admin/resync" in result.stderr


def test_local_full_resync_is_recorded_with_the_cli_trigger(
    portal: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["resync", "--all", "--json"], env=env_for(portal.url, store_url))
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert (summary["kind"], summary["trigger"], summary["status"]) == ("full", "cli", "ok")
    assert summary["api_calls"]


def test_local_resync_without_token_exits_3(store_url: str) -> None:
    env = env_for("http://127.0.0.1:1", store_url)
    del env["PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"]
    result = runner.invoke(app, ["resync", "--all"], env=env)
    assert result.exit_code == 3
    assert "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN" in result.stderr
