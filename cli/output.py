"""How every CLI command talks to people and scripts: exit codes, JSON, colour, progress.

- Exit codes: ``cli.exits.EXIT_CODES`` (the one table; docs/troubleshooting.md and ``--help``).
- ``--json`` output goes to stdout as one JSON document; messages go to stderr.
- Colour only on a terminal: rich's ``Console`` detects the terminal and honours ``NO_COLOR``.
- Progress bars only on a terminal (a log or a pipe gets no control characters).
- Errors say what is wrong and how to fix it: ``fail(message, fix, code)``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.exits import ExitCode
from config.settings import Settings, SettingsError, load_settings

__all__ = [
    "ExitCode",
    "activity",
    "console",
    "emit_json",
    "fail",
    "load_settings_or_exit",
    "progress",
]


def console(*, stderr: bool = True) -> Console:
    """A console on stderr (messages) or stdout; colour only when it is a terminal."""
    # Console() reads sys.stdout/stderr at write time, which CliRunner swaps; pass them now.
    return Console(file=sys.stderr if stderr else sys.stdout, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    """Write ``data`` to stdout as one indented JSON document (dates, Decimals as strings)."""
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str)
    typer.echo(text.decode())


def fail(message: str, fix: str | None, code: ExitCode, *, as_json: bool = False) -> NoReturn:
    """Report an error (and its fix) and leave with ``code``.

    With ``as_json`` the error is also written to stdout as ``{"error", "fix", "exit_code"}``
    so a script reading stdout gets a document either way.
    """
    if as_json:
        emit_json({"error": message, "fix": fix, "exit_code": int(code)})
    err = console()
    err.print(f"[bold red]error:[/] {message}", markup=True)
    if fix:
        err.print(f"[bold]fix:[/] {fix}", markup=True)
    raise typer.Exit(int(code))


UNKNOWN_FIX = ("rename the variable as suggested (levels are separated by a double underscore), "
               "or unset it; every setting is listed in docs/configuration.md")


def load_settings_or_exit(*, as_json: bool = False) -> Settings:
    """Settings from the environment and config file; exit 2 naming the bad setting."""
    try:
        return load_settings()
    except SettingsError as exc:
        fix = (UNKNOWN_FIX if "unknown setting" in str(exc) else
               "set the named variable correctly (environment or the TOML file named by "
               "PARTNER_SYNC_CONFIG_FILE); every setting is listed in docs/configuration.md")
        fail(f"invalid settings: {exc}", fix, ExitCode.USAGE, as_json=as_json)


@contextmanager
def progress(
    description: str,
    total: int | None,
    *,
    out: Console | None = None,
    quiet_interval_s: float | None = None,
) -> Iterator[Callable[..., None]]:
    """Progress of work of known size; yields ``advance(step=1)``. On a terminal (``out``,
    default the stderr console) a bar; off one a log line (logger ``partner_sync.progress``)
    every ``quiet_interval_s`` (default ``QUIET_INTERVAL_S``) with the steps done so far, the
    first after that interval, as ``activity`` does for work of unknown size."""
    target = out if out is not None else console()
    if not target.is_terminal:
        done = [0]

        def count(step: int = 1) -> None:
            done[0] += step

        every = QUIET_INTERVAL_S if quiet_interval_s is None else quiet_interval_s
        with _ticking(lambda elapsed: _log_steps(description, done[0], total, elapsed), every):
            yield count
        return
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=target, transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(step: int = 1) -> None:
            bar.advance(task, step)

        yield advance


def _log_steps(description: str, done: int, total: int | None, elapsed_s: float) -> None:
    of = f" of {total}" if total is not None else ""
    logging.getLogger(PROGRESS_LOGGER).info(
        "%s: running for %d s, %d%s done", description, elapsed_s, done, of,
        extra={"progress": {"what": description, "elapsed_s": round(elapsed_s, 1),
                            "done": done, "total": total}})


PROGRESS_LOGGER = "partner_sync.progress"
QUIET_INTERVAL_S = 5.0  # off a terminal: one progress line this often while work runs


@contextmanager
def activity(
    description: str,
    count: Callable[[], int],
    *,
    out: Console | None = None,
    interval_s: float = 0.2,
    quiet_interval_s: float = QUIET_INTERVAL_S,
) -> Iterator[None]:
    """Progress while work of unknown size runs (a sync): ``count()`` (e.g. the HubSpot calls
    so far) and the elapsed time. On a terminal (``out``, default the stderr console) a live
    bar refreshed every ``interval_s``; off one a log line (logger ``partner_sync.progress``,
    so JSON in JSON logs) every ``quiet_interval_s``, the first after that interval: a run
    shorter than it stays silent. A thread does the refreshing and ends with the block."""
    target = out if out is not None else console()
    if not target.is_terminal:
        with _ticking(lambda elapsed: _log_progress(description, count(), elapsed),
                      quiet_interval_s):
            yield
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed} HubSpot calls"), TimeElapsedColumn(),
                   console=target, transient=True)
    with bar:
        task = bar.add_task(description, total=None)
        with _ticking(lambda _: bar.update(task, completed=count()), interval_s):
            yield


def _log_progress(description: str, calls: int, elapsed_s: float) -> None:
    logging.getLogger(PROGRESS_LOGGER).info(
        "%s: running for %d s, %d HubSpot calls so far", description, elapsed_s, calls,
        extra={"progress": {"what": description, "elapsed_s": round(elapsed_s, 1),
                            "calls": calls}})


@contextmanager
def _ticking(tick: Callable[[float], None], interval_s: float) -> Iterator[None]:
    """Call ``tick(elapsed_s)`` every ``interval_s`` on a thread while the block runs."""
    done = threading.Event()
    started = time.monotonic()

    def loop() -> None:
        while not done.wait(interval_s):
            tick(time.monotonic() - started)

    worker = threading.Thread(target=loop, name="cli-activity", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()
