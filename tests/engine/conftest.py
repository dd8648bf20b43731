"""Engine fixtures: a sandbox in a thread (no rate limits) and engines wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from cli.runtime import Runtime, build_runtime
from config.settings import HubSpotSettings, Settings, StoreSettings
from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.dataset import Dataset
from sandbox.server import RunningSandbox, serve_in_thread
from sandbox.state import SandboxState
from sync.clock import FixedClock
from sync.engine import SyncEngine

EngineFactory = Callable[..., SyncEngine]


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Iterator[RunningSandbox]:
    with serve_in_thread(sandbox_config, SandboxState()) as running:
        yield running


def settings_for(url: str, db: Path, token: str = "sandbox-token") -> Settings:
    return Settings(
        hubspot=HubSpotSettings(access_token=SecretStr(token), base_url=url,
                                search_per_s=50, rate_limit_per_10s=1000, max_attempts=2,
                                max_retry_wait_s=0),
        store=StoreSettings(url=f"sqlite:///{db}"),
    )


@pytest.fixture
def make_engine(sandbox: RunningSandbox, tmp_path: Path) -> Iterator[EngineFactory]:
    """``make_engine(dataset=None, token=...)``: seed the sandbox, build a fresh runtime."""
    runtimes: list[Runtime] = []

    def make(dataset: Dataset | None = None, token: str = "sandbox-token") -> SyncEngine:
        if dataset is not None:
            sandbox.state.bulk_load(dataset)
        clock = FixedClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
        runtime = build_runtime(settings_for(sandbox.url, tmp_path / "store.db", token),
                                clock=clock)
        runtimes.append(runtime)
        return runtime.engine

    yield make
    for runtime in runtimes:
        runtime.close()
