"""sync.logs: JSON/text selection, redaction of every secret form, the per-run summary line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from config.settings import Settings
from sync.logs import configure_logging, log_run_summary, redact

TOKEN = "pat-na1-11112222-3333-4444-5555-666677778888"
SECRET = "whsec-client-secret-value"
ADMIN = "admin-bearer-value-42"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        hubspot={"access_token": TOKEN},
        webhooks={"client_secret": SECRET},
        admin={"token": ADMIN},
        log_format="auto",
    )


@pytest.fixture
def captured(settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()  # not a terminal: auto picks JSON lines
    handler = configure_logging(settings, stream=stream)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line]


def test_auto_format_writes_json_lines_off_a_terminal(captured: io.StringIO) -> None:
    logging.getLogger("partner_sync.test").info("hello %s", "world", extra={"portal": 62515})
    (line,) = _lines(captured)
    assert (line["msg"], line["level"], line["portal"]) == ("hello world", "INFO", 62515)
    assert line["ts"].endswith("+00:00")


def test_text_format_on_request(settings: Settings) -> None:
    stream = io.StringIO()
    handler = configure_logging(settings.model_copy(update={"log_format": "text"}), stream=stream)
    try:
        logging.getLogger("partner_sync.test").warning("token is %s", TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert "WARNING partner_sync.test: token is ***" in text
    assert not text.lstrip().startswith("{")
    assert TOKEN not in text


def test_no_configured_secret_reaches_the_output(captured: io.StringIO) -> None:
    log = logging.getLogger("partner_sync.test")
    log.info("token %s", TOKEN)
    log.info("header Authorization: Bearer %s", "some-oauth-access-token")
    log.info("secret in the message itself: %s / %s", SECRET, ADMIN)
    log.info("extras", extra={"request": {"headers": {"authorization": f"Bearer {TOKEN}"}},
                              "secrets": [SECRET]})
    log.info("dsn postgresql+psycopg://sync:pg-password-9@db:5432/partner")
    log.info('body {"client_secret": "abc123def", "access_token": "tok-xyz"}')
    try:
        raise RuntimeError(f"request failed with {TOKEN}")
    except RuntimeError:
        log.exception("call failed")
    out = captured.getvalue()
    for leaked in (TOKEN, SECRET, ADMIN, "some-oauth-access-token", "pg-password-9",
                   "abc123def", "tok-xyz"):
        assert leaked not in out, leaked
    lines = _lines(captured)
    assert len(lines) == 7
    assert "RuntimeError: request failed with ***" in lines[-1]["msg"]
    assert lines[3]["request"]["headers"]["authorization"] == "Bearer ***"


def test_unknown_token_shapes_are_masked_without_settings() -> None:
    assert redact(f"x {TOKEN} y") == "x *** y"
    assert redact("pat-eu1-abcdef12-0000") == "***"
    assert redact("client_secret=s3cr3t&x=1") == "client_secret=***&x=1"
    assert redact("nothing to hide here: 12 deals") == "nothing to hide here: 12 deals"


def test_short_secret_values_do_not_mask_ordinary_words() -> None:
    assert redact("run ok", secrets=("ok",)) == "run ok"
    assert redact("value abcd", secrets=("abcd",)) == "value ***"


def test_unknown_level_is_named(settings: Settings) -> None:
    with pytest.raises(ValueError, match="PARTNER_SYNC_LOG_LEVEL"):
        configure_logging(settings.model_copy(update={"log_level": "LOUD"}), stream=io.StringIO())


class _Report:
    """Anything with ``to_dict()`` (the engine's RunReport shape)."""

    def __init__(self, status: str, **extra: Any) -> None:
        self.doc: dict[str, Any] = {
            "run_id": 7, "kind": "full", "trigger": "cli", "as_of": "2024-08-14",
            "status": status, "dry_run": False,
            "records_read": {"companies": 10, "deals": 5},
            "api_calls": {"GET /crm/v3/objects/{type}": 3, "POST batch/update": 1},
            "rate_limited": 0, "patches": [{"id": "1"}, {"id": "2"}],
            "written": {"deals": 2}, "write_failures": [], "problems": [{"code": "x"}],
            "decided": {"deals": 5}, "error": None, **extra,
        }

    def to_dict(self) -> dict[str, Any]:
        return self.doc


def test_run_summary_is_one_line_with_totals(captured: io.StringIO) -> None:
    summary = log_run_summary(_Report("ok"))
    (line,) = _lines(captured)
    assert line["level"] == "INFO"
    assert line["msg"] == (
        "run 7 full (cli) ok: read 15, patches 2, written 2, write failures 0, problems 1, "
        "api calls 4, 429s 0"
    )
    assert line["run"]["patches"] == 2
    assert summary["records_read"] == {"companies": 10, "deals": 5}


def test_run_summary_level_follows_status_and_error_is_redacted(captured: io.StringIO) -> None:
    log_run_summary(_Report("partial"))
    log_run_summary(_Report("failed", error=f"401 HubSpot rejected token {TOKEN}"))
    partial, failed = _lines(captured)
    assert (partial["level"], failed["level"]) == ("WARNING", "ERROR")
    assert failed["msg"].endswith("error: 401 HubSpot rejected token ***")
    assert TOKEN not in captured.getvalue()


def test_every_secret_setting_is_masked_also_in_a_section_added_later() -> None:
    from pydantic import BaseModel, SecretStr

    from config.settings import Settings
    from sync.logs import redact, secret_values

    class Vault(BaseModel):
        key: SecretStr = SecretStr("vault-key-0123456789")

    class WithVault(Settings):
        vault: Vault = Vault()

    settings = WithVault(admin={"token": "admin-token-0123"})
    secrets = secret_values(settings)

    assert set(secrets) == {"vault-key-0123456789", "admin-token-0123"}
    assert redact("key vault-key-0123456789 admin admin-token-0123", secrets) == "key *** admin ***"
