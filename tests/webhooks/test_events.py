"""Webhook event parsing, dedup keys, named records and echo detection."""

from __future__ import annotations

import orjson
import pytest

from webhooks.events import MalformedDelivery, is_own_echo, parse_delivery, records_named

BASE = {
    "eventId": 100, "subscriptionId": 7, "portalId": 62515, "appId": 1,
    "occurredAt": 1_700_000_000_000, "attemptNumber": 0,
}


def _body(*events: dict[str, object]) -> bytes:
    return orjson.dumps(list(events))


def test_legacy_and_generic_types_map_to_object_types() -> None:
    events = parse_delivery(_body(
        {**BASE, "subscriptionType": "deal.propertyChange", "objectId": 5,
         "propertyName": "dealstage", "propertyValue": "closedwon"},
        {**BASE, "subscriptionType": "object.creation", "objectTypeId": "0-69", "objectId": 9},
        {**BASE, "eventType": "contact.creation", "objectId": 3},
        {**BASE, "subscriptionType": "ticket.creation", "objectId": 4},
    ))
    assert [(e.object_type, e.object_id) for e in events] == [
        ("deals", "5"), ("subscriptions", "9"), ("contacts", "3"), (None, "4"),
    ]
    assert events[0].property_name == "dealstage"


def test_dedup_key_same_for_redelivery_and_differs_for_other_changes() -> None:
    event = {**BASE, "subscriptionType": "deal.propertyChange", "objectId": 5,
             "propertyName": "dealstage", "propertyValue": "closedwon"}
    retry = {**event, "attemptNumber": 3}
    # HubSpot may reuse an eventId for a different change: the key must still differ.
    same_id_other_change = {**event, "propertyValue": "closedlost"}
    keys = [e.dedup_key for e in parse_delivery(_body(event, retry, same_id_other_change))]
    assert keys[0] == keys[1]
    assert keys[0] != keys[2]


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"eventId": 1}', b"[1, 2]", b'[{"eventId": 1}]',
     b'[{"subscriptionType": "deal.creation", "occurredAt": "yesterday"}]'],
)
def test_malformed_deliveries_raise(body: bytes) -> None:
    with pytest.raises(MalformedDelivery):
        parse_delivery(body)


def test_association_change_names_both_ends() -> None:
    event = {**BASE, "subscriptionType": "deal.associationChange",
             "associationType": "DEAL_TO_COMPANY", "fromObjectId": 11, "toObjectId": 22}
    assert records_named(event) == [("deals", "11"), ("companies", "22")]
    assert records_named({**event, "associationType": "TICKET_TO_DEAL"}) == []


def test_own_echo_by_output_property_or_app_source() -> None:
    outputs = {"partner_attribution", "partner_registration_status"}
    ours = {**BASE, "subscriptionType": "deal.propertyChange", "propertyName":
            "partner_attribution", "objectId": 1}
    theirs = {**ours, "propertyName": "dealstage"}
    by_app = {**theirs, "sourceId": "IntegrationAppId:4242"}
    assert is_own_echo(ours, outputs, None)
    assert not is_own_echo(theirs, outputs, None)
    assert is_own_echo(by_app, outputs, "4242")
    assert not is_own_echo(by_app, outputs, "99")
