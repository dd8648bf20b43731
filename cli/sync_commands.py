"""The work behind ``partner-sync init`` and ``partner-sync sync``.

Both go through ``cli.startup.open_runtime`` (settings, token, store folder, logging, runtime),
and leave with the documented exit codes (cli/exits.py): 3 when HubSpot refuses the token,
4 when the portal does not answer, 1 when another sync runs or the run finished with failures.
"""

from __future__ import annotations

from datetime import date
from typing import NoReturn

import typer

from cli.exits import ExitCode
from cli.output import activity, console, emit_json, fail, load_settings_or_exit
from cli.run_output import print_run
from cli.startup import open_runtime
from sync.run_document import run_document

__all__ = ["FIXES", "run_init", "run_sync", "stop"]

FIXES = {
    "auth": "set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN to the private app's current token (its Auth "
            "tab) with the scopes in docs/connecting-a-portal.md; `partner-sync doctor` lists "
            "what is missing",
    "unreachable": "check PARTNER_SYNC_HUBSPOT__BASE_URL and the network (DNS, proxy, "
                   "firewall); `partner-sync doctor` tests the connection",
    "busy": "another sync is running (maybe on another replica): retry when it has finished",
}
OTHER_FIX = "run `partner-sync doctor`; docs/troubleshooting.md lists every error and its fix"
_CODES = {"auth": ExitCode.AUTH, "unreachable": ExitCode.UNREACHABLE}


def stop(exc: Exception, *, as_json: bool = False) -> NoReturn:
    """Say why a run stopped and how to fix it: exit 3 auth/scope, 4 unreachable, else 1.
    Anything but a ``SyncError`` or ``SyncBusy`` is re-raised."""
    from sync.engine import SyncBusy, SyncError

    if isinstance(exc, SyncError):
        kind = str(exc.kind)
    elif isinstance(exc, SyncBusy):
        kind = "busy"
    else:
        raise exc
    fail(str(exc), FIXES.get(kind, OTHER_FIX), _CODES.get(kind, ExitCode.FAILURES),
         as_json=as_json)


def run_init(*, as_json: bool) -> None:
    """Create the property group and properties; print what was created."""
    from sync.engine import SyncBusy, SyncError
    from sync.gateway import AuthError, HubSpotError

    settings = load_settings_or_exit(as_json=as_json)
    with open_runtime(settings, as_json=as_json) as runtime:
        calls = runtime.gateway.metrics.snapshot
        try:
            with activity("init", lambda: int(calls()["totals"]["calls"])):
                report = runtime.engine.init_portal()
        except AuthError as exc:
            stop(SyncError(str(exc), "auth"), as_json=as_json)
        except HubSpotError as exc:
            stop(SyncError(str(exc), "unreachable" if exc.status is None else "hubspot"),
                 as_json=as_json)
        except SyncBusy as exc:  # pragma: no cover - init takes no lock
            stop(exc, as_json=as_json)
    if as_json:
        emit_json(report.to_dict())
        return
    console(stderr=False).print(
        f"created {len(report.groups_created)} group(s) and "
        f"{len(report.properties_created)} propert(ies); "
        f"{report.properties_existing} already existed"
        + (f"; added option(s) {', '.join(report.options_added)}" if report.options_added else "")
    )


def parse_as_of(raw: str | None, *, as_json: bool = False) -> date | None:
    """``--as-of`` as a date; exit 2 naming the expected form."""
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        fail(f"--as-of must be YYYY-MM-DD, got {raw!r}", "e.g. --as-of 2025-01-31",
             ExitCode.USAGE, as_json=as_json)


def run_sync(*, full: bool, as_of: str | None, dry_run: bool, as_json: bool) -> None:
    """One sync; the run document as JSON, or its text rendering (cli.run_output). A writing
    run at a date before the store's evaluation date exits 2 and offers ``--dry-run``."""
    from sync.engine import ClockWentBack, SyncBusy, SyncError

    when = parse_as_of(as_of, as_json=as_json)
    settings = load_settings_or_exit(as_json=as_json)
    with open_runtime(settings, as_json=as_json) as runtime:
        engine = runtime.engine
        run = engine.full_sync if full else engine.incremental_sync
        calls = runtime.gateway.metrics.snapshot
        try:
            with activity("full sync" if full else "incremental sync",
                          lambda: int(calls()["totals"]["calls"])):
                report = run(as_of=when, dry_run=dry_run, trigger="cli")
        except ClockWentBack as exc:
            fail(str(exc), f"preview that date with `partner-sync sync --as-of "
                 f"{exc.as_of.isoformat()} --dry-run`, or sync at {exc.committed.isoformat()} "
                 "or later (docs/troubleshooting.md)", ExitCode.USAGE, as_json=as_json)
        except (SyncError, SyncBusy) as exc:
            stop(exc, as_json=as_json)
    doc = run_document(report.to_dict())
    if as_json:
        emit_json(doc)
    else:
        print_run(doc, console(stderr=False))
    from sync.engine.apply import RUN_INIT, needs_init

    if needs_init(report.write_failures):
        console().print(f"[bold]fix:[/] {RUN_INIT}", markup=True)
    if report.status != "ok":
        raise typer.Exit(int(ExitCode.FAILURES))
