"""What a run shows: a readable dry run, one JSON run document for sync and for local and
remote resync, a summary line for every run, progress off a terminal, and an unreachable
portal that fails fast naming the host and the URL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from cli.output import PROGRESS_LOGGER, activity
from cli.run_output import change_rows
from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts
from config.settings import load_settings
from sandbox.server import RunningSandbox, free_port
from tests.cli.conftest import env_for, invoke, no_traceback
from tests.engine.seed import C, value

ADMIN = "admin-token-for-cli-tests"


def _summary(stdout: str) -> str:
    [line] = [x for x in stdout.splitlines() if x.startswith("run ")]
    return line


def test_a_dry_run_is_a_readable_plan_and_writes_nothing(
    portal: RunningSandbox, store_url: str
) -> None:
    result = invoke(["sync", "--full", "--dry-run"], env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "planned changes" in out
    assert "companies.partner_registration_status" in out
    assert "(empty) -> registered" in out
    assert "data problems (" in out
    assert "unknown_partner_code (NOPE)" in out
    assert "(dry run) ok: read" in _summary(out)
    assert out.rstrip().endswith("dry run: nothing written")
    assert "{'" not in out  # no dict reprs
    assert len(out.splitlines()) < 60
    state = portal.state
    assert all(value(state, "companies", str(i), C.registration_status) is None
               for i in state.types["companies"].records)


def test_a_dry_run_json_lists_every_patch_with_its_previous_values(
    portal: RunningSandbox, store_url: str
) -> None:
    result = invoke(["sync", "--full", "--dry-run", "--json"], env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["dry_run"] is True
    patches = doc["patches"]
    assert patches
    assert all(set(p) == {"object_type", "object_id", "properties", "previous"}
               for p in patches)
    assert {"unknown_partner_code"} <= {p["code"] for p in doc["problems"]}


def test_change_rows_group_by_property_and_value() -> None:
    patches: list[dict[str, Any]] = [
        {"object_type": "deals", "object_id": str(i),
         "properties": {"partner_attribution": "registered", "partner_commission_earned": str(i)},
         "previous": {"partner_attribution": "unattributed" if i < 3 else None}}
        for i in range(20)
    ]

    rows = change_rows(patches)

    assert rows == [
        ("deals.partner_attribution", "(empty)", "registered", 17),
        ("deals.partner_attribution", "unattributed", "registered", 3),
        ("deals.partner_commission_earned",
         "(20 different changes, e.g. (empty) -> 0)", "", 20),
    ]


@pytest.fixture
def serve_url(portal: RunningSandbox, store_url: str) -> Iterator[str]:
    """`serve` (admin API) on a thread over the same portal and store."""
    env = env_for(portal.url, store_url, PARTNER_SYNC_ADMIN__TOKEN=ADMIN,
                  PARTNER_SYNC_SCHEDULER__ENABLED="false")
    with pytest.MonkeyPatch.context() as patch:
        for key, val in env.items():
            patch.setenv(key, val)
        settings = load_settings()
    runtime = build_runtime(settings)
    try:
        with ServerThread(build_parts(runtime, worker=False), port=free_port()) as server:
            yield server.url
    finally:
        runtime.close()


def test_sync_local_resync_and_remote_resync_print_one_run_schema(
    portal: RunningSandbox, store_url: str, serve_url: str
) -> None:
    env = env_for(portal.url, store_url)
    docs = [
        orjson.loads(invoke(["sync", "--full", "--json"], env).stdout),
        orjson.loads(invoke(["resync", "--all", "--json"], env).stdout),
        orjson.loads(invoke(["resync", "--all", "--json", "--remote", serve_url,
                             "--admin-token", ADMIN], env).stdout),
    ]

    assert [sorted(d) for d in docs[1:]] == [sorted(docs[0])] * 2
    assert [d["trigger"] for d in docs] == ["cli", "cli", "admin"]
    assert [d["status"] for d in docs] == ["ok", "ok", "ok"]


def test_local_resync_prints_a_summary_and_records_the_cli_trigger(
    portal: RunningSandbox, store_url: str
) -> None:
    result = invoke(["resync", "--type", "deals"], env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    assert "(cli) ok: read" in _summary(result.stdout)


def test_a_sync_prints_a_summary_line_and_no_dry_run_words(
    portal: RunningSandbox, store_url: str
) -> None:
    result = invoke(["sync", "--full"], env_for(portal.url, store_url))

    assert result.exit_code == 0, result.output
    assert " full (cli) ok: read " in _summary(result.stdout)
    assert "dry run" not in result.stdout


def test_an_unreachable_portal_fails_fast_naming_host_and_url(store_url: str) -> None:
    port = free_port()
    started = time.monotonic()

    result = invoke(["sync"], env_for(f"http://127.0.0.1:{port}", store_url))

    assert result.exit_code == 4, result.output
    assert time.monotonic() - started < 5
    assert f"cannot reach http://127.0.0.1:{port}: ConnectError" in result.stderr
    assert f"[GET http://127.0.0.1:{port}/" in result.stderr  # the URL of the first call
    [error] = [x for x in result.stderr.splitlines() if x.startswith("error: ")]
    assert "{" not in error  # the URL called, not the endpoint label with placeholders
    assert no_traceback(result)


def test_progress_off_a_terminal_is_a_log_line_every_interval(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger=PROGRESS_LOGGER)
    pipe = Console(file=(tmp_path / "out.txt").open("w"), force_terminal=False)
    calls = iter(range(1000))
    gate = threading.Event()

    with activity("full sync", lambda: next(calls), out=pipe, quiet_interval_s=0.05):
        gate.wait(0.5)
    with activity("quick sync", lambda: 0, out=pipe, quiet_interval_s=60):
        pass

    lines = [r.getMessage() for r in caplog.records if r.name == PROGRESS_LOGGER]
    assert len(lines) >= 3
    assert all(line.startswith("full sync: running for ") for line in lines)
    assert "HubSpot calls so far" in lines[0]
    pipe.file.close()


def test_a_patch_carries_the_values_it_replaces() -> None:
    from mappers.outbound import Patch, diff

    key = ("deals", "7")
    [patch] = diff({key: {"partner_attribution": "registered", "partner_deal_type": "cross_sell"}},
                   {key: {"partner_attribution": "unattributed",
                          "partner_deal_type": "cross_sell"}})

    assert dict(patch.properties) == {"partner_attribution": "registered"}
    assert dict(patch.previous) == {"partner_attribution": "unattributed"}
    assert patch == Patch("deals", "7", {"partner_attribution": "registered"})  # not compared
