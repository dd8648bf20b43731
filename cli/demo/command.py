"""The ``demo`` command's glue: refuse with a token, run, print tables or JSON, exit codes.

Exit 0 when the demo ran to the end, 2 when a HubSpot token is configured or ``--keep-store``
names an existing file, 1 when a step failed (the message says which; everything started is
stopped and the temporary files are removed either way).
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.demo.render import render
from cli.demo.run import DemoError, Steps, run_demo, token_configured
from cli.output import ExitCode, console, emit_json, fail
from sync.engine import SyncBusy, SyncError

__all__ = ["run_demo_command"]

WIDTH = 110
_AGAIN = "run it again; if it fails the same way, report it with the output above"


def run_demo_command(*, seed: int, as_json: bool, keep_store: Path | None) -> None:
    """Run ``partner-sync demo`` (see module); always leaves through ``typer.Exit``."""
    if token_configured():
        fail("a HubSpot token is configured (PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN); the demo "
             "never touches a real portal",
             "unset PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN (and the token in the file named by "
             "PARTNER_SYNC_CONFIG_FILE) to run the demo, or use `partner-sync sync` for the "
             "portal", ExitCode.USAGE, as_json=as_json)
    if keep_store is not None and not keep_store.parent.is_dir():
        fail(f"--keep-store {keep_store}: the folder {keep_store.parent.resolve()} does not exist",
             f"create it (mkdir -p {keep_store.parent}) or name a file in an existing folder",
             ExitCode.USAGE, as_json=as_json)
    if keep_store is not None and keep_store.exists():
        fail(f"--keep-store {keep_store} already exists; the demo starts from an empty store",
             "name a new file or remove the old one", ExitCode.USAGE, as_json=as_json)
    try:
        result = run_demo(seed=seed, keep_store=keep_store, steps=Steps(console()))
    except (DemoError, SyncError, SyncBusy) as exc:
        fail(f"the demo stopped: {exc}", _AGAIN, ExitCode.FAILURES, as_json=as_json)
    except Exception as exc:  # anything else: still a clear message, never a bare traceback
        fail(f"the demo stopped: {type(exc).__name__}: {exc}", _AGAIN, ExitCode.FAILURES,
             as_json=as_json)
    if as_json:
        emit_json(result)
    else:
        out = console(stderr=False)
        if not out.is_terminal:
            out.width = WIDTH  # a pipe or a file: wide enough for the tables, no wrapping
        render(result, out)
    raise typer.Exit(int(ExitCode.OK))
