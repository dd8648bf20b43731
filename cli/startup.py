"""What every command does before its work, the same way for each: settings loaded and
validated once, the SQLite store's folder checked, a HubSpot token required (only ``demo`` and
``sandbox`` run without one), logging configured, the runtime built. Each refusal leaves through
``cli.output.fail`` with the documented exit code (cli/exits.py) and a fix line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cli.exits import ExitCode
from cli.output import fail
from config.settings import STORE_URL_ENV, Settings

if TYPE_CHECKING:
    from cli.runtime import Runtime

__all__ = [
    "NO_TOKEN",
    "NO_TOKEN_FIX",
    "end_logging",
    "missing_store_folder",
    "open_runtime",
    "require_store_folder",
    "require_token",
    "store_folder_problem",
]

NO_TOKEN = "no HubSpot access token is configured (PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN is not set)"
NO_TOKEN_FIX = (
    "set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN to a private-app token (docs/connecting-a-portal.md); "
    "against the sandbox use its --token (default sandbox-token) and point "
    "PARTNER_SYNC_HUBSPOT__BASE_URL at it; `partner-sync demo` needs no token"
)
STORE_FIX = ("check PARTNER_SYNC_STORE__URL: the database must be up and reachable with those "
             "credentials (docs/troubleshooting.md)")


def missing_store_folder(settings: Settings) -> Path | None:
    """The folder the SQLite file should be in when it does not exist; None when it does (or
    the store is not a SQLite file)."""
    path = settings.store.sqlite_path()
    if path is None or path.parent.is_dir():  # Path("x.db").parent is Path("."): exists
        return None
    return path.parent


def store_folder_problem(settings: Settings) -> str | None:
    """A message naming the missing folder of the SQLite file, or None."""
    folder = missing_store_folder(settings)
    if folder is None:
        return None
    return (f"{STORE_URL_ENV}: the folder {folder.resolve()} of the SQLite file "
            f"{settings.store.sqlite_path()} does not exist")


def require_store_folder(settings: Settings, *, as_json: bool = False) -> None:
    """Exit 2 naming the folder when the SQLite file cannot be created there."""
    if (problem := store_folder_problem(settings)) is not None:
        fail(problem, f"create it (mkdir -p {missing_store_folder(settings)}) or point "
             f"{STORE_URL_ENV} at a file in an existing folder", ExitCode.USAGE, as_json=as_json)


def require_token(settings: Settings, *, as_json: bool = False) -> None:
    """Exit 3 when no token is configured: no command talks to a portal without one (the
    sandbox needs its own token too; only ``demo`` brings one)."""
    if settings.hubspot.access_token is None:
        fail(NO_TOKEN, NO_TOKEN_FIX, ExitCode.AUTH, as_json=as_json)


def end_logging() -> None:
    """Remove the handler ``configure_logging`` installed (its stream may close before exit)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "partner-sync"]:
        root.removeHandler(handler)


@contextmanager
def open_runtime(settings: Settings, *, as_json: bool = False) -> Iterator[Runtime]:
    """Token and store folder checked, logging configured, the runtime built (exit 4 when the
    store cannot be opened); closed and the logging undone afterwards."""
    # Lazy: the engine pulls in the SDK and SQLAlchemy, which --help should not pay for.
    from cli.runtime import StoreUnavailable, build_runtime
    from sync.logs import configure_logging

    require_token(settings, as_json=as_json)
    require_store_folder(settings, as_json=as_json)
    configure_logging(settings)
    try:
        runtime = build_runtime(settings)
    except StoreUnavailable as exc:
        end_logging()
        fail(str(exc), STORE_FIX, ExitCode.UNREACHABLE, as_json=as_json)
    try:
        yield runtime
    finally:
        runtime.close()
        end_logging()
