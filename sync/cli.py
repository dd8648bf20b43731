"""The ``partner-sync`` command line (typer). Each command loads settings once and hands down
the part each component needs."""

from __future__ import annotations

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


if __name__ == "__main__":  # pragma: no cover
    app()
