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


if __name__ == "__main__":  # pragma: no cover
    app()
