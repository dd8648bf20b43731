"""The work behind ``partner-sync report``: open the store, build and write the statements.

Errors leave through ``cli.output.fail`` with a documented exit code: a bad ``--format`` or
``--as-of`` or an unknown member is 2, an unreachable or unmigrated store 4 or 2. Logging is
configured as for every long command: off a terminal a progress line (statements written so
far) every few seconds while the statements are written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from cli.output import ExitCode, fail, progress
from cli.startup import end_logging, require_store_folder
from config.settings import Settings
from sync.clock import SystemClock
from sync.logs import configure_logging
from sync.statements import build_statement, member_codes, write_statement
from sync.store import Store

__all__ = ["FORMATS", "run_report"]

FORMATS = {"csv": ("csv",), "json": ("json",), "both": ("csv", "json")}


def _as_of(raw: str | None, as_json: bool) -> date:
    if raw is None:
        return SystemClock().today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"--as-of {raw!r} is not a date", "write it as YYYY-MM-DD", ExitCode.USAGE,
             as_json=as_json)


def run_report(
    settings: Settings,
    *,
    member: str | None,
    out_dir: Path,
    fmt: str,
    as_of: str | None,
    as_json: bool = False,
    progress_every_s: float | None = None,
) -> dict[str, Any]:
    """Write one statement per member (or the one asked for); return what was written.
    ``progress_every_s``: the progress line's interval off a terminal (default: every long
    command's)."""
    formats = FORMATS.get(fmt.lower())
    if formats is None:
        fail(f"--format {fmt!r} is not csv, json or both", "use --format csv|json|both",
             ExitCode.USAGE, as_json=as_json)
    day = _as_of(as_of, as_json)
    require_store_folder(settings, as_json=as_json)
    path = settings.store.sqlite_path()
    if path is not None and not path.exists():
        fail(f"PARTNER_SYNC_STORE__URL: the SQLite file {path} does not exist yet",
             "run `partner-sync init` and `partner-sync sync` first, or point "
             "PARTNER_SYNC_STORE__URL at the store `serve` uses", ExitCode.USAGE,
             as_json=as_json)
    configure_logging(settings)
    try:
        statements = _write_all(settings, member=member, out_dir=out_dir, formats=formats,
                                day=day, as_json=as_json, progress_every_s=progress_every_s)
    finally:
        end_logging()
    return {"as_of": day.isoformat(), "out_dir": str(out_dir), "statements": statements}


def _write_all(
    settings: Settings,
    *,
    member: str | None,
    out_dir: Path,
    formats: tuple[str, ...],
    day: date,
    as_json: bool,
    progress_every_s: float | None,
) -> list[dict[str, Any]]:
    store = Store.from_url(settings.store.url)
    try:
        codes = member_codes(store)
        if member is not None and member not in codes:
            fail(f"member {member!r} has no commission months in the store",
                 "check the partner code (codes with months: "
                 f"{', '.join(codes[:10]) or 'none'}); run `partner-sync sync` first if the "
                 "store is empty", ExitCode.USAGE, as_json=as_json)
        chosen = [member] if member is not None else codes
        statements = []
        with progress("statements", len(chosen),
                      quiet_interval_s=progress_every_s) as advance:
            for code in chosen:
                statement = build_statement(store, code, day, settings.contract())
                files = write_statement(statement, out_dir, formats)
                statements.append({
                    "member_code": code,
                    "files": [str(p) for p in files],
                    "totals": [t.to_dict() for t in statement.totals],
                })
                advance()
    except SQLAlchemyError as exc:
        detail = str(exc.__cause__ or exc).splitlines()[0]
        fail(f"cannot read the store: {detail}",
             "check PARTNER_SYNC_STORE__URL; run `partner-sync init` if the store was never "
             "migrated", ExitCode.UNREACHABLE, as_json=as_json)
    finally:
        store.close()
    return statements
