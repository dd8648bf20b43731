"""Secrets everywhere: an error message carrying a secret reaches neither the run log nor the
admin API nor a log line, and the store URL's password is a secret setting."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, update

from config.settings import HubSpotSettings, Settings, load_settings
from sync.clock import FixedClock
from sync.engine import SyncEngine, SyncError
from sync.engine.engine import PORTAL_ID_KEY
from sync.gateway import Gateway
from sync.logs import configure_logging, secret_values
from sync.store import Store
from sync.store.schema import runs
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, serve_app
from webhooks.app import ServeParts, create_app

TOKEN = "pat-na1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
DB_PASSWORD = "hunter2-db-password"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        hubspot=HubSpotSettings(access_token=SecretStr(TOKEN), base_url="http://127.0.0.1:9"),
        store={"url": f"sqlite:///{tmp_path / 'store.db'}"},
        admin={"token": ADMIN_TOKEN},
    )


def _assert_clean(text: str) -> None:
    for secret in (TOKEN, DB_PASSWORD, ADMIN_TOKEN):
        assert secret not in text


def test_a_secret_in_an_error_message_never_reaches_the_run_log(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = Store.from_url(settings.store.url, secrets=secret_values(settings))
    store.migrate()
    gateway = Gateway(settings.hubspot)
    with store.transaction() as tx:
        tx.set_checkpoint(PORTAL_ID_KEY + gateway.token_fingerprint, "62515")
    engine = SyncEngine(settings, gateway=gateway, store=store,
                        clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))

    def leaky_read(_started_at: datetime, _dry_run: bool) -> object:
        raise RuntimeError(f"could not use {TOKEN} on postgresql://sync:{DB_PASSWORD}@db/x "
                           f"(admin {ADMIN_TOKEN})")

    try:
        with pytest.raises(SyncError) as failed:
            engine.execute("incremental", trigger="test", read=leaky_read)  # type: ignore[arg-type]
        assert failed.value.report is not None
        (run,) = store.list_runs()
        assert run.status == "failed"
        assert run.error is not None
        assert "could not use" in run.error
        _assert_clean(run.error)
    finally:
        gateway.close()
        store.close()


async def test_the_admin_api_redacts_error_texts_it_answers(
    tmp_path: Path, settings: Settings, store: Store, store_url: str, engine: FakeEngine,
    clock: FixedClock,
) -> None:
    run_id = store.start_run("full", date(2026, 1, 1), "cli")
    store.finish_run(run_id, "failed", {})
    # A row written before the store redacted (or by an older release): raw text.
    raw = create_engine(store_url)
    with raw.begin() as conn:
        conn.execute(update(runs).values(error=f"token {TOKEN} admin {ADMIN_TOKEN}"))
    raw.dispose()
    async with serve_app(create_app(ServeParts(settings, store, engine, clock=clock))) as c:
        one = await c.get(f"/admin/runs/{run_id}", headers=AUTH)
        many = await c.get("/admin/runs", headers=AUTH)
    assert one.status_code == many.status_code == 200
    assert "***" in one.json()["error"]
    _assert_clean(one.text)
    _assert_clean(many.text)


def test_the_store_urls_password_is_a_secret_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql+psycopg://sync:{DB_PASSWORD}@db.internal:5432/partner"
    monkeypatch.setenv("PARTNER_SYNC_STORE__URL", url)
    settings = load_settings()
    assert settings.store.url.get_secret_value() == url
    shown = [str(settings.store.url), repr(settings.store.url), repr(settings),
             str(settings.model_dump()), settings.model_dump_json()]
    for text in shown:
        assert DB_PASSWORD not in text
    assert str(settings.store.url) == "postgresql+psycopg://sync:***@db.internal:5432/partner"
    assert DB_PASSWORD in secret_values(settings)


def test_a_log_line_never_shows_the_store_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_SYNC_STORE__URL",
                       f"postgresql+psycopg://sync:{DB_PASSWORD}@db/partner")
    out = io.StringIO()
    handler = configure_logging(load_settings(), stream=out)
    try:
        # The password alone, outside any URL, is masked too: it is a configured secret.
        logging.getLogger("partner_sync.test").warning("login failed for %s", DB_PASSWORD)
    finally:
        logging.getLogger().removeHandler(handler)
    assert DB_PASSWORD not in out.getvalue()
    assert "***" in out.getvalue()




def test_uvicorn_lines_are_json_through_the_redacting_handler(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock
) -> None:
    from cli.serve import ServerThread

    out = io.StringIO()
    handler = configure_logging(settings.model_copy(update={"log_format": "json"}), stream=out)
    try:
        with ServerThread(ServeParts(settings, store, engine, clock=clock)):
            pass
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert any(line["logger"].startswith("uvicorn") for line in lines)
