"""``partner-sync demo``: the whole product against the built-in sandbox, in one command.

``run_demo`` starts the sandbox (profile S), runs ``init`` and a full sync, starts the serve app
(receiver, inbox worker, scheduler) with the sandbox's signed webhooks aimed at it, plays live
user edits (a registration request, a deal closing) and waits for the worker's write-back, moves
time past a registration's expiry and past a payout date (``reevaluate``), and returns the
result as one JSON-able dict. Everything it started is stopped and its temporary files removed
before it returns or raises (``DemoWorld``). It never touches a real portal: the CLI refuses to
run when a HubSpot token is configured (``token_configured``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console

from cli.demo.events import DemoError, Waiter, play_live_events, settle
from cli.demo.pick import ACTIVE_STATUSES
from cli.demo.portals import play_member_portals, portal_notes
from cli.demo.summary import build_summary, output_changes, output_snapshot
from cli.demo.world import ANCHOR, DemoWorld
from config.contract import CrmContract
from config.settings import SettingsError, load_settings
from sandbox.generator import DIRECT_SALES_OWNER_IDS
from sync.engine import RunReport, SyncBusy, SyncEngine
from sync.store import Store

__all__ = ["STEPS", "DemoError", "Steps", "run_demo", "time_targets", "token_configured"]

STEPS = 9
TOKEN_ENV = "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN"


def token_configured() -> bool:
    """True when the environment (or the config file) names a HubSpot token."""
    try:
        return load_settings().hubspot.access_token is not None
    except SettingsError:
        return bool(os.environ.get(TOKEN_ENV))


class Steps:
    """Announces each step on ``console``: a spinner on a terminal, plain lines otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.number = 0

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        self.number += 1
        label = f"[{self.number}/{STEPS}] {text}"
        if not self.console.is_terminal:
            self.console.print(label, markup=False)
            yield
            return
        with self.console.status(label):
            yield
        self.console.print(f"[green]done[/] {label}", highlight=False)

    def note(self, text: str) -> None:
        self.console.print(f"      {text}", markup=False)


def run_summary(report: RunReport) -> dict[str, Any]:
    """A run's totals (its patches are counted, not listed)."""
    return {
        "run_id": report.run_id, "kind": report.kind, "as_of": report.as_of.isoformat(),
        "status": report.status, "records_read": dict(report.records_read),
        "written": dict(report.written), "patches": len(report.patches),
        "api_calls": sum(report.api_calls.values()), "rate_limited": report.rate_limited,
        "problems": len(report.problems), "decided": dict(report.decided),
        "duration_s": round((report.finished_at - report.started_at).total_seconds(), 3),
    }


def time_targets(store: Store, c: CrmContract, as_of: date) -> list[tuple[date, str]]:
    """The next registration expiry and the next payout date after ``as_of``, in date order."""
    expiries, payouts = [], []
    for object_type in ("companies", "contacts"):
        for rec in store.iter_records(object_type):
            p = rec.properties
            if p.get(c.registration_status) in ACTIVE_STATUSES and \
                    (text := p.get(c.registration_expires_at)):
                expiries.append(date.fromisoformat(text[:10]))
    for rec in store.iter_records("companies"):
        if text := rec.properties.get(c.member_next_payout_date):
            payouts.append(date.fromisoformat(text[:10]))
    targets: dict[date, list[str]] = {}
    if later := [d for d in expiries if d > as_of]:
        targets.setdefault(min(later), []).append("a registration expires")
    if later := [d for d in payouts if d > as_of]:
        targets.setdefault(min(later), []).append("a payout date")
    return [(day, " and ".join(why)) for day, why in sorted(targets.items())]


def _reevaluate(engine: SyncEngine, day: date, waiter: Waiter) -> RunReport:
    for _ in range(int(waiter.timeout_s / 0.5)):
        try:
            return engine.reevaluate(as_of=day, trigger="demo")
        except SyncBusy:  # a worker pass holds the lock for a moment
            waiter.sleep(0.5)
    raise DemoError(f"the sync lock stayed busy; could not re-evaluate at {day}")


