"""HubSpot webhook request signatures: v3 (HMAC-SHA256, base64), and v1/v2 where enabled.

v3 signs ``method + uri + raw body + timestamp`` with the app's client secret; the timestamp
(``X-HubSpot-Request-Timestamp``, epoch ms) must be within the allowed skew of now, both ways
(the SDK only checks one way; a far-future timestamp is as suspicious as a stale one). The URI is
the full public URL HubSpot called, with the escapes HubSpot lists decoded before signing.
Every comparison is constant-time. Verification answers a reason code and never raises, so the
receiver can count failures by reason without saying anything to the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "VERDICT_FIX",
    "SignatureCheck",
    "SignaturePolicy",
    "Verdict",
    "normalize_uri",
    "sign_v1",
    "sign_v2",
    "sign_v3",
    "verify",
]

# HubSpot's v3 table: these escapes are decoded in the URI before signing; nothing else is.
_V3_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}


class Verdict(StrEnum):
    OK = "ok"
    MISSING_HEADERS = "missing_headers"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE = "stale_timestamp"
    FUTURE = "future_timestamp"
    MISMATCH = "signature_mismatch"
    VERSION_DISABLED = "version_disabled"


# What an operator should check when deliveries are refused for each reason.
VERDICT_FIX: dict[Verdict, str] = {
    Verdict.MISSING_HEADERS: "the caller sent no X-HubSpot-Signature(-v3) and timestamp headers: "
                             "is it HubSpot (or the sandbox) calling?",
    Verdict.BAD_TIMESTAMP: "X-HubSpot-Request-Timestamp is not a number of milliseconds",
    Verdict.STALE: "the timestamp is older than PARTNER_SYNC_WEBHOOKS__MAX_TIMESTAMP_SKEW_S: "
                   "check this machine's clock (NTP)",
    Verdict.FUTURE: "the timestamp is ahead of this machine's clock by more than "
                    "PARTNER_SYNC_WEBHOOKS__MAX_TIMESTAMP_SKEW_S: check the clock (NTP)",
    Verdict.MISMATCH: "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET must be the app's client secret and "
                      "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL the exact URL HubSpot calls",
    Verdict.VERSION_DISABLED: "the caller signs with v1/v2 only: set "
                              "PARTNER_SYNC_WEBHOOKS__ACCEPT_V1 (or _V2) if that is intended",
}


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    client_secret: str
    max_skew_s: int = 300
    accept_v1: bool = False
    accept_v2: bool = False


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    verdict: Verdict
    version: str | None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def normalize_uri(uri: str) -> str:
    """Decode the escapes HubSpot's v3 scheme decodes (case-insensitively); keep the rest."""
    if "%" not in uri:
        return uri
    out: list[str] = []
    i = 0
    while i < len(uri):
        chunk = uri[i : i + 3].upper()
        if uri[i] == "%" and chunk in _V3_DECODE:
            out.append(_V3_DECODE[chunk])
            i += 3
        else:
            out.append(uri[i])
            i += 1
    return "".join(out)


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: str) -> str:
    message = method.encode() + normalize_uri(uri).encode() + body + timestamp_ms.encode()
    digest = hmac.digest(secret.encode(), message, "sha256")
    return base64.b64encode(digest).decode()


def sign_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def _equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def verify(
    policy: SignaturePolicy,
    *,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now_ms: int,
) -> SignatureCheck:
    """Check one request's signature. ``headers`` must be case-insensitive (Starlette's are)."""
    v3 = headers.get("x-hubspot-signature-v3")
    if v3 is not None:
        return _verify_v3(policy, method, uri, body, v3, headers, now_ms)
    legacy = headers.get("x-hubspot-signature")
    version = (headers.get("x-hubspot-signature-version") or "").lower()
    if legacy is None or version not in ("v1", "v2"):
        return SignatureCheck(Verdict.MISSING_HEADERS, None)
    if version == "v1":
        if not policy.accept_v1:
            return SignatureCheck(Verdict.VERSION_DISABLED, "v1")
        good = _equal(sign_v1(policy.client_secret, body), legacy)
    else:
        if not policy.accept_v2:
            return SignatureCheck(Verdict.VERSION_DISABLED, "v2")
        good = _equal(sign_v2(policy.client_secret, method, uri, body), legacy)
    return SignatureCheck(Verdict.OK if good else Verdict.MISMATCH, version)


def _verify_v3(
    policy: SignaturePolicy,
    method: str,
    uri: str,
    body: bytes,
    signature: str,
    headers: Mapping[str, str],
    now_ms: int,
) -> SignatureCheck:
    raw_ts = headers.get("x-hubspot-request-timestamp")
    if raw_ts is None:
        return SignatureCheck(Verdict.MISSING_HEADERS, "v3")
    if not (raw_ts.isascii() and raw_ts.isdigit()) or len(raw_ts) > 16:
        return SignatureCheck(Verdict.BAD_TIMESTAMP, "v3")
    skew_ms = now_ms - int(raw_ts)
    window_ms = policy.max_skew_s * 1000
    if skew_ms > window_ms:
        return SignatureCheck(Verdict.STALE, "v3")
    if skew_ms < -window_ms:
        return SignatureCheck(Verdict.FUTURE, "v3")
    expected = sign_v3(policy.client_secret, method.upper(), uri, body, raw_ts)
    return SignatureCheck(Verdict.OK if _equal(expected, signature) else Verdict.MISMATCH, "v3")
