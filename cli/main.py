"""The ``partner-sync`` command line (typer). Each command loads settings once and hands down
the part each component needs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cli.exits import exit_codes_help
from cli.help import ExitCodesGroup

app = typer.Typer(
    name="partner-sync",
    help="Keeps a HubSpot partner program running by itself.",
    epilog=exit_codes_help(),
    no_args_is_help=True,
    add_completion=False,
    cls=ExitCodesGroup,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        import policies

        build = "compiled with mypyc" if policies.COMPILED else "pure Python"
        typer.echo(f"partner-sync {version('partner-sync')} (rules engine: {build})")
        raise typer.Exit()


@app.callback()
def main(
    _: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                           help="print the version and exit"),
) -> None:
    """Sync worker, rules engine and webhook receiver for a HubSpot partner program."""


def _per_10s(raw: str) -> int:
    """``190`` or ``190/10s`` -> 190 (requests per rolling 10 seconds)."""
    text = raw.strip().lower().removesuffix("/10s")
    # ASCII digits only: "²".isdigit() is True but int() refuses it.
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
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

    Exits 0 when nothing failed (1 for warnings with --strict), else with the highest code
    among the failed checks (the table in `partner-sync --help`).
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
        files = sum(len(item["files"]) for item in summary["statements"])
        console(stderr=False).print(
            f"report as of {summary['as_of']}: {len(summary['statements'])} member(s), "
            f"{files} file(s) in {summary['out_dir']}")


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


@app.command()
def init(
    as_json: bool = typer.Option(False, "--json", help="print what was created as JSON"),
) -> None:
    """Create the property group and every custom property in HubSpot (idempotent)."""
    from cli.sync_commands import run_init

    run_init(as_json=as_json)


@app.command()
def sync(
    full: bool = typer.Option(False, "--full", help="full read and reconcile"),
    as_of: str | None = typer.Option(None, "--as-of", help="evaluate at this date (YYYY-MM-DD)"),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="print the planned changes per property; write nothing"),
    as_json: bool = typer.Option(False, "--json",
                                 help="print the run as JSON (with every planned patch)"),
) -> None:
    """Sync HubSpot once: read, apply the program rules, write the differences back."""
    from cli.sync_commands import run_sync

    run_sync(full=full, as_of=as_of, dry_run=dry_run, as_json=as_json)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="interface to bind"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Run the webhook receiver, inbox worker, scheduler and admin API (until SIGINT/SIGTERM)."""
    from cli.serve_command import run_serve_command

    run_serve_command(host, port)


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


def run() -> None:
    """The console script: the app, and a reader that stops reading early (``| head``) ends
    the command quietly with exit 0 instead of exit 1 or a traceback."""
    stdout_before = _stdout_identity()
    try:
        app()
    except BrokenPipeError:  # raised outside typer's and rich's own handling
        _quiet_broken_pipe()
    except SystemExit as exc:
        # On a broken pipe typer wraps stdout in PacifyFlushWrapper, and rich points stdout
        # at /dev/null; both then exit 1.
        if exc.code == 1 and _pipe_broke(stdout_before):
            _quiet_broken_pipe()
        raise


def _stdout_identity() -> tuple[int, int] | None:
    import os

    try:
        info = os.fstat(1)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _pipe_broke(before: tuple[int, int] | None) -> bool:
    import os

    if type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
        return True
    null = os.stat(os.devnull)
    return before != (null.st_dev, null.st_ino) == _stdout_identity()


def _quiet_broken_pipe() -> None:
    import os

    # Python flushes stdout again at exit; pointing it at /dev/null keeps that flush silent.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.exit(0)


from cli.portals import portals_app  # noqa: E402

app.add_typer(portals_app, name="portals")

if __name__ == "__main__":  # pragma: no cover
    run()
