"""How every CLI command talks to people and scripts: exit codes, JSON, colour, progress.

- Exit codes (docs/troubleshooting.md): ``0`` ok, ``1`` the run finished with failures, ``2``
  usage or settings, ``3`` HubSpot auth or scopes, ``4`` portal (or store) unreachable.
- ``--json`` output goes to stdout as one JSON document; messages go to stderr.
- Colour only on a terminal: rich's ``Console`` detects the terminal and honours ``NO_COLOR``.
- Progress bars only on a terminal (a log or a pipe gets no control characters).
- Errors say what is wrong and how to fix it: ``fail(message, fix, code)``.
"""

from __future__ import annotations

import enum
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURES = 1  # the command ran; some records, checks or writes failed
    USAGE = 2  # bad arguments or settings (typer uses 2 for usage errors too)
    AUTH = 3  # HubSpot rejected the token or it lacks scopes; contract properties missing
    UNREACHABLE = 4  # the portal (or the store, or the serve process) did not answer


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


def load_settings_or_exit(*, as_json: bool = False) -> Settings:
    """Settings from the environment and config file; exit 2 naming the bad setting."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(
            f"invalid settings: {exc}",
            "set the named variable correctly (environment or the TOML file named by "
            "PARTNER_SYNC_CONFIG_FILE); every setting is listed in docs/configuration.md",
            ExitCode.USAGE,
            as_json=as_json,
        )


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr (hidden when stderr is not a terminal); yields ``advance()``."""
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console(), transient=True, disable=not sys.stderr.isatty(),
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(step: int = 1) -> None:
            bar.advance(task, step)

        yield advance


@contextmanager
def activity(
    description: str,
    count: Callable[[], int],
    *,
    out: Console | None = None,
    interval_s: float = 0.2,
) -> Iterator[None]:
    """A live bar on stderr while work of unknown size runs (a sync): ``count()`` (e.g. the
    HubSpot calls so far) and the elapsed time, refreshed every ``interval_s`` by a thread that
    ends with the block. Nothing is drawn and no thread starts unless ``out`` (default: the
    stderr console) is a terminal."""
    target = out if out is not None else console()
    if not target.is_terminal:
        yield
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed} HubSpot calls"), TimeElapsedColumn(),
                   console=target, transient=True)
    done = threading.Event()
    with bar:
        task = bar.add_task(description, total=None)

        def refresh() -> None:
            while not done.wait(interval_s):
                bar.update(task, completed=count())

        worker = threading.Thread(target=refresh, name="cli-activity", daemon=True)
        worker.start()
        try:
            yield
        finally:
            done.set()
            worker.join()
