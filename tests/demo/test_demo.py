"""``partner-sync demo --json`` in-process (typer's CliRunner), checked against the generated data
and the program terms, and that it leaves nothing running: threads, servers, temporary files."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli.demo.events import DEMO_MRR, DemoError, Waiter
from cli.demo.run import STEPS, Steps, run_demo
from cli.demo.world import DemoWorld
from cli.main import app
from config.contract import CrmContract
from config.terms import load_terms
from sandbox.generator import DEFAULT_TODAY, describe, generate
from sync.store import Store

pytestmark = pytest.mark.slow

C = CrmContract()
TERMS = load_terms()
NO_TOKEN = {"PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": None, "PARTNER_SYNC_CONFIG_FILE": None}
PAYOUT_DAYS = {(2, 14), (5, 15), (8, 14), (11, 14)}  # R8.1: quarter end + 45 days


@dataclass
class DemoRun:
    result: dict[str, Any]
    stderr: str
    store_path: Path
    threads_before: set[threading.Thread]


def _threads_settled(before: set[threading.Thread], timeout_s: float = 5.0) -> set[str]:
    """Names of threads started since ``before`` that are still alive after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        extra = {t for t in threading.enumerate() if t not in before and t.is_alive()}
        if not extra or time.monotonic() > deadline:
            return {t.name for t in extra}
        time.sleep(0.05)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    store_path = tmp_path_factory.mktemp("demo") / "kept.db"
    before = set(threading.enumerate())
    outcome = CliRunner().invoke(app, ["demo", "--json", "--seed", "1", "--keep-store",
                                       str(store_path)], env=NO_TOKEN)
    assert outcome.exit_code == 0, outcome.output
    return DemoRun(json.loads(outcome.stdout), outcome.stderr, store_path, before)


def test_leaves_no_thread_server_or_temporary_file(demo_run: DemoRun) -> None:
    assert _threads_settled(demo_run.threads_before) == set()
    started = demo_run.result["started"]
    assert not Path(started["workdir"]).exists()
    for url in (started["sandbox_url"], started["serve_url"]):
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/healthz", timeout=1.0)
    assert f"[{STEPS}/{STEPS}] Stopping serve" in demo_run.stderr


def test_summary_counts_match_the_generated_program(demo_run: DemoRun) -> None:
    expected = describe(generate("S", 1))
    summary = demo_run.result["summary"]
    by_status = summary["registrations_by_status"]
    # every request of the data, the live one and the member portal's have a status, and S
    # exercises these
    assert sum(by_status.values()) == expected["registration_requests"] + 2
    for status in ("registered", "expiring_soon", "expired", "converted", "rejected",
                   "unavailable"):
        assert by_status.get(status, 0) > 0, status
    assert sum(summary["deals_by_attribution"].values()) == expected["deals"]
    assert summary["deals_by_attribution"]["registered"] > 0
    assert len(summary["members"]) == expected["members"]
    full = demo_run.result["full_sync"]
    assert full["status"] == "ok"
    assert full["records_read"]["deals"] == expected["deals"]
    assert full["decided"]["members"] == expected["members"]


def test_member_portals_connect_show_a_commission_and_a_decided_request(
        demo_run: DemoRun) -> None:
    portals = demo_run.result["member_portals"]
    assert len(portals["portals"]) == 2
    commission = portals["commission_in_member_portal"]
    assert commission is not None
    assert Decimal(commission["earned"]) > 0
    request = portals["member_request"]
    assert request["status"] == "registered"
    expires = DEFAULT_TODAY + timedelta(days=TERMS.registration.expiry_days)
    assert request["expires_at"] == expires.isoformat()


def test_live_registration_request_is_registered_for_180_days(demo_run: DemoRun) -> None:
    event = demo_run.result["live_events"][0]
    assert event["kind"] == "registration_request"
    out = event["outputs"]
    assert out[C.registration_status] == "registered"
    assert out[C.registered_to] == event["member"]
    expires = DEFAULT_TODAY + timedelta(days=TERMS.registration.expiry_days)
    assert out[C.registration_expires_at] == expires.isoformat()
    assert 0 < event["latency_s"] < 30


def test_live_deal_close_is_attributed_with_commission(demo_run: DemoRun) -> None:
    event = demo_run.result["live_events"][1]
    out = event["outputs"]
    assert event["edit"]["dealstage"] == "closedwon"
    assert out[C.attribution] == "registered"
    assert out[C.attributed_to] == event["member"]
    plan = out[C.commission_plan]
    rate = {"partner_36": TERMS.commission.partner_rate,
            "provider_12": TERMS.commission.provider_rate}[plan]
    # R7: month 0 starts on the close date (as_of), so exactly one month is received
    assert Decimal(out[C.commission_earned]) == (DEMO_MRR * rate).quantize(Decimal("0.01"))
    assert 0 < event["latency_s"] < 30


