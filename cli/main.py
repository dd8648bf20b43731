"""The ``partner-sync`` command line (typer). Each command loads settings once and hands down
the part each component needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

app = typer.Typer(
    name="partner-sync",
    help="Keeps a HubSpot partner program running by itself.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Sync worker, rules engine and webhook receiver for a HubSpot partner program."""


def _per_10s(raw: str) -> int:
    """``190`` or ``190/10s`` -> 190 (requests per rolling 10 seconds)."""
    text = raw.strip().lower().removesuffix("/10s")
    if not text.isdigit() or int(text) < 1:
        raise typer.BadParameter(f"expected N or N/10s with N >= 1, got {raw!r}")
    return int(text)


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8099, help="port to listen on"),
    profile: str = typer.Option("empty", help="seed data: S, M, L or empty"),
    seed: int = typer.Option(0, help="generator seed (same seed, same data)"),
    token: str = typer.Option("sandbox-token", help="the bearer token clients must send"),
    webhook_url: str | None = typer.Option(None, help="where to deliver webhook batches"),
    webhook_secret: str = typer.Option("sandbox-client-secret", help="webhook signing secret"),
    rate_limit: str = typer.Option("190/10s", help="rolling budget per 10 s, e.g. 190/10s"),
    no_rate_limit: bool = typer.Option(False, "--no-rate-limit", help="disable rate limits"),
    member_portals: int = typer.Option(0, min=0, help="member portals beside the program's"),
    access_token_lifetime: int = typer.Option(
        1800, min=1, help="member portals' OAuth access-token lifetime (s)"),
) -> None:
    """Run the local HubSpot-compatible sandbox server."""
    from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
    from sandbox.server import run

    if profile.lower() not in ("s", "m", "l", "empty"):
        raise typer.BadParameter(f"profile must be S, M, L or empty, got {profile!r}")
    config = SandboxConfig(
        token=token,
        rate_limits=RateLimitConfig(enabled=not no_rate_limit, per_10s=_per_10s(rate_limit)),
        webhooks=WebhookConfig(url=webhook_url, client_secret=webhook_secret),
    )
    from sandbox.oauth import OAuthConfig
    from sandbox.portals import PortalsConfig

    portals = PortalsConfig(count=member_portals, rate_limits_enabled=not no_rate_limit,
                            seed=seed, oauth=OAuthConfig(  # one public app, one secret
                                client_secret=webhook_secret,
                                access_token_lifetime_s=access_token_lifetime))
    run(host, port, config, profile, seed, portals)


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="print the checks as JSON on stdout"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when any check warns"),
    webhooks: bool = typer.Option(True, "--webhooks/--no-webhooks",
                                  help="check the serve-only webhook and admin settings"),
) -> None:
    """Check settings, token, scopes, contract properties, rate limits, store and webhooks.

    Exit codes: 0 nothing failed, 1 warnings with --strict, 2 settings,
    3 token, scopes or properties, 4 portal or store unreachable.
    """
    from cli.doctor import render_text, run_doctor
    from cli.output import console, emit_json, load_settings_or_exit

    report = run_doctor(load_settings_or_exit(as_json=as_json), webhooks=webhooks)
    if as_json:
        emit_json(report.to_dict(strict=strict))
    else:
        out = console(stderr=False)
        for line in render_text(report):
            out.print(line)
    raise typer.Exit(int(report.exit_code(strict=strict)))


@app.command()
def report(
    member: str | None = typer.Option(None, help="one member's partner code (default: all)"),
    out: str = typer.Option("statements", help="directory for the statement files"),
    fmt: str = typer.Option("both", "--format", help="csv, json or both"),
    as_of: str | None = typer.Option(None, help="statement date YYYY-MM-DD (default: today UTC)"),
    as_json: bool = typer.Option(False, "--json", help="print the totals as JSON on stdout"),
) -> None:
    """Write commission statements (CSV and/or JSON) per member from the store's ledger."""
    from cli.output import console, emit_json, load_settings_or_exit
    from cli.report import run_report

    settings = load_settings_or_exit(as_json=as_json)
    summary = run_report(settings, member=member, out_dir=Path(out), fmt=fmt, as_of=as_of,
                         as_json=as_json)
    if as_json:
        emit_json(summary)
    else:
        for item in summary["statements"]:
            console(stderr=False).print(
                f"{item['member_code']}: {len(item['files'])} file(s), "
                + ", ".join(f"earned {t['earned']} {t['currency']}, paid {t['paid_to_date']}"
                            for t in item["totals"])
            )


