"""A bounded fuzz of ``serve``'s receiver and admin API, driven by ``/openapi.json``: signed and
unsigned webhook deliveries of arbitrary JSON and event-shaped objects with arbitrary field
values, and admin calls (valid token) with arbitrary queries, path ids and bodies. Every answer
must be one the document declares for that operation, and never a 5xx; whatever was
acknowledged must leave the inbox worker able to finish its pass."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
from sync.store import Store
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, event, signed
from tests.webhooks.test_worker import OUTPUTS
from webhooks.app import ServeParts
from webhooks.events import _BOOL_FIELDS, _ID_FIELDS, _TEXT_FIELDS
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


def declared(method: str, path: str, client: httpx.Client) -> set[int]:
    document = client.get("/openapi.json").json()
    return {int(code) for code in document["paths"][path][method]["responses"]}


@pytest.fixture
def client(settings: Settings, store: Store, engine: FakeEngine,
           clock: FixedClock) -> Iterator[httpx.Client]:
    """The real server (uvicorn on loopback): its own header and request handling included."""
    with ServerThread(ServeParts(settings, store, engine, clock=clock)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
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
    @given(body=bodies, sign=st.booleans(), timestamp=st.none() | header_text)
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
