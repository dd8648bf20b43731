"""The work behind ``partner-sync resync``: remote (``serve``'s admin API) or local (the engine).

Remote: POST the scope to ``<remote>/admin/resync`` and print the run id. Local: load
settings, open the store and the gateway, run the engine's ``full_sync`` / ``resync_type`` /
``targeted_sync`` / ``resync_member`` and print the run's summary. Exit codes as everywhere
(``cli.output``): 1 when the run finished with failures, 3 auth, 4 unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import typer

from cli.output import ExitCode, console, emit_json, fail, load_settings_or_exit
from cli.resync_remote import RemoteError, ResyncScope, request_remote
from config.settings import Settings

__all__ = ["run_resync"]

_EXIT_FOR_ERROR = {"auth": ExitCode.AUTH, "unreachable": ExitCode.UNREACHABLE}


def _remote(scope: ResyncScope, remote: str, admin_token: str | None, as_json: bool) -> None:
    if not admin_token:
        fail("--remote needs the admin token", "pass --admin-token or set "
             "PARTNER_SYNC_ADMIN__TOKEN to the serve process's admin token", ExitCode.USAGE,
             as_json=as_json)
    try:
        answer = request_remote(remote, admin_token, scope)
    except RemoteError as exc:
        fail(str(exc), exc.fix, exc.code, as_json=as_json)
    status = str(answer.get("status", "ok"))
    if as_json:
        emit_json(dict(answer))
    else:
        console(stderr=False).print(f"resync on {remote}: run {answer.get('run_id')} {status}")
    raise typer.Exit(int(ExitCode.OK if status == "ok" else ExitCode.FAILURES))


def _local_run(settings: Settings, scope: ResyncScope, as_json: bool) -> Any:
    # Lazy: the engine pulls in the SDK and SQLAlchemy, which --help should not pay for.
    from cli.runtime import StoreUnavailable, build_runtime

    try:
        runtime = build_runtime(settings)
    except StoreUnavailable as exc:
        fail(str(exc), "check PARTNER_SYNC_STORE__URL: the database must be up and reachable "
             "with those credentials (docs/troubleshooting.md)", ExitCode.UNREACHABLE,
             as_json=as_json)
    try:
        engine = runtime.engine
        runs: dict[str, Callable[[], Any]] = {
            "all": lambda: engine.full_sync(trigger="admin"),
            "type": lambda: engine.resync_type(scope.object_type or ""),
            "records": lambda: engine.targeted_sync(list(scope.records), trigger="admin"),
            "member": lambda: engine.resync_member(scope.member or ""),
        }
        return runs[scope.kind]()
    finally:
        runtime.close()


def _local(scope: ResyncScope, as_json: bool) -> None:
    from sync.engine import SyncBusy, SyncError
    from sync.logs import configure_logging, run_summary

    settings = load_settings_or_exit(as_json=as_json)
    if settings.hubspot.access_token is None:
        fail("no HubSpot access token is configured", "set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN "
             "(docs/connecting-a-portal.md), or use --remote", ExitCode.AUTH, as_json=as_json)
    handler = configure_logging(settings)
    try:
        report = _local_run(settings, scope, as_json)  # the engine logs the run's line
        summary = run_summary(report)
    except SyncBusy as exc:
        fail(str(exc), "another sync is running; retry when it has finished", ExitCode.FAILURES,
             as_json=as_json)
    except SyncError as exc:
        fail(str(exc), "run `partner-sync doctor`",
             _EXIT_FOR_ERROR.get(exc.kind, ExitCode.FAILURES),
             as_json=as_json)
    finally:
        # The process ends here; in tests the next command installs its own handler.
        logging.getLogger().removeHandler(handler)
    if as_json:
        emit_json(summary)
    raise typer.Exit(int(ExitCode.OK if report.status == "ok" else ExitCode.FAILURES))


def run_resync(
    *,
    all_: bool,
    object_type: str | None,
    ids: str | None,
    member: str | None,
    remote: str | None,
    admin_token: str | None,
    as_json: bool,
) -> None:
    """Parse the scope (exit 2 when the flags are wrong), then resync remotely or locally."""
    try:
        scope = ResyncScope.from_flags(all_=all_, object_type=object_type, ids=ids, member=member)
    except ValueError as exc:
        fail(str(exc), "see `partner-sync resync --help`", ExitCode.USAGE, as_json=as_json)
    if remote is not None:
        _remote(scope, remote, admin_token, as_json)
    else:
        _local(scope, as_json)
