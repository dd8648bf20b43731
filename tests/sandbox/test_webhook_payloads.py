"""Webhook payload shapes and signature helpers, against HubSpot's documented vectors."""

from __future__ import annotations

from sandbox.events import ChangeEvent
from sandbox.webhook_payloads import sign_v1, sign_v3, v3_uri, webhook_event

DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


def test_v1_matches_the_documented_vector() -> None:
    body = (
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        '"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    expected = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert sign_v1(DOC_SECRET, body) == expected
    assert sign_v1(DOC_SECRET, body.encode()) == expected


def test_v3_matches_the_sdk_vector() -> None:
    signature = sign_v3(DOC_SECRET, "POST", "https://www.example.com/webhook_uri",
                        "{'example_field':'example_value'}", 1693657560000)
    assert signature == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="


def test_v3_uri_decodes_only_the_listed_escapes() -> None:
    assert v3_uri("https://x.test/a%3Ab%2fc?q=%20%26%3D%40") == "https://x.test/a:b/c?q=%20%26%3D@"


def test_property_change_of_a_contact_uses_the_legacy_type() -> None:
    event = ChangeEvent("propertyChange", "contacts", "42", 1_700_000_000_000,
                        property_name="email", property_value="a@b.test",
                        change_source="INTEGRATION", source_id="userId:9")
    payload = webhook_event(event, event_id=5, portal_id=62515, app_id=77)
    assert payload == {
        "eventId": 5, "subscriptionId": payload["subscriptionId"], "portalId": 62515,
        "appId": 77, "occurredAt": 1_700_000_000_000, "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0, "objectId": 42, "propertyName": "email",
        "propertyValue": "a@b.test", "changeSource": "INTEGRATION", "sourceId": "userId:9",
    }
    assert isinstance(payload["subscriptionId"], int)


def test_subscription_objects_use_generic_types_with_object_type_id() -> None:
    event = ChangeEvent("deletion", "subscriptions", "9", 1)
    payload = webhook_event(event, event_id=1, portal_id=1, app_id=1)
    assert payload["subscriptionType"] == "object.deletion"
    assert payload["objectTypeId"] == "0-69"
    assert payload["isSensitive"] is False
    assert "propertyName" not in payload


def test_association_change_fields() -> None:
    event = ChangeEvent("associationChange", "deals", "11", 1, to_object_type="companies",
                        to_object_id="22", association_type_id=5, association_removed=True)
    payload = webhook_event(event, event_id=1, portal_id=1, app_id=1)
    assert payload["subscriptionType"] == "deal.associationChange"
    assert payload["associationType"] == "DEAL_TO_COMPANY"
    assert (payload["fromObjectId"], payload["toObjectId"]) == (11, 22)
    assert payload["associationRemoved"] is True
    assert payload["isPrimaryAssociation"] is True
    assert "objectId" not in payload


def test_subscription_ids_are_stable_per_type_and_distinct_across_types() -> None:
    def sub_id(kind: str, object_type: str) -> object:
        event = ChangeEvent(kind, object_type, "1", 1)  # type: ignore[arg-type]
        return webhook_event(event, event_id=1, portal_id=1, app_id=1)["subscriptionId"]

    assert sub_id("creation", "contacts") == sub_id("creation", "contacts")
    ids = {sub_id(k, t) for k in ("creation", "deletion") for t in ("contacts", "deals")}
    assert len(ids) == 4
