"""v2 signatures (sha256 of secret + method + URI + body, hex): accepted only when enabled,
cross-checked with the SDK's ``Signature``, and bound to the method, URI and body."""

from __future__ import annotations

import pytest
from hubspot.utils.signature import Signature

from webhooks.signature import SignaturePolicy, Verdict, sign_v2, verify

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
BODY = b'[{"eventId":1,"objectId":123,"subscriptionType":"deal.propertyChange"}]'


def _verdict(policy: SignaturePolicy, signature: str, *, uri: str = URI, body: bytes = BODY,
             method: str = "POST") -> Verdict:
    headers = {"x-hubspot-signature": signature, "x-hubspot-signature-version": "v2"}
    return verify(policy, method=method, uri=uri, body=body, headers=headers, now_ms=0).verdict


def test_v2_matches_the_sdk_and_is_accepted_when_enabled() -> None:
    expected = Signature.get_signature(SECRET, BODY.decode(), "v2", http_uri=URI)
    assert sign_v2(SECRET, "POST", URI, BODY) == expected
    assert _verdict(SignaturePolicy(SECRET, accept_v2=True), expected) is Verdict.OK


def test_v2_refused_unless_enabled() -> None:
    good = sign_v2(SECRET, "POST", URI, BODY)
    assert _verdict(SignaturePolicy(SECRET), good) is Verdict.VERSION_DISABLED
    assert _verdict(SignaturePolicy(SECRET, accept_v1=True), good) is Verdict.VERSION_DISABLED


@pytest.mark.parametrize(
    ("uri", "body", "method"),
    [(URI + "x", BODY, "POST"), (URI, BODY + b" ", "POST"), (URI, BODY, "PUT")],
)
def test_v2_bound_to_uri_body_and_method(uri: str, body: bytes, method: str) -> None:
    good = sign_v2(SECRET, "POST", URI, BODY)
    policy = SignaturePolicy(SECRET, accept_v2=True)
    assert _verdict(policy, good, uri=uri, body=body, method=method) is Verdict.MISMATCH
