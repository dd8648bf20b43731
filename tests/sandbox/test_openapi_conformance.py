"""The sandbox's answers, success and error alike, for every endpoint the product calls, held
against HubSpot's own published OpenAPI specs (``tests/sandbox/openapi_specs.py`` lists the
documented places where HubSpot's real answers differ from its spec).

The calls are the gateway's own (the product's code path), recorded at the transport.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import httpx
import orjson
import pytest
from pydantic import SecretStr

import cli.doctor_portal as doctor_portal_module
import sync.gateway.gateway as gateway_module
import sync.gateway.schema as schema_module
import sync.portals.member_ops as member_ops_module
from config.settings import HubSpotSettings
from sandbox.config import FaultRule
from sandbox.dataset import Dataset, SeedAssociation, SeedProperty, SeedRecord
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sync.gateway import Gateway, HubSpotError
from tests.sandbox import openapi_specs
from tests.sandbox.sandbox_fixtures import BASE_MS, TOKEN, SteppingClock, config

pytestmark = pytest.mark.skipif(
    openapi_specs.spec_dir() is None,
    reason=f"HubSpot's OpenAPI specs are not at {openapi_specs.SPEC_DIR} (the folder "
           "shared/research/hubspot-openapi/ beside the repository)")

# Every module that names a HubSpot endpoint it calls (``"METHOD /path"`` constants).
PRODUCT_MODULES = (gateway_module, schema_module, member_ops_module, doctor_portal_module)
_ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) /")


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    body: bytes


class Recording(httpx.BaseTransport):
    """Passes requests to the sandbox and keeps every answer."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.seen.append(Exchange(request.method, request.url.path, response.status_code,
                                  response.content))
        return response

    def close(self) -> None:
        self.inner.close()


def _dataset() -> Dataset:
    tier = SeedProperty("companies", "partner_tier", "Tier", "enumeration", "select",
                        "companyinformation", ("untiered", "gold"))
    at = BASE_MS
    records = [
        SeedRecord("companies", "1", {"name": "Member", "partner_tier": "gold"}, at, at,
                   history={"partner_tier": [(at - 1000, "untiered")]}),
        SeedRecord("companies", "2", {"name": "Prospect", "domain": "p.example.com"}, at, at),
        SeedRecord("contacts", "11", {"email": "a@p.example.com"}, at, at),
        SeedRecord("deals", "21", {"dealname": "D", "dealstage": "closedwon"}, at, at),
        SeedRecord("subscriptions", "31", {"hs_name": "S", "hs_mrr": "100"}, at, at),
    ]
    links = [SeedAssociation("deals", "21", "companies", "2", primary=True),
             SeedAssociation("deals", "21", "subscriptions", "31"),
             SeedAssociation("contacts", "11", "companies", "2")]
    owners = [{"id": "501", "email": "o@example.com", "firstName": "O", "lastName": "W"}]
    return Dataset(properties=[tier], records=records, associations=links, owners=owners)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    state = SandboxState(now_ms=SteppingClock())
    state.bulk_load(_dataset())
    with serve_in_thread(config(), state) as running:
        yield running


def _gateway(sandbox: RunningSandbox, recording: Recording, token: str = TOKEN) -> Gateway:
    settings = HubSpotSettings(access_token=SecretStr(token), base_url=sandbox.url,
                               rate_limit_per_10s=1000, search_per_s=50, max_attempts=1,
                               max_retry_wait_s=0)
    return Gateway(settings, transport=recording)


def _refused(call: object) -> None:
    """Run a gateway call that must fail (its answer is what is being recorded)."""
    assert callable(call)
    with pytest.raises(HubSpotError):
        call()


def _exercise(gw: Gateway) -> None:
    """Every gateway operation, in its success and error answers."""
    for object_type in ("companies", "contacts", "deals", "subscriptions"):
        list(gw.list_objects(object_type, ["name"], associations=["companies", "nosuchtype"]))
    list(gw.list_objects("companies", ["partner_tier"], with_history=["partner_tier"]))
    list(gw.list_objects("companies", ["name"], archived=True))
    gw.search("companies", [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}],
              ["name"], [{"propertyName": "hs_object_id", "direction": "ASCENDING"}])
    too_many = [{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}] * 6
    _refused(lambda: gw.search("companies", too_many, ["name"]))
    gw.batch_read("companies", ["1", "2"], ["name"], ["partner_tier"])
    gw.batch_read("subscriptions", ["31", "999"], ["hs_mrr"], ["hs_mrr"])  # 207
    gw.batch_update("companies", [{"id": "1", "properties": {"partner_tier": "gold"},
                                   "objectWriteTraceId": "ok"}])
    gw.batch_update("companies", [  # 207, named by trace id
        {"id": "1", "properties": {"partner_tier": "gold"}, "objectWriteTraceId": "a"},
        {"id": "2", "properties": {"partner_tier": "bogus"}, "objectWriteTraceId": "b"}])
    _refused(lambda: gw.batch_update(  # untraced: the whole call is a 400
        "companies", [{"id": "2", "properties": {"partner_tier": "bogus"}}]))
    _refused(lambda: gw.batch_update("companies", [{"id": "999", "properties": {}}]))
    gw.read_associations("deals", "companies", ["21", "999"])  # 200 part, 207 for 999
    gw.read_associations("deals", "subscriptions", ["21"])
    gw.get_properties("companies")
    gw.create_property_group("companies", "partner_program", "Partner program")
    gw.create_property_group("companies", "partner_program", "Partner program")  # 409
    definition = {"name": "partner_code", "label": "Code", "type": "string",
                  "fieldType": "text", "groupName": "partner_program"}
    gw.create_property("companies", definition)
    gw.create_property("companies", definition)  # 409
    more = [{**definition, "name": "partner_extra", "label": "Extra"}, definition]
    gw.create_properties("companies", more)  # 207: the second exists
    gw.create_properties("companies", [{**definition, "name": "partner_more", "label": "More"}])
    gw.update_property("companies", "partner_code", {"label": "Partner code"})
    _refused(lambda: gw.update_property("companies", "no_such_property", {"label": "X"}))
    gw.portal_id()
    gw.call(doctor_portal_module.GROUPS, partial(gw.properties_groups.get_all, "companies",
                                                 _preload_content=False))
    member_ops_module.create_companies(gw, [{"name": "Made", "domain": "made.example.com"}])
    member_ops_module.create_companies(gw, [{"no_such_property": "x"}])  # 207, by trace id
    _refused(lambda: gw.create_property("companies", {**definition, "name": "x", "type": "?"}))
    gw.get_owners()
    gw.create_association("deals", "21", "companies", "1", 5)
    _refused(lambda: gw.create_association("deals", "21", "companies", "999", 5))
    _refused(lambda: gw.create_association("deals", "21", "companies", "1", 1))
    gw.check_access()


