"""A token without a scope the sync needs stops the run with a message naming the token (by
fingerprint, never the token) and the missing scope; the run log records the failure."""

from __future__ import annotations

from datetime import date

import httpx
import orjson
import pytest

from sandbox.server import RunningSandbox
from sync.engine import SyncEngine, SyncError
from sync.gateway import Gateway, token_fingerprint
from tests.engine.conftest import EngineFactory
from tests.engine.seed import Seed

TOKEN = "sandbox-token"
# HubSpot's 403 for a private-app token lacking a granular scope (error-handling docs' shape).
MISSING = {"status": "error", "message": "This app hasn't been granted all required scopes",
           "correlationId": "c-403", "category": "MISSING_SCOPES",
           "errors": [{"message": "One or more of the following scopes are required.",
                       "context": {"requiredGranularScopes": ["crm.objects.deals.read"]}}]}


class _NoDealsScope(httpx.BaseTransport):
    """The real sandbox over HTTP, except that every deals call answers 403 MISSING_SCOPES."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/deals" in request.url.path:
            return httpx.Response(403, content=orjson.dumps(MISSING),
                                  headers={"content-type": "application/json"})
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_missing_scope_stops_the_sync_naming_token_and_scope(
    sandbox: RunningSandbox, make_engine: EngineFactory
) -> None:
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com")
    base = make_engine(seed.dataset(), token=TOKEN)
    gateway = Gateway(base.settings.hubspot, transport=_NoDealsScope())
    engine = SyncEngine(base.settings, gateway=gateway, store=base.store, clock=base.clock)
    try:
        with pytest.raises(SyncError) as caught:
            engine.full_sync(as_of=date(2024, 6, 1))
    finally:
        gateway.close()

    message = str(caught.value)
    assert caught.value.kind == "auth"
    assert token_fingerprint(TOKEN) in message
    assert "crm.objects.deals.read" in message
    assert TOKEN not in message
    run = engine.store.list_runs()[0]
    assert run.status == "failed"
    assert run.error is not None
    assert "crm.objects.deals.read" in run.error
