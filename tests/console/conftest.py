"""Fixtures for the console's HTTP tests: the serve app over a SQLite store, the fake engine of
the serve tests, and a client that can log in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from config.settings import Settings
from sync.clock import FixedClock
from sync.store import Store
from tests.webhooks import conftest as serve_fixtures
from tests.webhooks.conftest import ADMIN_TOKEN, FakeEngine, serve_app
from webhooks.app import ServeParts, create_app

# The serve tests' fixtures: a fixed clock, a SQLite store on a temp file, the fake engine and
# settings with the admin token.
clock = serve_fixtures.clock
store_url = serve_fixtures.store_url
store = serve_fixtures.store
engine = serve_fixtures.engine
settings = serve_fixtures.settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match is not None, "no CSRF field in the page"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post("/console/login", data={
        "csrf": csrf_of(form.text), "token": token, "next": "/console/"})


@pytest.fixture
def parts(settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock) -> ServeParts:
    return ServeParts(settings, store, engine, clock=clock)


@pytest.fixture
async def client(parts: ServeParts) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app(create_app(parts)) as c:
        yield c


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client, logged in."""
    answer = await log_in(client)
    assert answer.status_code == 303, answer.text
    return client