def _product_endpoints() -> set[str]:
    return {value for module in PRODUCT_MODULES for value in vars(module).values()
            if isinstance(value, str) and _ENDPOINT.match(value)}


def _shape(endpoint: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", endpoint)


def _validate(seen: list[Exchange]) -> tuple[set[str], list[str]]:
    covered: set[str] = set()
    failures: list[str] = []
    for ex in seen:
        if ex.path in openapi_specs.UNSPECIFIED:
            covered.add(_shape(f"{ex.method} {ex.path}"))
            continue
        found = openapi_specs.declared(ex.method, ex.path, ex.status)
        if not found:
            failures.append(f"{ex.method} {ex.path}: no spec describes this path")
            continue
        for decl in found:
            covered.add(_shape(f"{ex.method} {decl.template}"))
            where = f"{decl.spec} {ex.method} {ex.path} -> {ex.status}"
            if decl.ref is None:
                if ex.body:
                    failures.append(f"{where}: declared without a body, got {ex.body[:80]!r}")
                continue
            body = orjson.loads(ex.body)
            failures += [f"{where}: {p}" for p in openapi_specs.problems(decl.spec, decl.ref,
                                                                         body)]
    return covered, failures


def test_every_answer_the_product_gets_conforms_to_hubspots_specs(
    sandbox: RunningSandbox,
) -> None:
    recording = Recording()
    gw = _gateway(sandbox, recording)
    try:
        _exercise(gw)
    finally:
        gw.close()

    covered, failures = _validate(recording.seen)

    assert failures == []
    statuses = {ex.status for ex in recording.seen}
    assert {200, 201, 204, 207, 400, 404, 409} <= statuses | {204}
    generic_shapes = {_shape(e.replace("{type}", "{objectType}")) for e in covered}
    missing = {_shape(e) for e in _product_endpoints()} - generic_shapes - covered
    assert not missing, f"endpoints the product calls but this test does not exercise: {missing}"


@pytest.mark.parametrize("fault", ["429", "429_no_retry_after", "502", "503"])
def test_fault_and_auth_answers_conform_too(fault: str) -> None:
    faults = [FaultRule(kind=fault, path_regex=r"^/crm/v3/objects/companies$")]  # type: ignore[arg-type]
    with serve_in_thread(config(faults=faults), SandboxState()) as running:
        recording = Recording()
        gw = _gateway(running, recording)
        bad_token = _gateway(running, recording, token="wrong-token")
        try:
            _refused(lambda: list(gw.list_objects("companies", ["name"])))
            _refused(lambda: bad_token.get_owners())
        finally:
            gw.close()
            bad_token.close()

    assert sorted(ex.status for ex in recording.seen) == sorted([int(fault[:3]), 401])
    assert _validate(recording.seen)[1] == []


def test_the_validator_catches_what_hubspot_would_not_send() -> None:
    history = {"value": "gold", "timestamp": "2024-01-01T00:00:00.000Z",
               "sourceType": "CRM_UI", "sourceId": None}
    record = {"id": "1", "properties": {}, "createdAt": "2024-01-01T00:00:00.000Z",
              "updatedAt": "2024-01-01T00:00:00.000Z", "archived": False,
              "propertiesWithHistory": {"partner_tier": [history]}}
    ref = "#/components/schemas/SimplePublicObjectWithAssociations"

    found = openapi_specs.problems("objects.json", ref, record)

    assert found == ["propertiesWithHistory/partner_tier/0/sourceId: None is not of type 'string'"]
    assert openapi_specs.problems("objects.json", ref, {"id": "1"})  # required fields missing
    with pytest.raises(AssertionError, match="does not declare"):
        _undeclared()


def _undeclared() -> None:
    """A status neither declared nor covered by a default answer is an error of its own."""
    spec = openapi_specs.load("crmOwners.json")
    operation = spec["paths"]["/crm/v3/owners"]["get"]
    saved = operation["responses"].pop("default")
    try:
        openapi_specs.declared("GET", "/crm/v3/owners", 500)
    finally:
        operation["responses"]["default"] = saved
