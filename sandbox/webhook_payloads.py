"""HubSpot webhook payloads and signatures, as pure functions (research notes §6).

* Contacts, companies and deals use the legacy subscription types (``contact.creation``,
  ``company.propertyChange``, ``deal.associationChange`` ...); object types without a legacy type
  (commerce subscriptions) use the generic ``object.*`` types with ``objectTypeId`` and
  ``isSensitive``, as HubSpot's generic subscriptions do.
* Every event has ``eventId, subscriptionId, portalId, appId, occurredAt, subscriptionType,
  attemptNumber`` and ``changeSource``; ``objectId`` except on associationChange, which carries
  ``associationType`` (``DEAL_TO_COMPANY`` ...), ``fromObjectId``, ``toObjectId``,
  ``associationRemoved`` and ``isPrimaryAssociation``; propertyChange adds ``propertyName`` and
  ``propertyValue``; ``sourceId`` when the change names one.
* ``subscriptionId`` is stable per subscription type; ``eventId`` is given by the caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from sandbox.events import ChangeEvent

__all__ = ["sign_v1", "sign_v3", "subscription_type", "v3_uri", "webhook_event"]

_LEGACY_PREFIX = {"contacts": "contact", "companies": "company", "deals": "deal"}
_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "subscriptions": "0-69"}
_ASSOCIATION_NAMES = {
    "contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL", "subscriptions": "SUBSCRIPTION",
}
# HubSpot-defined primary association type ids: contact<->company (1, 2), deal<->company (5, 6).
_PRIMARY_TYPE_IDS = frozenset({1, 2, 5, 6})
_KINDS = ("creation", "deletion", "propertyChange", "associationChange")
_SUBSCRIPTION_IDS = {
    f"{prefix}.{kind}": 1000 + index
    for index, (prefix, kind) in enumerate(
        (prefix, kind) for prefix in ("contact", "company", "deal", "object") for kind in _KINDS
    )
}
# HubSpot decodes these escapes in the URI it signs for v3; nothing else is decoded.
_V3_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}


def sign_v1(secret: str, body: bytes | str) -> str:
    """v1: hex SHA-256 of client secret + raw body (a plain hash, not an HMAC)."""
    raw = body.encode() if isinstance(body, str) else body
    return hashlib.sha256(secret.encode() + raw).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: bytes | str, timestamp_ms: int) -> str:
    """v3: base64 HMAC-SHA256, keyed by the secret, of method + uri + body + timestamp (ms).

    ``uri`` is signed verbatim; pass it through ``v3_uri`` first to sign what HubSpot signs.
    """
    raw = body.encode() if isinstance(body, str) else body
    message = method.encode() + uri.encode() + raw + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def v3_uri(url: str) -> str:
    """``url`` with the escapes of HubSpot's v3 table decoded (case-insensitively)."""
    out: list[str] = []
    index = 0
    while index < len(url):
        escape = url[index : index + 3].upper()
        if url[index] == "%" and escape in _V3_DECODE:
            out.append(_V3_DECODE[escape])
            index += 3
        else:
            out.append(url[index])
            index += 1
    return "".join(out)


def subscription_type(event: ChangeEvent) -> str:
    """``contact.creation``, ``deal.associationChange``, ``object.propertyChange`` ..."""
    return f"{_LEGACY_PREFIX.get(event.object_type, 'object')}.{event.kind}"


def _numeric(object_id: str | None) -> int | str | None:
    # HubSpot ids are JSON numbers; keep anything non-numeric as given.
    return int(object_id) if object_id is not None and object_id.isascii() and object_id.isdigit() \
        else object_id


def webhook_event(
    event: ChangeEvent, *, event_id: int, portal_id: int, app_id: int
) -> dict[str, Any]:
    """The HubSpot webhook event for ``event``, with ``attemptNumber`` 0."""
    stype = subscription_type(event)
    generic = stype.startswith("object.")
    payload: dict[str, Any] = {
        "eventId": event_id,
        "subscriptionId": _SUBSCRIPTION_IDS[stype],
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": event.occurred_at_ms,
        "subscriptionType": stype,
        "attemptNumber": 0,
    }
    if event.kind == "associationChange":
        from_name = _ASSOCIATION_NAMES.get(event.object_type, event.object_type.upper())
        to_type = event.to_object_type or ""
        to_name = _ASSOCIATION_NAMES.get(to_type, to_type.upper())
        payload["associationType"] = f"{from_name}_TO_{to_name}"
        payload["fromObjectId"] = _numeric(event.object_id)
        payload["toObjectId"] = _numeric(event.to_object_id)
        payload["associationRemoved"] = event.association_removed
        payload["isPrimaryAssociation"] = event.association_type_id in _PRIMARY_TYPE_IDS
    else:
        payload["objectId"] = _numeric(event.object_id)
        if generic:
            payload["objectTypeId"] = _TYPE_IDS.get(event.object_type, event.object_type)
    if event.kind == "propertyChange":
        payload["propertyName"] = event.property_name
        payload["propertyValue"] = event.property_value
    payload["changeSource"] = event.change_source
    if event.source_id is not None:
        payload["sourceId"] = event.source_id
    if generic:
        payload["isSensitive"] = False
    return payload
