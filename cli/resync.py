"""The work behind ``partner-sync resync``: remote (``serve``'s admin API) or local (the engine).

Remote: POST the scope to ``<remote>/admin/resync``; serve runs it (trigger ``admin``) and
answers with the run document (sync/run_document.py), shown as a local run's. Local: settings,
token, store and logging as every command (cli/startup.py), then the engine's ``full_sync`` /
``resync_type`` / ``targeted_sync`` / ``resync_member`` with trigger ``cli``. Either way the
output is the run document (``--json``) or its text rendering with the summary line
(cli/run_output.py). Exit codes as everywhere (cli/exits.py): 1 when the run finished with
failures, 3 auth, 4 unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from cli.output import ExitCode, activity, console, emit_json, fail, load_settings_or_exit
from cli.resync_remote import RemoteError, ResyncScope, request_remote
from cli.run_output import print_run
from cli.startup import open_runtime
from cli.sync_commands import stop
from sync.run_document import run_document

if TYPE_CHECKING:
    from cli.runtime import Runtime
    from sync.engine import RunReport

__all__ = ["TRIGGER", "run_resync"]

TRIGGER = "cli"  # how a local resync is recorded in the run log (a remote one: "admin")


def _remote(scope: ResyncScope, remote: str, admin_token: str | None, as_json: bool) -> None:
    if not admin_token:
        fail("--remote needs the admin token", "pass --admin-token or set "
             "PARTNER_SYNC_ADMIN__TOKEN to the serve process's admin token", ExitCode.USAGE,
             as_json=as_json)
    try:
        answer = request_remote(remote, admin_token, scope)
    except RemoteError as exc:
        fail(str(exc), exc.fix, exc.code, as_json=as_json)
    _show(dict(answer), as_json)


def _show(doc: dict[str, Any], as_json: bool) -> NoReturn:
    """The run document (JSON) or its text rendering; exit 0 ok, else 1."""
    if as_json:
        emit_json(doc)
    else:
        print_run(doc, console(stderr=False))
    raise typer.Exit(int(ExitCode.OK if doc.get("status") == "ok" else ExitCode.FAILURES))


def _local_run(runtime: Runtime, scope: ResyncScope) -> RunReport:
    engine = runtime.engine
    runs: dict[str, Callable[[], RunReport]] = {
        "all": lambda: engine.full_sync(trigger=TRIGGER),
        "type": lambda: engine.resync_type(scope.object_type or "", trigger=TRIGGER),
        "records": lambda: engine.targeted_sync(list(scope.records), trigger=TRIGGER),
        "member": lambda: engine.resync_member(scope.member or "", trigger=TRIGGER),
    }
    calls = runtime.gateway.metrics.snapshot
    with activity(f"resync ({scope.kind})", lambda: int(calls()["totals"]["calls"])):
        return runs[scope.kind]()


def _local(scope: ResyncScope, as_json: bool) -> None:
    from sync.engine import SyncBusy, SyncError

    settings = load_settings_or_exit(as_json=as_json)
    with open_runtime(settings, as_json=as_json) as runtime:
        try:
            report = _local_run(runtime, scope)  # the engine logs the run's line too
        except (SyncBusy, SyncError) as exc:
            stop(exc, as_json=as_json)
    _show(run_document(report.to_dict()), as_json)


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