def test_time_moves_expire_a_registration_and_pass_a_payout_date(demo_run: DemoRun) -> None:
    moves = demo_run.result["time_moves"]
    days = [date.fromisoformat(m["as_of"]) for m in moves]
    assert days == sorted(days)
    assert days[0] > DEFAULT_TODAY
    expiry = next(m for m in moves if "expires" in m["why"])
    assert any(ch["property"] == C.registration_status and ch["after"] == "expired"
               for ch in expiry["changes"])
    payout = next(m for m in moves if "payout" in m["why"])
    day = date.fromisoformat(payout["as_of"])
    assert (day.month, day.day) in PAYOUT_DAYS
    moved = [ch for ch in payout["changes"] if ch["property"] == C.member_next_payout_date
             and ch["object_type"] == "companies"]  # members (deals share the name)
    assert moved
    assert all(ch["before"] == payout["as_of"] for ch in moved)
    paid = [ch for ch in payout["changes"] if ch["property"] == C.commission_paid]
    assert paid
    assert all(Decimal(ch["after"]) > Decimal(ch["before"] or "0") for ch in paid)
    for move in moves:
        assert move["run"]["kind"] == "reevaluate"
        assert move["run"]["status"] == "ok"
        assert move["run"]["records_read"] == {}  # time alone: no HubSpot reads
        changed = {(ch["object_type"], ch["object_id"]) for ch in move["changes"]}
        assert move["run"]["patches"] == len(changed) > 0


def test_payout_calendar_agrees_with_member_totals(demo_run: DemoRun) -> None:
    summary = demo_run.result["summary"]
    as_of = summary["as_of"]
    calendar = summary["payout_calendar"]
    assert calendar
    assert all(day > as_of for day in calendar)
    for member in summary["members"]:
        for totals in member["totals"]:
            day = totals["next_payout_date"]
            if day is None:
                continue
            assert calendar[day][member["code"]][totals["currency"]] == \
                totals["next_payout_amount"]


def test_run_log_and_api_calls_are_reported(demo_run: DemoRun) -> None:
    summary = demo_run.result["summary"]
    runs = summary["runs"]
    assert runs["by_kind"]["full"] == 1
    assert runs["by_kind"]["reevaluate"] == len(demo_run.result["time_moves"])
    assert runs["by_trigger"]["webhook"] >= 1
    assert runs["failed"] == 0
    assert summary["api_calls"]["total"] >= demo_run.result["full_sync"]["api_calls"]
    store = Store.from_url(f"sqlite:///{demo_run.store_path}")  # --keep-store kept it
    try:
        assert len(store.list_runs(limit=1000)) == runs["total"]
    finally:
        store.close()


def test_refuses_when_a_token_is_configured(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    outcome = CliRunner().invoke(app, ["demo", "--json"],
                                 env={**NO_TOKEN, "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN": "pat-x"})
    assert outcome.exit_code == 2
    assert "never touches a real portal" in json.loads(outcome.stdout)["error"]
    assert _threads_settled(before) == set()


def test_refuses_to_overwrite_a_kept_store(tmp_path: Path) -> None:
    existing = tmp_path / "old.db"
    existing.write_text("keep me")
    outcome = CliRunner().invoke(app, ["demo", "--keep-store", str(existing)], env=NO_TOKEN)
    assert outcome.exit_code == 2
    assert existing.read_text() == "keep me"


def test_a_failed_step_still_stops_everything(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    worlds: list[DemoWorld] = []
    before = set(threading.enumerate())
    with pytest.raises(DemoError, match="timed out"):
        run_demo(seed=1, steps=Steps(Console(stderr=True)), waiter=Waiter(timeout_s=0.0),
                 on_world=worlds.append)
    assert _threads_settled(before) == set()
    assert not worlds[0].tmp.exists()


def test_tables_show_the_same_figures(demo_run: DemoRun) -> None:
    from io import StringIO

    from rich.console import Console

    from cli.demo.render import render

    buffer = StringIO()
    render(demo_run.result, Console(file=buffer, width=110))
    text = buffer.getvalue()
    deal = demo_run.result["live_events"][1]
    assert f"deals/{deal['object_id']}" in text
    assert f"commission_earned = {deal['outputs'][C.commission_earned]}" in text
    for move in demo_run.result["time_moves"]:
        assert f"Time moves to {move['as_of']}" in text
    first = demo_run.result["summary"]["members"][0]
    assert first["code"] in text
    assert f"{demo_run.result['summary']['runs']['total']} runs" in text
