"""The console's actions: resync (everything, one member, given records) and dead-letter retry.

They make the same engine calls as the admin API (``webhooks.admin.resync_call``), in a worker
thread, and answer POST-redirect-GET: a run that started lands on its page (303). Another sync
holding the lock is a 409 page that says so; a member nobody has is a 404 page; a run that failed
still lands on its page when it has one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from sync.ports import RunSummary, SyncRunner, is_busy
from webhooks.admin import resync_call
from webhooks.console.web import PREFIX, Context, redirect
from webhooks.events import records_named
from webhooks.worker import SYNCED_TYPES

__all__ = ["parse_records", "resync", "retry_dead_letter"]

log = logging.getLogger(__name__)

_RECORD = re.compile(r"^([a-z]+)[:/](\d{1,20})$")
MAX_RECORDS = 1000


def parse_records(text: str) -> list[dict[str, str]] | str:
    """``deals:42, companies:7`` (commas, spaces or lines between) as resync records, or why
    not."""
    records = []
    for item in re.split(r"[\s,;]+", text.strip()):
        if not item:
            continue
        match = _RECORD.match(item)
        if match is None or match.group(1) not in SYNCED_TYPES:
            return (f"'{item[:60]}' is not TYPE:ID with TYPE one of "
                    f"{', '.join(sorted(SYNCED_TYPES))}")
        records.append({"object_type": match.group(1), "id": match.group(2)})
    if not records:
        return "give at least one record, e.g. deals:42"
    if len(records) > MAX_RECORDS:
        return f"at most {MAX_RECORDS} records at once"
    return records


def _body(fields: dict[str, str]) -> dict[str, Any] | str:
    scope = fields.get("scope", "")
    if scope == "all":
        return {"all": True}
    if scope == "member":
        member = fields.get("member", "").strip()
        return {"member": member} if member else "give a partner code or member company id"
    if scope == "records":
        records = parse_records(fields.get("records", ""))
        return records if isinstance(records, str) else {"records": records}
    return "choose what to resync"


async def resync(ctx: Context, request: Request, fields: dict[str, str]) -> Response:
    body = _body(fields)
    call = resync_call(body) if not isinstance(body, str) else body
    if isinstance(call, str):
        return ctx.render(request, "message.html", 400, title="Resync not started", message=call)
    return await _start(ctx, request, call)


async def retry_dead_letter(ctx: Context, request: Request, _fields: dict[str, str]) -> Response:
    """Re-read the records a dead letter names (a targeted sync, like the inbox worker's);
    when the run ends ``ok`` the event is done, otherwise it stays a dead letter."""
    item_id = int(request.path_params["item_id"])
    letter = await run_in_threadpool(ctx.store.dead_letter, item_id)
    if letter is None:
        return ctx.render(request, "message.html", 404, title="No such dead letter",
                          message=f"Event {item_id} is not a dead letter (any more).")
    records = sorted({r for r in records_named(letter.payload) if r[0] in SYNCED_TYPES})
    if not records:
        return ctx.render(request, "message.html", 422, title="Nothing to retry",
                          message=f"Event {item_id} names no record this worker syncs.")

    def call(engine: SyncRunner) -> RunSummary:
        report = engine.targeted_sync(records, trigger="admin")
        if report.status == "ok":
            ctx.store.inbox_done([item_id])
        return report

    return await _start(ctx, request, call)


async def _start(
    ctx: Context, request: Request, call: Callable[[SyncRunner], RunSummary]
) -> Response:
    try:
        report = await run_in_threadpool(call, ctx.engine)
    except Exception as exc:
        if is_busy(exc):
            response = ctx.render(
                request, "message.html", 409, title="Busy: another sync is running",
                message="Another sync holds the portal right now. Nothing was started; "
                        "try again in a moment.")
            response.headers["Retry-After"] = "30"
            return response
        if isinstance(exc, LookupError):
            return ctx.render(request, "message.html", 404, title="Not found",
                              message=str(exc) or "not found")
        log.exception("console resync failed")
        failed = getattr(getattr(exc, "report", None), "run_id", None)
        if isinstance(failed, int):
            return redirect(f"{PREFIX}/runs/{failed}")
        return ctx.render(request, "message.html", 500, title="Resync failed",
                          message=f"The resync failed: {type(exc).__name__}.")
    if ctx.observe_run is not None:
        ctx.observe_run(report)
    return redirect(f"{PREFIX}/runs/{report.run_id}")
