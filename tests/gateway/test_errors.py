"""The classification table and the translation of HubSpot failures into the exception tree."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from sync.gateway.errors import (
    ActionKind,
    AuthError,
    Conflict,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    ValidationFailed,
    classify,
    token_fingerprint,
    translate_status,
    translate_transport,
)
from tests.gateway.fakes import TOKEN

TEN_SECONDLY = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"}
SEARCH_SECONDLY = {"status": "error", "message": "You have reached your secondly limit.",
                   "category": "RATE_LIMITS"}
DAILY = {"status": "error", "message": "You have reached your daily limit.",
         "errorType": "RATE_LIMIT", "policyName": "DAILY"}
SCOPES = {"status": "error", "message": "This app hasn't been granted all required scopes",
          "correlationId": "c-1", "category": "MISSING_SCOPES",
          "errors": [{"message": "One or more of the following scopes are required.",
                      "context": {"requiredGranularScopes": ["crm.objects.deals.read",
                                                             "crm.schemas.deals.read"]}}]}


@pytest.mark.parametrize(
    ("status", "headers", "body", "kind", "wait_s", "window_s"),
    [
        (429, {"Retry-After": "3"}, TEN_SECONDLY, ActionKind.RETRY, 3.0, None),
        (429, {}, TEN_SECONDLY, ActionKind.RETRY_AFTER_WINDOW, None, 10.0),
        (429, {}, SEARCH_SECONDLY, ActionKind.RETRY_AFTER_WINDOW, None, 1.0),
        (429, {}, {}, ActionKind.RETRY_AFTER_WINDOW, None, 10.0),
        (429, {"Retry-After": "3"}, DAILY, ActionKind.FAIL, None, None),
        (423, {}, {}, ActionKind.RETRY, 2.0, None),
        (477, {"retry-after": "60"}, {}, ActionKind.RETRY, 60.0, None),
        (502, {}, {}, ActionKind.RETRY, None, None),
        (503, {"Retry-After": "5"}, {}, ActionKind.RETRY, 5.0, None),
        (504, {}, {}, ActionKind.RETRY, None, None),
        (524, {}, {}, ActionKind.RETRY, None, None),
        (500, {}, {}, ActionKind.FAIL, None, None),
        (401, {}, {"category": "INVALID_AUTHENTICATION"}, ActionKind.FAIL_AUTH, None, None),
        (403, {}, SCOPES, ActionKind.FAIL_SCOPE, None, None),
        (403, {}, {"category": "FORBIDDEN"}, ActionKind.FAIL_AUTH, None, None),
        (400, {}, {"category": "VALIDATION_ERROR"}, ActionKind.SKIP_RECORD, None, None),
        (404, {}, "<html></html>", ActionKind.SKIP_RECORD, None, None),
        (409, {}, {"category": "CONFLICT"}, ActionKind.SKIP_RECORD, None, None),
        (414, {}, {}, ActionKind.FAIL, None, None),
    ],
)
def test_classification_table(
    status: int, headers: dict[str, str], body: Any, kind: ActionKind,
    wait_s: float | None, window_s: float | None,
) -> None:
    raw = body if isinstance(body, str) else orjson.dumps(body)
    action = classify(status, headers, raw)
    assert (action.kind, action.wait_s, action.window_s) == (kind, wait_s, window_s)


@pytest.mark.parametrize(
    ("status", "body", "cls", "base"),
    [
        (429, TEN_SECONDLY, RateLimited, TransientError),
        (503, {}, TransientError, TransientError),
        (404, {}, NotFound, PermanentError),
        (400, {"category": "VALIDATION_ERROR"}, ValidationFailed, PermanentError),
        (409, {"category": "CONFLICT"}, Conflict, PermanentError),
        (401, {}, AuthError, PermanentError),
        (500, {}, PermanentError, PermanentError),
    ],
)
def test_translation_picks_the_class(
    status: int, body: dict[str, Any], cls: type, base: type
) -> None:
    err = translate_status(status, {}, orjson.dumps(body), endpoint="GET /x", token="tok:1")
    assert type(err) is cls
    assert isinstance(err, base)


def test_error_carries_category_message_and_correlation_id() -> None:
    body = {"status": "error", "message": "Property values were not valid", "category":
            "VALIDATION_ERROR", "correlationId": "a436-83b0"}
    err = translate_status(400, {}, orjson.dumps(body), endpoint="POST /b", token="tok:1")
    assert (err.status, err.category, err.correlation_id) == (400, "VALIDATION_ERROR", "a436-83b0")
    assert "Property values were not valid" in str(err)
    assert "a436-83b0" in str(err)
    assert "POST /b" in str(err)


def test_correlation_id_falls_back_to_the_header_for_html_bodies() -> None:
    headers = httpx.Headers({"x-hubspot-correlation-id": "hdr-9"})
    err = translate_status(404, headers, b"<html>", endpoint="GET /x", token="tok:1")
    assert err.correlation_id == "hdr-9"
    assert err.message == "HTTP 404"


def test_scope_error_names_fingerprint_and_scopes_never_the_token() -> None:
    fingerprint = token_fingerprint(TOKEN)
    err = translate_status(403, {}, orjson.dumps(SCOPES), endpoint="GET /d", token=fingerprint)
    assert isinstance(err, AuthError)
    assert err.missing_scopes == ("crm.objects.deals.read", "crm.schemas.deals.read")
    text = str(err)
    assert fingerprint in text
    assert "crm.objects.deals.read" in text
    assert TOKEN not in text
    assert TOKEN[4:12] not in text


def test_401_names_the_token_by_fingerprint() -> None:
    fingerprint = token_fingerprint(TOKEN)
    body = {"status": "error", "message": "Authentication credentials not found.",
            "category": "INVALID_AUTHENTICATION"}
    err = translate_status(401, {}, orjson.dumps(body), endpoint="GET /d", token=fingerprint)
    assert isinstance(err, AuthError)
    assert err.action.kind is ActionKind.FAIL_AUTH
    assert fingerprint in str(err)
    assert TOKEN not in str(err)


def test_fingerprint_is_short_stable_and_distinct() -> None:
    assert token_fingerprint(TOKEN) == token_fingerprint(TOKEN)
    assert token_fingerprint(TOKEN) != token_fingerprint(TOKEN + "x")
    assert len(token_fingerprint(TOKEN)) == len("tok:") + 8
    assert token_fingerprint(None) == "tok:none"


def test_transport_errors_are_transient() -> None:
    request = httpx.Request("GET", "https://api.hubapi.test/")
    err = translate_transport(httpx.ReadTimeout("timed out", request=request), endpoint="GET /")
    assert err.action.kind is ActionKind.RETRY
    assert err.retry_after_s is None
    assert "ReadTimeout" in str(err)
