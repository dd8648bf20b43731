"""Contract tests: the official ``hubspot-api-client`` SDK, unchanged, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.exceptions import ApiException, NotFoundException, UnauthorizedException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from sandbox.dataset import Dataset
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from tests.sandbox.sandbox_fixtures import TOKEN, SteppingClock, companies, config


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    state = SandboxState(now_ms=SteppingClock())
    state.bulk_load(companies(25))
    state.bulk_load(Dataset(owners=[{"id": "501", "email": "o@example.com",
                                     "firstName": "Olga", "lastName": "Owner"}]))
    with serve_in_thread(config(), state) as running:
        yield running


@pytest.fixture
def client(sandbox: RunningSandbox) -> HubSpot:
    return HubSpot(access_token=TOKEN, host=sandbox.url)


def _create_contact(client: HubSpot, email: str, **props: str) -> Any:
    body = SimplePublicObjectInputForCreate(properties={"email": email, **props})
    return client.crm.objects.basic_api.create("contacts", body)


def test_paging_walks_every_live_record_once(client: HubSpot) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.objects.basic_api.get_page("companies", limit=7, after=after,
                                                     properties=["name", "partner_tier"])
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    live = [r.id for r in client.crm.objects.get_all("0-2")]
    assert seen == live
    assert len(seen) == len(set(seen)) >= 25
    assert page.results[-1].properties["hs_object_id"] == page.results[-1].id


def test_create_update_history_archive_then_404(client: HubSpot) -> None:
    created = _create_contact(client, "hist@example.com", firstname="Ann")
    assert created.properties["firstname"] == "Ann"
    basic = client.crm.objects.basic_api
    basic.update("contacts", created.id, SimplePublicObjectInput(properties={"firstname": "Bea"}))
    read = basic.get_by_id("contacts", created.id, properties=["firstname"],
                           properties_with_history=["firstname"])
    assert read.properties["firstname"] == "Bea"
    assert [h.value for h in read.properties_with_history["firstname"]] == ["Bea", "Ann"]
    assert read.updated_at > read.created_at
    by_email = basic.get_by_id("contacts", "HIST@example.com", id_property="email")
    assert by_email.id == created.id
    assert basic.archive("contacts", created.id) is None
    with pytest.raises(NotFoundException):
        basic.get_by_id("contacts", created.id)
    archived = basic.get_by_id("contacts", created.id, archived=True)
    assert archived.archived is True


def test_create_sets_system_dates_like_an_import(client: HubSpot) -> None:
    body = SimplePublicObjectInputForCreate(properties={
        "dealname": "Old deal", "dealstage": "closedwon", "pipeline": "default",
        "createdate": "2021-03-04T05:06:07Z", "closedate": "1617235200000"})
    deal = client.crm.objects.basic_api.create("deals", body)
    assert deal.properties["createdate"] == "2021-03-04T05:06:07.000Z"
    assert deal.properties["closedate"] == "2021-04-01T00:00:00.000Z"


def test_batch_create_201_and_update_207_with_errors(client: HubSpot) -> None:
    batch = client.crm.objects.batch_api
    made = batch.create("contacts", BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
        {"properties": {"email": f"b{i}@example.com"}} for i in range(3)]))
    assert made.status == "COMPLETE"
    assert len(made.results) == 3
    ids = [r.id for r in made.results]
    result = batch.update("contacts", BatchInputSimplePublicObjectBatchInput(inputs=[
        {"id": ids[0], "properties": {"lastname": "Ok"}, "objectWriteTraceId": "t-ok"},
        {"id": ids[1], "properties": {"no_such_property": "x"}, "objectWriteTraceId": "t-bad"},
        {"id": "999999", "properties": {"lastname": "Ghost"}, "objectWriteTraceId": "t-gone"},
    ]))
    assert result.num_errors == 2
    assert [r.id for r in result.results] == [ids[0]]
    by_trace = {e.context["objectWriteTraceId"][0]: e.category for e in result.errors}
    assert by_trace == {"t-bad": "VALIDATION_ERROR", "t-gone": "OBJECT_NOT_FOUND"}
    read = batch.read("contacts", BatchReadInputSimplePublicObjectId(
        inputs=[{"id": ids[0]}, {"id": "888888"}], properties=["lastname"]))
    assert read.num_errors == 1
    assert read.results[0].properties["lastname"] == "Ok"
    assert read.errors[0].context == {"ids": ["888888"]}


def test_batch_upsert_by_email_and_batch_archive(client: HubSpot) -> None:
    batch = client.crm.objects.batch_api
    first = _create_contact(client, "up@example.com")
    result = batch.upsert("contacts", BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        {"id": "up@example.com", "idProperty": "email", "properties": {"lastname": "Up"}},
        {"id": "new@example.com", "idProperty": "email", "properties": {"lastname": "New"}},
    ]))
    by_new = {r.new: r for r in result.results}
    assert by_new[False].id == first.id
    assert by_new[True].properties["email"] == "new@example.com"
    batch.archive("contacts", BatchInputSimplePublicObjectId(inputs=[{"id": first.id}]))
    with pytest.raises(NotFoundException):
        client.crm.objects.basic_api.get_by_id("contacts", first.id)


def _search(client: HubSpot, object_type: str, **body: Any) -> Any:
    return client.crm.objects.search_api.do_search(object_type, PublicObjectSearchRequest(**body))


def test_search_operators_groups_sort_and_paging(client: HubSpot) -> None:
    gold_or_platinum = _search(
        client, "companies",
        filter_groups=[{"filters": [{"propertyName": "partner_tier", "operator": "EQ",
                                     "value": "gold"}]},
                       {"filters": [{"propertyName": "partner_tier", "operator": "IN",
                                     "values": ["platinum"]},
                                    {"propertyName": "hs_object_id", "operator": "LTE",
                                     "value": "12"}]}],
        sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
        properties=["partner_tier"], limit=3)
    # gold: ids 2,5,...,23 (8 records); platinum with id <= 12: 3,6,9,12 (4 records)
    assert gold_or_platinum.total == 12
    ids = [int(r.id) for r in gold_or_platinum.results]
    assert ids == [23, 20, 17]
    second = _search(client, "companies", filter_groups=[{"filters": [
        {"propertyName": "partner_tier", "operator": "EQ", "value": "gold"}]}],
        sorts=["-hs_object_id"], limit=3, after=gold_or_platinum.paging.next.after)
    assert [int(r.id) for r in second.results] == [14, 11, 8]


@pytest.mark.parametrize(
    ("filt", "expected"),
    [
        ({"operator": "NEQ", "value": "Company 1"}, 24),
        ({"operator": "BETWEEN", "value": "3", "highValue": "5", "propertyName": "hs_object_id"},
         3),
        ({"operator": "GT", "value": "20", "propertyName": "hs_object_id"}, 5),
        ({"operator": "GTE", "value": "20", "propertyName": "hs_object_id"}, 6),
        ({"operator": "LT", "value": "3", "propertyName": "hs_object_id"}, 2),
        ({"operator": "NOT_IN", "values": ["company 1", "company 2"]}, 23),
        ({"operator": "HAS_PROPERTY"}, 25),
        ({"operator": "NOT_HAS_PROPERTY", "propertyName": "phone"}, 25),
        ({"operator": "CONTAINS_TOKEN", "value": "1"}, 1),
        ({"operator": "CONTAINS_TOKEN", "value": "c1*", "propertyName": "domain"}, 11),
        ({"operator": "NOT_CONTAINS_TOKEN", "value": "company"}, 0),
        ({"operator": "GTE", "value": "2023-11-14T22:13:40Z", "propertyName": "createdate"},
         5),  # created at BASE + i s for i in 0..24: i >= 20
        ({"operator": "LT", "value": "1700000003000", "propertyName": "createdate"}, 3),
    ],
)
def test_search_each_operator(client: HubSpot, filt: dict[str, Any], expected: int) -> None:
    # Counted over the seeded companies only (ids 1..25), whatever other tests created.
    base = {"propertyName": "hs_object_id", "operator": "LTE", "value": "25"}
    result = _search(client, "companies", filter_groups=[
        {"filters": [{"propertyName": "name", **filt}, base]}], limit=200)
    assert result.total == expected


def test_properties_and_groups(client: HubSpot) -> None:
    props = client.crm.properties
    group = props.groups_api.create("deals", PropertyGroupCreate(name="pp_test", label="PP"))
    assert group.name == "pp_test"
    created = props.core_api.create("deals", PropertyCreate(
        name="pp_level", label="Level", type="enumeration", field_type="select",
        group_name="pp_test", options=[{"label": "A", "value": "a", "hidden": False}]))
    assert created.options[0].value == "a"
    assert "pp_level" in {p.name for p in props.core_api.get_all("deals").results}
    with pytest.raises(PropertiesApiException) as conflict:
        props.core_api.create("deals", PropertyCreate(
            name="pp_level", label="Level", type="string", field_type="text",
            group_name="pp_test"))
    assert conflict.value.status == 409
    assert orjson.loads(conflict.value.body)["category"] == "OBJECT_ALREADY_EXISTS"
    assert props.core_api.get_by_name("deals", "dealstage").type == "enumeration"


def test_associations_v4_create_and_read(client: HubSpot) -> None:
    contact = _create_contact(client, "assoc@example.com")
    v4 = client.crm.associations.v4
    made = v4.batch_api.create("contacts", "companies", BatchInputPublicAssociationMultiPost(
        inputs=[{"from": {"id": contact.id}, "to": {"id": "3"},
                 "types": [{"associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": 1}]}]))
    assert made.results[0].to_object_id == "3"
    read = v4.batch_api.get_page("contacts", "companies",
                                 BatchInputPublicFetchAssociationsBatchRequest(
                                     inputs=[{"id": contact.id}]))
    types = {t.type_id: t.label for t in read.results[0].to[0].association_types}
    assert types == {279: None, 1: "Primary"}
    back = v4.basic_api.get_page("companies", "3", "contacts")
    assert {t.type_id for t in back.results[0].association_types} == {280, 2}
    with_assoc = client.crm.objects.basic_api.get_by_id("contacts", contact.id,
                                                        associations=["companies"])
    assert {a.type for a in with_assoc.associations["companies"].results} == {
        "contact_to_company", "contact_to_company_unlabeled"}


def test_create_with_associations_in_body(client: HubSpot) -> None:
    body = SimplePublicObjectInputForCreate(
        properties={"dealname": "D", "dealstage": "closedwon", "pipeline": "default"},
        associations=[{"to": {"id": "4"}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}])
    deal = client.crm.objects.basic_api.create("deals", body)
    back = client.crm.associations.v4.basic_api.get_page("deals", deal.id, "companies")
    assert [r.to_object_id for r in back.results] == ["4"]


def test_owners_and_subscriptions_by_type_id(client: HubSpot) -> None:
    owners = client.crm.owners.owners_api.get_page()
    assert [o.email for o in owners.results] == ["o@example.com"]
    sub = client.crm.objects.basic_api.create("0-69", SimplePublicObjectInputForCreate(
        properties={"hs_name": "Pro", "hs_status": "active", "hs_mrr": "99.50"}))
    read = client.crm.objects.basic_api.get_by_id("subscriptions", sub.id,
                                                  properties=["hs_mrr", "hs_status"])
    assert read.properties["hs_mrr"] == "99.50"


def test_wrong_token_is_401(sandbox: RunningSandbox) -> None:
    bad = HubSpot(access_token="nope", host=sandbox.url)
    with pytest.raises(UnauthorizedException) as failure:
        bad.crm.objects.basic_api.get_page("contacts")
    assert orjson.loads(failure.value.body)["category"] == "INVALID_AUTHENTICATION"


def test_invalid_option_is_a_400_the_sdk_raises(client: HubSpot) -> None:
    with pytest.raises(ApiException) as failure:
        client.crm.objects.basic_api.create("deals", SimplePublicObjectInputForCreate(
            properties={"dealname": "X", "dealstage": "not-a-stage"}))
    assert failure.value.status == 400
    assert orjson.loads(failure.value.body)["errors"][0]["code"] == "INVALID_OPTION"
