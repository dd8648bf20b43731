"""One run document for every way a run is shown: ``sync --json``, local ``resync --json``,
remote ``resync --json`` (the admin API's answer to ``POST /admin/resync``) and the admin API's
``GET /admin/runs/{id}`` and ``GET /admin/runs`` have the same keys, the ones ``/openapi.json``
declares; a run read back from the run log says what the run that made it said."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from config.settings import load_settings
from sandbox.server import RunningSandbox
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.run_document import RUN_DOCUMENT_KEYS, logged_run_document, run_document
from sync.store import Store
from tests.cli.conftest import env_for, invoke, seeded_portal
from tests.sandbox.servers import serve
from webhooks.admin import AdminApi
from webhooks.openapi import OPENAPI

ADMIN = "admin-token-for-run-documents"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
# What the run log keeps of a run: these agree between a run's answer and its log entry
# (``started_at``: the engine's clock and the store's, read microseconds apart).
KEPT = ("run_id", "kind", "trigger", "as_of", "status", "error", "records_read", "decided",
        "written", "planned", "problem_count", "api_call_count", "rate_limited")


@contextmanager
def _admin_api(portal_url: str, store_url: str, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[str]:
    """The admin API over a real engine on the sandbox portal; yields its URL."""
    for key, value in env_for(portal_url, store_url).items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    store = Store.from_url(store_url)
    store.migrate()
    gateway = Gateway(settings.hubspot)
    engine = SyncEngine(settings, gateway=gateway, store=store)
    try:
        with serve(Starlette(routes=AdminApi(engine=engine, store=store,
                                             token=ADMIN).routes())) as url:
            yield url
    finally:
        gateway.close()
        store.close()


@pytest.fixture
def admin_url(portal: RunningSandbox, store_url: str, monkeypatch: pytest.MonkeyPatch
              ) -> Iterator[str]:
    with _admin_api(portal.url, store_url, monkeypatch) as url:
        yield url


@pytest.fixture
def fresh_admin_url(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``admin_url`` over a portal of its own, whose program still needs writes."""
    with seeded_portal() as fresh, _admin_api(fresh.url, store_url, monkeypatch) as url:
        yield url


def _json(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = invoke(args, env=env)
    assert result.exit_code in (0, 1), result.output
    doc = orjson.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def test_every_run_document_has_the_same_keys(
    portal: RunningSandbox, store_url: str, admin_url: str
) -> None:
    env = env_for(portal.url, store_url)
    remote = _json(["resync", "--all", "--remote", admin_url, "--admin-token", ADMIN, "--json"],
                   env)
    synced = _json(["sync", "--full", "--json"], env)
    local = _json(["resync", "--all", "--json"], env)
    logged = httpx.get(f"{admin_url}/admin/runs/{remote['run_id']}", headers=AUTH).json()
    listed = httpx.get(f"{admin_url}/admin/runs", headers=AUTH).json()["runs"]
    declared = OPENAPI["components"]["schemas"]["RunDocument"]

    keys = set(RUN_DOCUMENT_KEYS)
    assert set(declared["properties"]) == set(declared["required"]) == keys
    for doc in (synced, local, remote, logged, *listed):
        assert set(doc) == keys, sorted(set(doc) ^ keys)
    assert [d["trigger"] for d in (synced, local, remote)] == ["cli", "cli", "admin"]
    assert {d["run_id"] for d in listed} == {d["run_id"] for d in (synced, local, remote)}


def test_a_logged_run_says_what_its_answer_said(fresh_admin_url: str) -> None:
    admin_url = fresh_admin_url
    answer = httpx.post(f"{admin_url}/admin/resync", json={"all": True}, headers=AUTH,
                        timeout=60)
    assert answer.status_code == 200, answer.text
    made = answer.json()
    logged = httpx.get(f"{admin_url}/admin/runs/{made['run_id']}", headers=AUTH).json()

    assert made["planned"] == len(made["patches"]) > 0  # the seeded program needs writes
    assert made["problem_count"] == len(made["problems"]) > 0  # the unknown partner code
    assert made["api_call_count"] == sum(made["api_calls"].values()) > 0
    assert {k: logged[k] for k in KEPT} == {k: made[k] for k in KEPT}
    key = orjson.dumps
    assert sorted(map(key, logged["problems"])) == sorted(map(key, made["problems"]))
    # The run log keeps no patch list, per-endpoint calls nor the dry-run flag: null, not [].
    assert (logged["patches"], logged["api_calls"], logged["dry_run"]) == (None, None, None)


def test_the_builders_fill_every_key_for_a_failed_run(store_url: str) -> None:
    store = Store.from_url(store_url)
    store.migrate()
    run_id = store.start_run("full", None, "cli")
    running = store.get_run(run_id)
    store.finish_run(run_id, "failed", {}, error="HubSpot answered 503")
    failed = store.get_run(run_id)
    store.close()
    assert running is not None
    assert failed is not None

    for doc in (logged_run_document(running), logged_run_document(failed),
                logged_run_document(failed, with_problems=False),
                run_document({"run_id": 3, "status": "failed", "error": "boom"})):
        assert tuple(doc) == RUN_DOCUMENT_KEYS
    assert logged_run_document(running)["finished_at"] is None
    assert logged_run_document(failed)["error"] == "HubSpot answered 503"
    assert logged_run_document(failed)["records_read"] == dict.fromkeys(
        ("companies", "contacts", "deals", "subscriptions"), 0)


def _answering(body: dict[str, Any]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _request: httpx.Response(200, json=body))


def test_remote_resync_reads_the_run_document_and_an_earlier_wrapped_answer() -> None:
    from cli.resync_remote import ResyncScope, request_remote

    scope = ResyncScope("all")
    doc = run_document({"run_id": 5, "kind": "full", "trigger": "admin", "status": "ok"})
    assert request_remote("http://serve", ADMIN, scope, transport=_answering(doc)) == doc
    wrapped = {"run_id": 5, "status": "ok",
               "report": {"run_id": 5, "kind": "full", "trigger": "admin", "status": "ok"}}
    assert request_remote("http://serve", ADMIN, scope, transport=_answering(wrapped)) == doc


def test_remote_resync_refuses_an_answer_that_is_no_run_document() -> None:
    from cli.exits import ExitCode
    from cli.resync_remote import RemoteError, ResyncScope, request_remote

    with pytest.raises(RemoteError, match="answered 200 without a run document") as refused:
        request_remote("http://serve", ADMIN, ResyncScope("all"),
                       transport=_answering({"hello": "world"}))
    assert refused.value.code == ExitCode.USAGE


def test_the_documented_run_document_has_the_keys() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text()
    example = text.split("```json\n", 1)[1].split("```", 1)[0]
    assert tuple(orjson.loads(example)) == RUN_DOCUMENT_KEYS
