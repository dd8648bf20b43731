"""Numbers typed by people or sent by servers are ASCII digits: a superscript "²" passes
``str.isdigit()`` but ``int()`` refuses it, so every parser here must say no to it cleanly."""

from __future__ import annotations

import httpx
import pytest
import typer
from typer.testing import CliRunner

from cli.doctor_portal import HeaderTap, rate_limit_check
from cli.main import _per_10s, app
from cli.resync_remote import ResyncScope

runner = CliRunner()
SUPERSCRIPT = "²"


@pytest.mark.parametrize("raw", [SUPERSCRIPT, f"1{SUPERSCRIPT}/10s", "١٩٠"])
def test_rate_limit_option_refuses_non_ascii_digits(raw: str) -> None:
    with pytest.raises(typer.BadParameter, match="expected N or N/10s"):
        _per_10s(raw)


def test_sandbox_command_answers_a_superscript_rate_limit_with_a_usage_error() -> None:
    result = runner.invoke(app, ["sandbox", "--rate-limit", f"19{SUPERSCRIPT}"])

    assert result.exit_code == 2, result.output
    assert "expected N or N/10s" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_ascii_rate_limit_still_parses() -> None:
    assert _per_10s(" 190/10s ") == 190


@pytest.mark.parametrize("ids", [f"deals:{SUPERSCRIPT}", f"deals:12{SUPERSCRIPT}"])
def test_resync_ids_refuse_superscript_digits(ids: str) -> None:
    with pytest.raises(ValueError, match="--ids expects type:id pairs"):
        ResyncScope.from_flags(all_=False, object_type=None, ids=ids, member=None)


def test_resync_command_exits_2_on_a_superscript_id() -> None:
    result = runner.invoke(app, ["resync", "--ids", f"deals:{SUPERSCRIPT}", "--remote",
                                 "http://127.0.0.1:9", "--admin-token", "t"])

    assert result.exit_code == 2, result.output
    assert "--ids expects type:id pairs" in result.stderr


def test_resync_ids_keep_ascii_ids() -> None:
    scope = ResyncScope.from_flags(all_=False, object_type=None, ids="deals: 12 ,companies:7",
                                   member=None)
    assert scope.records == (("deals", "12"), ("companies", "7"))


def _tap(window_max: str) -> HeaderTap:
    tap = HeaderTap()
    # Raw latin-1 bytes, as a server could send them; httpx decodes them to "²".
    tap(httpx.Response(200, headers=[(b"X-HubSpot-RateLimit-Max", window_max.encode("latin-1")),
                                     (b"X-HubSpot-RateLimit-Remaining", b"10")]))
    return tap


def test_doctor_treats_a_superscript_rate_limit_header_as_missing() -> None:
    check = rate_limit_check(_tap(f"19{SUPERSCRIPT}"), 190)

    assert check.status == "warn"
    assert "no X-HubSpot-RateLimit-* headers" in check.detail


def test_doctor_reads_an_ascii_rate_limit_header() -> None:
    check = rate_limit_check(_tap("190"), 190)

    assert "no X-HubSpot-RateLimit-* headers" not in check.detail