def run_demo(
    *, seed: int = 1, keep_store: Path | None = None, steps: Steps,
    waiter: Waiter | None = None, on_world: Callable[[DemoWorld], None] | None = None,
) -> dict[str, Any]:
    """Run the demo (see module); ``DemoError`` (or the engine's errors) when a step fails."""
    waiter = waiter or Waiter()
    started = time.monotonic()
    result: dict[str, Any] = {"seed": seed, "as_of": ANCHOR.isoformat(),
                              "store": str(keep_store) if keep_store else None}
    with DemoWorld(seed=seed, keep_store=keep_store) as world:
        if on_world is not None:
            on_world(world)
        with steps.step(f"Starting the HubSpot sandbox (profile S, seed {seed}, 190 calls/10 s)"):
            sandbox = world.start_sandbox()
            runtime = world.build_runtime()
        engine, store, c = runtime.engine, runtime.store, runtime.settings.contract()
        result["property_prefix"] = c.prefix
        result["started"] = {"workdir": str(world.tmp), "sandbox_url": sandbox.url,
                             "serve_url": world.serve_url}
        steps.note(f"sandbox at {sandbox.url}; store {world.store_path}; as of {ANCHOR}")
        with steps.step("init: property group and contract properties"):
            init = engine.init_portal()
        result["init"] = {"groups_created": len(init.groups_created),
                          "properties_created": len(init.properties_created),
                          "properties_existing": init.properties_existing}
        with steps.step("Full sync: read, apply the program rules, write back"):
            full = engine.full_sync(as_of=ANCHOR, trigger="demo")
        result["full_sync"] = run_summary(full)
        steps.note(_totals_line(full))
        with steps.step("Starting serve (webhook receiver, inbox worker, scheduler)"):
            server = world.start_serve()
            settle(sandbox, store, waiter)  # the full sync's own writes come back as echoes
        steps.note(f"serve at {server.url}; webhooks signed with a fresh client secret")
        with steps.step("Live events: a registration request and a deal closing in HubSpot"):
            events = play_live_events(sandbox, store, c, as_of=ANCHOR,
                                      direct_sales_owner_ids=DIRECT_SALES_OWNER_IDS,
                                      expiry_days=engine.terms.registration.expiry_days,
                                      waiter=waiter)
            settle(sandbox, store, waiter)
        result["live_events"] = [e.to_dict() for e in events]
        for event in events:
            steps.note(f"{event.kind} on {event.object_type}/{event.object_id}: written back "
                       f"{event.latency_s:.2f} s after the edit")
        with steps.step("Member portals: two members connect through OAuth; a request comes "
                        "back decided"):
            portals = play_member_portals(runtime.settings, store, sandbox, world.serve_url,
                                          ANCHOR, waiter)
            settle(sandbox, store, waiter)
        result["member_portals"] = portals
        for line in portal_notes(portals):
            steps.note(line)
        moves: list[dict[str, Any]] = []
        with steps.step("Time moves: re-evaluating past an expiry and a payout date"):
            for day, why in time_targets(store, c, ANCHOR):
                before = output_snapshot(store, c)
                world.clock.move_to(day)
                report = _reevaluate(engine, day, waiter)
                settle(sandbox, store, waiter)
                changes = output_changes(before, output_snapshot(store, c))
                moves.append({"as_of": day.isoformat(), "why": why,
                              "run": run_summary(report),
                              "changes": [ch.to_dict() for ch in changes]})
                steps.note(f"{day}: {why}; {len(changes)} output value(s) changed")
        result["time_moves"] = moves
        final = date.fromisoformat(moves[-1]["as_of"]) if moves else ANCHOR
        with steps.step("Summary"):
            if world.server is not None:
                world.server.stop()  # no worker pass or portal job adds a run after the count
            result["summary"] = build_summary(store, c, final, runtime.gateway.metrics.snapshot())
        with steps.step("Stopping serve, worker, scheduler and sandbox"):
            world.close()
    result["duration_s"] = round(time.monotonic() - started, 1)
    return result


def _totals_line(report: RunReport) -> str:
    read = ", ".join(f"{n} {t}" for t, n in sorted(report.records_read.items()))
    written = sum(report.written.values())
    seconds = (report.finished_at - report.started_at).total_seconds()
    return (f"read {read}; wrote {written} records in {report.write_calls} batch calls; "
            f"{sum(report.api_calls.values())} API calls, {report.rate_limited} rate-limited; "
            f"{len(report.problems)} data problems reported; {seconds:.1f} s")
