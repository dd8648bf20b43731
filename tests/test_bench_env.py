"""The benchmarks start the real CLI in child processes: the environment they give it must pass
the same settings checks an operator's does (a missing token once made them exit 3)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench import bench_deal_close, bench_webhooks
from cli.startup import require_token
from config.settings import Settings

ENVS: list[Callable[[str, str, int], dict[str, str]]] = [bench_webhooks._env,
                                                          bench_deal_close._env]


@pytest.mark.parametrize("make_env", ENVS, ids=["webhooks", "deal_close"])
def test_bench_environment_satisfies_the_cli(make_env: Callable[[str, str, int], dict[str, str]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env("sqlite:///bench.db", "http://127.0.0.1:9", 8000)
    for name in list(env):
        if name.startswith("PARTNER_SYNC_"):
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name.startswith("PARTNER_SYNC_"):
            monkeypatch.setenv(name, value)
    settings = Settings()
    require_token(settings)  # exits 3 (SystemExit) without a token
    assert settings.hubspot.base_url == "http://127.0.0.1:9"
