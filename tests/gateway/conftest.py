"""Fixtures of the gateway tests: a fake clock, a fake HubSpot, a gateway wired to both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.gateway import Gateway
from tests.gateway.fakes import FakeClock, FakeHubSpot, make_gateway


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub() -> FakeHubSpot:
    return FakeHubSpot()


@pytest.fixture
def gateway(hub: FakeHubSpot, clock: FakeClock) -> Iterator[Gateway]:
    gw = make_gateway(hub, clock)
    yield gw
    gw.close()
