"""A bounded fuzz of ``serve``'s receiver and admin API, driven by ``/openapi.json``: signed and
unsigned webhook deliveries of arbitrary JSON and event-shaped objects with arbitrary field
values, and admin calls (valid token) with arbitrary queries, path ids and bodies. Every answer
must be one the document declares for that operation, and never a 5xx; whatever was
acknowledged must leave the inbox worker able to finish its pass."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cli.serve import ServerThread
from config.settings import Settings
from sync.clock import FixedClock
from sync.portals.repo import PortalRepo
from sync.store import Store
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, event, signed
from tests.webhooks.test_worker import OUTPUTS
from webhooks.app import ServeParts
from webhooks.events import _BOOL_FIELDS, _ID_FIELDS, _TEXT_FIELDS
from webhooks.portals_admin import portals_admin_routes
from webhooks.worker import InboxWorker

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VALID_RESYNCS = [{"all": True}, {"object_type": "deals"}, {"member": "ACME"},
                 {"records": [{"object_type": "deals", "id": "1"}]}]
BOUNDED = hypothesis_settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=12,
)
deep_values = st.integers(1, 400).map(lambda depth: json.loads("[" * depth + "]" * depth))
field_names = sorted(_ID_FIELDS | _TEXT_FIELDS | _BOOL_FIELDS
                     | {"occurredAt", "propertyValue", "mergedObjectIds", "newField"})
events = st.builds(
    lambda base, changes: {**base, **changes},
    st.integers(0, 99).map(lambda i: event(i, event_id=i)),
    st.dictionaries(st.sampled_from(field_names), json_values | deep_values, max_size=3),
)
bodies = (st.lists(events, max_size=4).map(json.dumps)
          | json_values.map(json.dumps)
          | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
header_text = st.text(st.characters(max_codepoint=255, exclude_categories=["Cc"]), max_size=20)
# HTTP forbids a header value's leading and trailing blanks (the client refuses to send them).
header_values = header_text.filter(lambda t: t == t.strip(" \t"))


def declared(method: str, path: str, client: httpx.Client) -> set[int]:
    document = client.get("/openapi.json").json()
    return {int(code) for code in document["paths"][path][method]["responses"]}


@pytest.fixture
def client(settings: Settings, store: Store, engine: FakeEngine,
           clock: FixedClock) -> Iterator[httpx.Client]:
    """The real server (uvicorn on loopback): its own header and request handling included;
    with the member-portal admin route, as serve adds it when member portals are configured."""
    parts = ServeParts(settings, store, engine, clock=clock)
    parts.extra_routes += portals_admin_routes(store, ADMIN_TOKEN)
    with ServerThread(parts) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def _check(answers: set[int]) -> Callable[[int], None]:
    def check(status: int) -> None:
        assert status < 500, f"a {status}"
        assert status in answers, f"{status} is not declared ({sorted(answers)})"

    return check


def test_fuzz_the_webhook_receiver(client: httpx.Client, store: Store, engine: FakeEngine,
                                   clock: FixedClock) -> None:
    check = _check(declared("post", "/webhooks/hubspot", client))
    worker = InboxWorker(store, engine, clock=clock, output_properties=OUTPUTS, app_id="777",
                         worker_id="fuzz")

    @BOUNDED
    @given(body=bodies, sign=st.booleans(), timestamp=st.none() | header_values)
    def deliver(body: str, sign: bool, timestamp: str | None) -> None:
        raw = body.encode("utf-8", "surrogatepass")
        _, headers = signed(raw, clock)
        if not sign:
            headers["X-HubSpot-Signature-v3"] = "unsigned"
        if timestamp is not None:
            headers["X-HubSpot-Request-Timestamp"] = timestamp
        encoded = {k: v.encode("latin-1") for k, v in headers.items()}
        response = client.post("/webhooks/hubspot", content=raw, headers=encoded)
        check(response.status_code)
        worker.run_once()  # acknowledged events never stop the worker
        statuses.append(response.status_code)

    statuses: list[int] = []
    deliver()
    assert len(statuses) >= BOUNDED.max_examples  # the fuzz really ran
    assert {204, 400, 401} <= set(statuses)  # and reached each outcome


def test_fuzz_the_admin_api(client: httpx.Client, engine: FakeEngine) -> None:
    runs = _check(declared("get", "/admin/runs", client))
    one_run = _check(declared("get", "/admin/runs/{run_id}", client))
    resync = _check(declared("post", "/admin/resync", client))

    @BOUNDED
    @given(limit=header_text, run_id=st.integers(0, 2**80).map(str) | header_text.filter(
        lambda t: t.strip(".") != ""),  # "", "." and ".." name another path
           body=json_values | st.sampled_from(VALID_RESYNCS) | st.dictionaries(
               st.sampled_from(["all", "object_type", "records", "member"]), json_values,
               min_size=1, max_size=2))
    def call(limit: str, run_id: str, body: Any) -> None:
        runs(client.get("/admin/runs", params={"limit": limit}, headers=AUTH).status_code)
        answer = client.get(f"/admin/runs/{quote(run_id, safe='')}", headers=AUTH)
        if run_id.isascii() and run_id.isdigit():  # other paths are not this route at all
            one_run(answer.status_code)
        else:
            assert answer.status_code == 404
        answer = client.post("/admin/resync", content=json.dumps(body), headers=AUTH)
        resync(answer.status_code)
        statuses.append(answer.status_code)

    statuses: list[int] = []
    call()
    assert len(statuses) >= BOUNDED.max_examples
    assert {200, 400} <= set(statuses)


def declared_answer(method: str, path: str, status: int, client: httpx.Client) -> Any:
    document = client.get("/openapi.json").json()
    return document["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"]["schema"]


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """The parts of JSON Schema the document uses: type, enum, required, properties, items,
    minimum and the date-time format."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        assert any(_TYPES[t](value) for t in names), f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "minimum" in schema and value is not None:
        assert value >= schema["minimum"], f"{where}: {value!r} < {schema['minimum']}"
    if schema.get("format") == "date-time" and isinstance(value, str):
        datetime.fromisoformat(value)
    if isinstance(value, dict):
        assert set(schema.get("required", ())) <= set(value), f"{where}: missing keys"
        props = schema.get("properties", {})
        assert set(value) <= set(props), f"{where}: undeclared {set(value) - set(props)}"
        for key, item in value.items():
            conforms(item, props[key], f"{where}.{key}")
    if isinstance(value, list):
        for i, item in enumerate(value):
            conforms(item, schema.get("items", {}), f"{where}[{i}]")


