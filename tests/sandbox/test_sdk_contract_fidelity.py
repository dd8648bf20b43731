"""Contract tests through the official SDK: HubSpot's batch rule, history entries, list
associations and the labelled association PUT behave as HubSpot's do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.associations.v4.exceptions import ApiException as AssocApiException
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.exceptions import ApiException

from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from tests.sandbox.sandbox_fixtures import TOKEN, SteppingClock, companies, config


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    state = SandboxState(now_ms=SteppingClock())
    state.bulk_load(companies(6))
    with serve_in_thread(config(), state) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> HubSpot:
    return HubSpot(access_token=TOKEN, host=sandbox.url)


def _contact(client: HubSpot, email: str) -> str:
    made = client.crm.objects.basic_api.create(
        "contacts", SimplePublicObjectInputForCreate(properties={"email": email}))
    return str(made.id)


def _lastname(client: HubSpot, contact_id: str) -> str | None:
    got = client.crm.objects.basic_api.get_by_id("contacts", contact_id, properties=["lastname"])
    return got.properties.get("lastname")  # type: ignore[no-any-return]


def test_untraced_invalid_input_fails_the_whole_update_and_writes_nothing(
    client: HubSpot,
) -> None:
    good, bad = _contact(client, "w1@example.com"), _contact(client, "w2@example.com")
    with pytest.raises(ApiException) as caught:
        client.crm.objects.batch_api.update("contacts", BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": good, "properties": {"lastname": "Written"}},
                    {"id": bad, "properties": {"no_such_property": "x"}}]))
    assert caught.value.status == 400
    body = orjson.loads(caught.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert _lastname(client, good) is None


def test_traced_invalid_input_is_a_207_error_named_by_its_trace_id(client: HubSpot) -> None:
    good, bad = _contact(client, "t1@example.com"), _contact(client, "t2@example.com")
    result = client.crm.objects.batch_api.update(
        "contacts", BatchInputSimplePublicObjectBatchInput(inputs=[
            {"id": good, "properties": {"lastname": "Written"}, "objectWriteTraceId": "a1"},
            {"id": bad, "properties": {"no_such_property": "x"}, "objectWriteTraceId": "b2"}]))
    assert result.num_errors == 1
    assert result.errors[0].context["objectWriteTraceId"] == ["b2"]
    assert [r.id for r in result.results] == [good]
    assert _lastname(client, good) == "Written"


def test_untraced_duplicate_on_batch_create_is_hubspots_409_and_creates_nothing(
    client: HubSpot,
) -> None:
    existing = _contact(client, "dup@example.com")
    before = client.crm.objects.basic_api.get_page("contacts", limit=100)
    with pytest.raises(ApiException) as caught:
        client.crm.objects.batch_api.create(
            "contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
                {"properties": {"email": "fresh@example.com"}},
                {"properties": {"email": "dup@example.com"}}]))
    assert caught.value.status == 409
    body = orjson.loads(caught.value.body)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {existing}"
    after = client.crm.objects.basic_api.get_page("contacts", limit=100)
    assert len(after.results) == len(before.results)


def test_traced_duplicate_on_batch_create_is_a_207_and_the_rest_is_created(
    client: HubSpot,
) -> None:
    _contact(client, "dup2@example.com")
    made = client.crm.objects.batch_api.create(
        "contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            {"properties": {"email": "fresh2@example.com"}, "objectWriteTraceId": "new"},
            {"properties": {"email": "dup2@example.com"}, "objectWriteTraceId": "dup"}]))
    assert made.num_errors == 1
    assert made.errors[0].category == "CONFLICT"
    assert made.errors[0].context["objectWriteTraceId"] == ["dup"]
    assert [r.properties["email"] for r in made.results] == ["fresh2@example.com"]


def test_history_entries_leave_out_sources_they_do_not_have(client: HubSpot) -> None:
    basic = client.crm.objects.basic_api
    basic.update("companies", "1", SimplePublicObjectInput(properties={"partner_tier": "gold"}))
    raw = basic.get_by_id("companies", "1", properties_with_history=["partner_tier"],
                          _preload_content=False)
    entries = orjson.loads(raw.data)["propertiesWithHistory"]["partner_tier"]
    assert len(entries) == 2
    for entry in entries:
        assert None not in entry.values(), entry
        assert {"value", "timestamp", "sourceType"} <= set(entry)
    typed = basic.get_by_id("companies", "1", properties_with_history=["partner_tier"])
    assert typed.properties_with_history["partner_tier"][0].value == "gold"


def test_unknown_type_in_list_associations_is_ignored(client: HubSpot) -> None:
    contact = _contact(client, "linked@example.com")
    client.crm.associations.v4.basic_api.create(
        "contacts", contact, "companies", "2",
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)])
    page = client.crm.objects.basic_api.get_page(
        "contacts", limit=100, associations=["companies", "no_such_type"])
    linked = [r for r in page.results if r.id == contact]
    assert linked[0].associations["companies"].results[0].id == "2"


def test_labelled_association_put_creates_once_and_reads_back(client: HubSpot) -> None:
    contact = _contact(client, "put@example.com")
    spec = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)]
    basic = client.crm.associations.v4.basic_api
    made = basic.create("contacts", contact, "companies", "3", spec)
    again = basic.create("contacts", contact, "companies", "3", spec)
    assert (made.from_object_id, made.to_object_id, made.to_object_type_id) == (
        contact, "3", "0-2")
    assert made.labels == again.labels == ["Primary"]
    links = basic.get_page("contacts", contact, "companies")
    assert [(t.to_object_id, sorted(a.type_id for a in t.association_types))
            for t in links.results] == [("3", [1, 279])]


@pytest.mark.parametrize(("to_id", "type_id", "status"), [
    ("999999", 1, 404),  # no such company
    ("3", 4, 400),  # a contact-to-company type id of another pair
])
def test_labelled_association_put_refuses_bad_targets(
    client: HubSpot, to_id: str, type_id: int, status: int
) -> None:
    contact = _contact(client, f"bad{to_id}{type_id}@example.com")
    spec: list[Any] = [AssociationSpec(association_category="HUBSPOT_DEFINED",
                                       association_type_id=type_id)]
    with pytest.raises(AssocApiException) as caught:
        client.crm.associations.v4.basic_api.create("contacts", contact, "companies", to_id,
                                                    spec)
    assert caught.value.status == status
