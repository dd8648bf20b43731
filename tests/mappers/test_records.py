"""RawRecord built from HubSpot's v3 object JSON and v4 association batch reads."""

from __future__ import annotations

from datetime import UTC, datetime

from mappers.records import (
    AssociationRef,
    RawRecord,
    associations_from_v4,
    canonical_object_type,
    from_api,
)
from tests.mappers.builders import api_object


def test_from_api_reads_properties_archived_and_updated_at() -> None:
    payload = api_object("512", properties={"email": "a@b.com", "phone": None, "n": 3})
    rec = from_api("contacts", payload)
    assert rec.object_type == "contacts"
    assert rec.object_id == "512"
    assert rec.prop("email") == "a@b.com"
    assert rec.prop("phone") is None
    assert rec.prop("n") == "3"
    assert rec.prop("missing") is None
    assert rec.archived is False
    assert rec.updated_at_ms == 1704164645678  # 2024-01-02T03:04:05.678Z


def test_from_api_empty_string_reads_as_absent() -> None:
    rec = from_api("deals", api_object("1", properties={"closedate": ""}))
    assert rec.prop("closedate") is None


def test_from_api_history_is_oldest_first_with_ms_timestamps() -> None:
    # HubSpot lists history newest first.
    payload = api_object("7", propertiesWithHistory={"hs_mrr": [
        {"value": "400", "timestamp": "2019-07-15T00:00:00Z", "sourceType": "CRM_UI"},
        {"value": "50", "timestamp": "2019-01-15T00:00:00.000Z", "sourceType": "CRM_UI"},
        {"value": "75", "timestamp": "1550000000000", "sourceType": "API"},
    ]})
    rec = from_api("subscriptions", payload)
    assert rec.history["hs_mrr"] == (
        (1547510400000, "50"),
        (1550000000000, "75"),
        (1563148800000, "400"),
    )


def test_from_api_history_skips_entries_without_usable_timestamp() -> None:
    payload = api_object("7", propertiesWithHistory={"hs_mrr": [
        {"value": "1", "timestamp": "not a time"}, {"value": None, "timestamp": "0"}, "junk",
    ]})
    assert from_api("subscriptions", payload).history["hs_mrr"] == ((0, ""),)


def test_from_api_v3_associations_merge_labels_per_id() -> None:
    payload = api_object("512", associations={"companies": {"results": [
        {"id": "900", "type": "contact_to_company"},
        {"id": "900", "type": "contact_to_company_unlabeled"},
        {"id": "901", "type": "contact_to_company_unlabeled"},
        {"id": "902", "type": "some_custom_label"},
    ]}})
    rec = from_api("0-1", payload)
    assert rec.object_type == "contacts"
    assert rec.associations["companies"] == (
        AssociationRef("900", (1, 279)),
        AssociationRef("901", (279,)),
        AssociationRef("902", ()),
    )


def test_from_api_tolerates_malformed_parts() -> None:
    rec = from_api("companies", {"id": 5, "properties": ["x"], "associations": {"deals": 3},
                                 "propertiesWithHistory": None, "archived": "yes"})
    assert rec == RawRecord("companies", "5", {}, {}, {}, False, None)


def test_associations_from_v4_merges_pages_and_type_ids() -> None:
    payload = {"status": "COMPLETE", "results": [
        {"from": {"id": "10"}, "to": [
            {"toObjectId": "456", "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}]},
            {"toObjectId": 457, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}]}]},
        {"from": {"id": "10"}, "to": [{"toObjectId": "458", "associationTypes": []}]},
        {"from": {"id": "11"}, "to": []},
        {"bogus": True},
    ]}
    assoc = associations_from_v4(payload)
    assert assoc == {
        "10": (AssociationRef("456", (5, 341)), AssociationRef("457", (341,)),
               AssociationRef("458", ())),
        "11": (),
    }


def test_with_associations_replaces_one_target_type() -> None:
    rec = RawRecord("deals", "10", associations={"companies": (AssociationRef("1", (5,)),)})
    updated = rec.with_associations("0-69", [AssociationRef("70", (300,))])
    assert updated.associations["subscriptions"] == (AssociationRef("70", (300,)),)
    assert updated.associations["companies"] == (AssociationRef("1", (5,)),)
    assert "subscriptions" not in rec.associations


def test_canonical_object_type() -> None:
    assert canonical_object_type("0-2") == "companies"
    assert canonical_object_type("Deal") == "deals"
    assert canonical_object_type("p_custom") == "p_custom"


def test_from_api_reads_the_sdk_to_dict_form() -> None:
    # hubspot-api-client models: snake_case keys and datetime values.
    payload = {
        "id": "7", "properties": {"hs_mrr": "400"}, "archived": False,
        "updated_at": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "properties_with_history": {"hs_mrr": [
            {"value": "400", "timestamp": datetime(2019, 7, 15, tzinfo=UTC),
             "source_type": "API"},
            {"value": "50", "timestamp": datetime(2019, 1, 15), "source_type": "API"}]},
    }
    rec = from_api("subscriptions", payload)
    assert rec.updated_at_ms == 1704164645678
    assert rec.history["hs_mrr"] == ((1547510400000, "50"), (1563148800000, "400"))


def test_associations_from_v4_reads_the_sdk_to_dict_form() -> None:
    payload = {"results": [{"_from": {"id": "10"}, "to": [
        {"to_object_id": 456, "association_types": [
            {"category": "HUBSPOT_DEFINED", "type_id": 1, "label": "Primary"}]}]}]}
    assert associations_from_v4(payload) == {"10": (AssociationRef("456", (1,)),)}