def test_fuzz_the_portals_admin_api(client: httpx.Client, store: Store) -> None:
    """Arbitrary queries and authorization headers, over portals with arbitrary member codes,
    errors and call counts: declared answers only, and a 200's body as the document says."""
    check = _check(declared("get", "/admin/portals", client))
    shape = declared_answer("get", "/admin/portals", 200, client)
    repo = PortalRepo(store)
    hub_ids = iter(range(1, 10_000))

    @BOUNDED
    @given(auth=st.sampled_from([AUTH["Authorization"], None]) | header_values,
           query=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
           member=st.none() | st.text(min_size=1, max_size=12),
           error=st.none() | st.text(max_size=30), calls=st.integers(0, 2**40),
           disconnect=st.booleans())
    def call(auth: str | None, query: dict[str, str], member: str | None, error: str | None,
             calls: int, disconnect: bool) -> None:
        if member is not None:
            hub_id = next(hub_ids)
            repo.save_connection(hub_id, member, ("crm.objects.companies.read",), "sealed-r",
                                 "sealed-a", datetime.fromisoformat("2026-12-07T12:00:00+00:00"))
            repo.record_sync(hub_id, calls, error)
            if disconnect:
                repo.mark_disconnected(hub_id, "refresh refused")
        headers = {} if auth is None else {"Authorization": auth.encode("latin-1")}
        answer = client.get("/admin/portals", params=query, headers=headers)
        check(answer.status_code)
        if answer.status_code == 200:
            conforms(answer.json(), shape)
            assert "sealed" not in answer.text  # no token, ever
        statuses.append(answer.status_code)

    statuses: list[int] = []
    call()
    assert len(statuses) >= BOUNDED.max_examples
    assert {200, 401} <= set(statuses)
    assert client.get("/admin/portals", headers=AUTH).json()["portals"]  # rows were listed