@app.command()
def resync(
    all_: bool = typer.Option(False, "--all", help="full sync of everything"),
    object_type: str | None = typer.Option(None, "--type", help="one object type"),
    ids: str | None = typer.Option(None, "--ids", help="records, e.g. deals:12,companies:7"),
    member: str | None = typer.Option(None, "--member", help="partner code or company id"),
    remote: str | None = typer.Option(None, help="URL of a running `serve` (admin API)"),
    admin_token: str | None = typer.Option(None, envvar="PARTNER_SYNC_ADMIN__TOKEN",
                                           help="the serve process's admin token"),
    as_json: bool = typer.Option(False, "--json", help="print the outcome as JSON on stdout"),
) -> None:
    """Resync everything, a type, some records or a member: through `serve` or locally."""
    from cli.resync import run_resync

    run_resync(all_=all_, object_type=object_type, ids=ids, member=member, remote=remote,
               admin_token=admin_token, as_json=as_json)

# -- init and sync (the sync engine) ---------------------------------------------------------

EXIT_OK, EXIT_RUN_FAILED, EXIT_SETTINGS, EXIT_AUTH, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


def _runtime() -> Any:
    """Settings -> logging and runtime. A settings error prints the message naming the setting
    (exit 2); a store that cannot be opened exits 4. ``_end_logging()`` undoes the logging."""
    from cli.runtime import StoreUnavailable, build_runtime
    from config.settings import SettingsError, load_settings
    from sync.logs import configure_logging

    try:
        settings = load_settings()
        configure_logging(settings)  # the engine logs one line per run (JSON off a terminal)
        return build_runtime(settings)
    except StoreUnavailable as exc:
        _end_logging()
        typer.echo(f"error: {exc}\nfix: check PARTNER_SYNC_STORE__URL: the database must be up "
                   "and reachable with those credentials", err=True)
        raise typer.Exit(EXIT_UNREACHABLE) from None
    except (SettingsError, ValueError) as exc:
        _end_logging()
        typer.echo(f"settings error: {exc}", err=True)
        raise typer.Exit(EXIT_SETTINGS) from None


def _end_logging() -> None:
    """Remove the handler ``configure_logging`` installed (its stream may close before exit)."""
    import logging

    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "partner-sync"]:
        root.removeHandler(handler)


_FIXES = {
    "auth": "set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN to the private app's current token (its Auth "
            "tab) with the scopes in docs/connecting-a-portal.md; `partner-sync doctor` lists "
            "what is missing",
    "unreachable": "check PARTNER_SYNC_HUBSPOT__BASE_URL and the network (DNS, proxy, "
                   "firewall); `partner-sync doctor` tests the connection",
    "busy": "another sync is running (maybe on another replica): retry when it has finished",
}
_OTHER_FIX = "run `partner-sync doctor`; docs/troubleshooting.md lists every error and its fix"


def _stop(exc: Exception) -> NoReturn:
    """Print why a run stopped and how to fix it; exit 3 auth/scope, 4 unreachable, else 1."""
    from sync.engine import SyncBusy, SyncError

    code, kind = EXIT_RUN_FAILED, "busy"
    if isinstance(exc, SyncError):
        kind = exc.kind
        code = {"auth": EXIT_AUTH, "unreachable": EXIT_UNREACHABLE}.get(kind, code)
    elif not isinstance(exc, SyncBusy):
        raise exc
    typer.echo(f"error: {exc}\nfix: {_FIXES.get(kind, _OTHER_FIX)}", err=True)
    raise typer.Exit(code)


