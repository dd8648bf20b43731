"""``partner-sync portals``: invite, list, disconnect and sync members' own HubSpot portals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from cli.runtime import Runtime

__all__ = ["portals_app"]

portals_app = typer.Typer(name="portals", no_args_is_help=True, add_completion=False,
                          help="Members' own HubSpot portals: invite, list, disconnect, sync.")


def _runtime() -> Runtime:
    from cli.output import load_settings_or_exit
    from cli.runtime import build_runtime
    from config.settings import SettingsError

    settings = load_settings_or_exit()
    try:
        return build_runtime(settings)
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@portals_app.command()
def invite(code: str = typer.Argument(..., help="the member's partner code")) -> None:
    """Print a signed, expiring install link for member CODE."""
    from sync.clock import SystemClock
    from sync.portals.connect import ConnectError
    from sync.portals.connect import invite as make_invite

    runtime = _runtime()
    try:
        link = make_invite(runtime.settings.portals, runtime.store, runtime.settings.contract(),
                           code, SystemClock().now())
    except ConnectError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        runtime.close()
    typer.echo(link)


@portals_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Each member portal: member, hub id, status, last sync, calls used."""
    from cli.output import emit_json
    from sync.portals import list_portals

    runtime = _runtime()
    try:
        rows = list_portals(runtime.store)
    finally:
        runtime.close()
    if as_json:
        emit_json([{"member": r.member_code, "hub_id": r.hub_id, "status": r.status,
                    "last_sync_at": r.last_sync_at.isoformat() if r.last_sync_at else None,
                    "calls_used": r.calls_used, "last_error": r.last_error} for r in rows])
        return
    if not rows:
        typer.echo("no member portals connected (partner-sync portals invite CODE)")
    for r in rows:
        last = r.last_sync_at.strftime("%Y-%m-%d %H:%M") if r.last_sync_at else "never"
        typer.echo(f"{r.member_code:<16} {r.hub_id:>12} {r.status:<13} last sync {last:<16} "
                   f"{r.calls_used:>8} calls" + (f"  ({r.last_error})" if r.last_error else ""))


@portals_app.command()
def disconnect(code: str = typer.Argument(..., help="the member's partner code")) -> None:
    """Stop syncing member CODE's portal (it can be connected again with a new invite)."""
    from sync.portals.repo import PortalRepo

    runtime = _runtime()
    try:
        repo = PortalRepo(runtime.store)
        portal = repo.by_member(code)
        if portal is None:
            typer.echo(f"error: no member portal for partner code {code!r}", err=True)
            raise typer.Exit(1)
        repo.mark_disconnected(portal.hub_id, "disconnected by an operator")
    finally:
        runtime.close()
    typer.echo(f"portal {portal.hub_id} of {portal.member_code} disconnected")


@portals_app.command()
def sync(code: str | None = typer.Argument(None, help="one member's partner code (default all)"),
         as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Sync member portals now, both ways; exit 1 when any portal failed."""
    from cli.output import emit_json
    from cli.portals_wiring import build_portal_parts
    from config.settings import SettingsError

    runtime = _runtime()
    try:
        parts = build_portal_parts(runtime)
    except SettingsError as exc:
        runtime.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        if code is None:
            hubs = parts.repo.hub_ids()
        else:
            portal = parts.repo.by_member(code)
            if portal is None:
                typer.echo(f"error: no member portal for partner code {code!r}", err=True)
                raise typer.Exit(1)
            hubs = {portal.hub_id}
        parts.repo.enqueue(hubs, "inbound")
        outcomes = parts.worker.drain()
    finally:
        parts.close()
        runtime.close()
    if as_json:
        emit_json([{"hub_id": o.job.hub_id, "status": o.status, "error": o.error,
                    "report": o.report.to_dict() if o.report else None} for o in outcomes])
    else:
        for o in outcomes:
            detail = (f"{o.report.calls} calls, {o.report.updated} updated, "
                      f"{o.report.created} created, {len(o.report.problems)} problems"
                      if o.report else o.error)
            typer.echo(f"portal {o.job.hub_id}: {o.status} ({detail})")
    if any(o.status != "done" for o in outcomes):
        raise typer.Exit(1)
