"""The ``partner-sync`` command line (typer). Each command loads settings once and hands down
the part each component needs."""

from __future__ import annotations

from pathlib import Path

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
    run(host, port, config, profile, seed)


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="print the checks as JSON on stdout"),
    strict: bool = typer.Option(False, "--strict", help="exit 1 when any check warns"),
    webhooks: bool = typer.Option(True, "--webhooks/--no-webhooks",
                                  help="check the serve-only webhook and admin settings"),
) -> None:
    """Check settings, token, scopes, contract properties, rate limits, store and webhooks.

    Exit 0 when nothing failed, 1 on warnings with --strict, else 2 settings, 3 token, scopes
    or properties, 4 portal or store unreachable (docs/troubleshooting.md).
    """
    from sync.doctor import render_text, run_doctor
    from sync.output import console, emit_json, load_settings_or_exit

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
    from sync.output import console, emit_json, load_settings_or_exit
    from sync.report_cli import run_report

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
    from sync.resync_cli import run_resync

    run_resync(all_=all_, object_type=object_type, ids=ids, member=member, remote=remote,
               admin_token=admin_token, as_json=as_json)

# -- init and sync (the sync engine) ---------------------------------------------------------

if __name__ == "__main__":  # pragma: no cover
    app()