@app.command()
def init(
    as_json: bool = typer.Option(False, "--json", help="print what was created as JSON"),
) -> None:
    """Create the property group and every custom property in HubSpot (idempotent)."""
    from sync.engine import SyncBusy, SyncError
    from sync.gateway import AuthError, HubSpotError

    runtime = _runtime()
    try:
        report = runtime.engine.init_portal()
    except AuthError as exc:
        _stop(SyncError(str(exc), "auth"))
    except HubSpotError as exc:
        _stop(SyncError(str(exc), "unreachable" if exc.status is None else "hubspot"))
    except SyncBusy as exc:  # pragma: no cover - init takes no lock
        _stop(exc)
    finally:
        runtime.close()
        _end_logging()
    if as_json:
        from cli.output import emit_json

        emit_json(report.to_dict())
        return
    typer.echo(
        f"created {len(report.groups_created)} group(s) and "
        f"{len(report.properties_created)} propert(ies); "
        f"{report.properties_existing} already existed"
    )


@app.command()
def sync(
    full: bool = typer.Option(False, "--full", help="full read and reconcile"),
    as_of: str | None = typer.Option(None, "--as-of", help="evaluate at this date (YYYY-MM-DD)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print planned changes only"),
    as_json: bool = typer.Option(False, "--json", help="print the run report as JSON"),
) -> None:
    """Sync HubSpot once: read, apply the program rules, write the differences back."""
    from datetime import date

    from sync.engine import SyncBusy, SyncError

    try:
        when = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        typer.echo(f"error: --as-of must be YYYY-MM-DD, got {as_of!r}", err=True)
        raise typer.Exit(EXIT_SETTINGS) from None
    from cli.output import activity

    runtime = _runtime()
    try:
        engine = runtime.engine
        run = engine.full_sync if full else engine.incremental_sync
        calls = runtime.gateway.metrics.snapshot
        with activity("full sync" if full else "incremental sync",
                      lambda: int(calls()["totals"]["calls"])):
            report = run(as_of=when, dry_run=dry_run, trigger="cli")
    except (SyncError, SyncBusy) as exc:
        _stop(exc)
    finally:
        runtime.close()
        _end_logging()
    _print_report(report, as_json)
    if report.status != "ok":
        raise typer.Exit(EXIT_RUN_FAILED)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        import json

        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"{report.kind} sync, run {report.run_id}, as of {report.as_of}")
    for column in ("object type", "read", "patched", "written"):
        table.add_column(column)
    planned: dict[str, int] = {}
    for patch in report.patches:
        planned[patch.object_type] = planned.get(patch.object_type, 0) + 1
    for object_type in ("companies", "contacts", "deals", "subscriptions"):
        table.add_row(object_type, str(report.records_read.get(object_type, 0)),
                      str(planned.get(object_type, 0)), str(report.written.get(object_type, 0)))
    console.print(table)
    if report.dry_run:
        for patch in report.patches:
            console.print(f"{patch.object_type}/{patch.object_id}: {dict(patch.properties)}")
    console.print(
        f"status {report.status}; {sum(report.api_calls.values())} API calls, "
        f"{report.rate_limited} rate-limited; {len(report.problems)} data problems; "
        f"{len(report.write_failures)} write failures"
    )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Run the webhook receiver, inbox worker, scheduler and admin API (until SIGINT/SIGTERM)."""
    from cli.output import load_settings_or_exit
    from cli.runtime import StoreUnavailable
    from cli.serve import serve as run_serve
    from config.settings import SettingsError
    from sync.logs import configure_logging

    settings = load_settings_or_exit()
    configure_logging(settings)
    try:
        run_serve(settings, host, port)
    except SettingsError as exc:
        code = EXIT_UNREACHABLE if isinstance(exc, StoreUnavailable) else EXIT_SETTINGS
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code) from exc
    finally:
        _end_logging()


@app.command()
def demo(
    seed: int = typer.Option(1, help="generator seed of the sandbox's profile S data"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON on stdout"),
    keep_store: str | None = typer.Option(None, "--keep-store",
                                          help="keep the SQLite store at this new file"),
) -> None:
    """Run the whole product against the built-in sandbox and print what it did."""
    from cli.demo.command import run_demo_command

    run_demo_command(seed=seed, as_json=as_json,
                     keep_store=Path(keep_store) if keep_store else None)

from cli.portals import portals_app  # noqa: E402

app.add_typer(portals_app, name="portals")

if __name__ == "__main__":  # pragma: no cover
    app()
