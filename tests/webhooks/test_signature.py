"""Webhook signature verification: HubSpot's documented vectors, our own, tampering."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hubspot.utils.signature import Signature

from webhooks.signature import SignaturePolicy, Verdict, normalize_uri, sign_v1, sign_v3, verify

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
NOW_MS = 1_693_657_560_000


def _check(policy: SignaturePolicy, headers: dict[str, str], body: bytes, *, uri: str = URI,
           now_ms: int = NOW_MS, method: str = "POST") -> Verdict:
    lowered = {k.lower(): v for k, v in headers.items()}
    return verify(policy, method=method, uri=uri, body=body, headers=lowered, now_ms=now_ms).verdict


def test_v3_documented_sdk_vector() -> None:
    # hubspot-api-python tests/spec/utils/test_signature.py: v3, POST, ts 1693657560000
    body = b"{'example_field':'example_value'}"
    assert sign_v3(SECRET, "POST", URI, body, "1693657560000") == (
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    )


def test_v1_documented_vector_and_sdk_agree() -> None:
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert sign_v1(SECRET, body) == expected
    assert Signature.is_valid(
        signature=expected, client_secret=SECRET, request_body=body.decode(),
        signature_version="v1",
    )
    policy = SignaturePolicy(SECRET, accept_v1=True)
    headers = {"X-HubSpot-Signature": expected, "X-HubSpot-Signature-Version": "v1"}
    assert _check(policy, headers, body) is Verdict.OK


def test_v1_refused_unless_enabled() -> None:
    body = b"[]"
    headers = {"X-HubSpot-Signature": sign_v1(SECRET, body), "X-HubSpot-Signature-Version": "v1"}
    assert _check(SignaturePolicy(SECRET), headers, body) is Verdict.VERSION_DISABLED


def _independent_v3(secret: str, method: str, uri: str, body: bytes, ts: str) -> str:
    mac = hmac.new(secret.encode(), f"{method}{uri}".encode() + body + ts.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _v3_headers(body: bytes, ts_ms: int, *, uri: str = URI, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-HubSpot-Signature-v3": _independent_v3(secret, "POST", uri, body, str(ts_ms)),
        "X-HubSpot-Request-Timestamp": str(ts_ms),
    }


def test_v3_own_vector_accepted_and_matches_sdk() -> None:
    body = b'[{"eventId":7,"objectId":42,"subscriptionType":"deal.propertyChange"}]'
    headers = _v3_headers(body, NOW_MS - 1000)
    assert _check(SignaturePolicy(SECRET), headers, body) is Verdict.OK
    assert sign_v3(SECRET, "POST", URI, body, str(NOW_MS - 1000)) == Signature.get_signature(
        SECRET, body.decode(), "v3", http_uri=URI, timestamp=str(NOW_MS - 1000)
    )


@pytest.mark.parametrize(
    ("mutate", "verdict"),
    [
        (lambda b, h, u: (b + b" ", h, u), Verdict.MISMATCH),  # tampered body
        (lambda b, h, u: (b, h, u + "x"), Verdict.MISMATCH),  # wrong URI
        (lambda b, h, u: (b, {**h, "X-HubSpot-Signature-v3": "AAAA"}, u), Verdict.MISMATCH),
        (lambda b, h, u: (b, {k: v for k, v in h.items() if "Timestamp" not in k}, u),
         Verdict.MISSING_HEADERS),
        (lambda b, h, u: (b, {}, u), Verdict.MISSING_HEADERS),
        (lambda b, h, u: (b, {**h, "X-HubSpot-Request-Timestamp": "soon"}, u),
         Verdict.BAD_TIMESTAMP),
    ],
)
def test_v3_rejections(mutate: object, verdict: Verdict) -> None:
    body = b'[{"eventId":1}]'
    b, h, u = mutate(body, _v3_headers(body, NOW_MS), URI)  # type: ignore[operator]
    assert _check(SignaturePolicy(SECRET), h, b, uri=u) is verdict


def test_v3_wrong_secret_is_mismatch() -> None:
    body = b"[]"
    headers = _v3_headers(body, NOW_MS, secret="other")
    assert _check(SignaturePolicy(SECRET), headers, body) is Verdict.MISMATCH


@pytest.mark.parametrize(
    ("offset_ms", "verdict"),
    [
        (-300_000, Verdict.OK),  # exactly 5 minutes old: still inside
        (-300_001, Verdict.STALE),
        (300_000, Verdict.OK),
        (300_001, Verdict.FUTURE),
    ],
)
def test_v3_timestamp_window_both_ways(offset_ms: int, verdict: Verdict) -> None:
    body = b"[]"
    headers = _v3_headers(body, NOW_MS + offset_ms)
    assert _check(SignaturePolicy(SECRET), headers, body) is verdict


def test_v3_uri_escapes_decoded_as_hubspot_lists() -> None:
    assert normalize_uri("https://h/p%3Fa%2Fb%3a?x=%20%26") == "https://h/p?a/b:?x=%20%26"
    body = b"[]"
    signed_on = "https://h/hook?src=a:b"
    headers = _v3_headers(body, NOW_MS, uri=signed_on)
    assert _check(SignaturePolicy(SECRET), headers, body, uri="https://h/hook?src=a%3Ab") is (
        Verdict.OK
    )
