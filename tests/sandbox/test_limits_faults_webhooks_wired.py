"""Rate limits, faults and webhooks through ``create_app`` under ``serve_in_thread``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from hubspot.utils.signature import Signature

from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.server import serve_in_thread
from tests.sandbox.servers import serve
from tests.sandbox.webhook_receiver import Received, Receiver, v3_is_valid

TOKEN = "wired-token"
SECRET = "wired-secret"
CONTACTS = "/crm/v3/objects/contacts"


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _wait_for(receiver: Receiver, count: int, timeout_s: float = 5.0) -> list[Received]:
    deadline = time.monotonic() + timeout_s
    while len(receiver.received) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(receiver.received)} deliveries, expected {count}")
        time.sleep(0.01)
    return receiver.received


@pytest.fixture
def receiver_url() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with serve(receiver.app()) as base_url:
        yield receiver, f"{base_url}/hooks"


def test_record_created_over_http_is_delivered_signed(
    receiver_url: tuple[Receiver, str],
) -> None:
    receiver, url = receiver_url
    webhooks = WebhookConfig(url=url, client_secret=SECRET, app_id=4242, batch_window_s=0.02)
    config = SandboxConfig(token=TOKEN, portal_id=777, webhooks=webhooks)
    with serve_in_thread(config) as sandbox, _client(sandbox.url) as client:
        created = client.post(CONTACTS, json={"properties": {"email": "ann@example.test"}})
        assert created.status_code == 201
        record_id = int(created.json()["id"])
        (request, *_) = _wait_for(receiver, 1)
    assert v3_is_valid(request, SECRET)
    assert Signature.is_valid(signature=request.headers["x-hubspot-signature"],
                              client_secret=SECRET, request_body=request.body.decode(),
                              signature_version="v1")
    events = orjson.loads(request.body)
    creation = [e for e in events if e["subscriptionType"] == "contact.creation"]
    assert [(e["objectId"], e["portalId"], e["appId"]) for e in creation] == [
        (record_id, 777, 4242)]


def test_rate_limits_are_enforced_through_create_app() -> None:
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(per_10s=2, daily=100))
    with serve_in_thread(config) as sandbox, _client(sandbox.url) as client:
        answers = [client.get(CONTACTS) for _ in range(3)]
        unauthenticated = httpx.get(sandbox.url + CONTACTS)
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert unauthenticated.status_code == 401


def test_faults_are_driven_through_the_control_endpoint() -> None:
    config = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(enabled=False))
    with serve_in_thread(config) as sandbox, _client(sandbox.url) as client:
        rules = [{"kind": "503", "path_regex": "/contacts$", "count": 1},
                 {"kind": "drop", "method": "DELETE", "count": 1}]
        assert client.put("/_sandbox/faults", json=rules).status_code == 200
        assert client.get(CONTACTS).status_code == 503
        assert client.get(CONTACTS).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            client.delete(CONTACTS + "/1")
        assert client.delete("/_sandbox/faults").status_code == 204
        assert client.get(CONTACTS).status_code == 200
