"""The console's read-only pages: overview, runs, one run, members, payouts, member portals."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from config.contract import COMPLIANCE_STATUSES, PROGRAM_TYPES, TIERS
from webhooks.console import data
from webhooks.console.charts import PALETTE, Group, Series, bar_chart
from webhooks.console.portals import member_portals
from webhooks.console.web import Context

__all__ = ["members", "overview", "payouts", "portals", "run", "runs"]

PROBLEMS_SHOWN = 500
_API_SERIES = (Series("API calls", PALETTE[0]), Series("429 answers", PALETTE[1]))


async def overview(ctx: Context, request: Request) -> Response:
    view = await run_in_threadpool(data.overview, ctx.store, ctx.jobs)
    chart = bar_chart([Group(f"#{rid}", (calls, limited)) for rid, calls, limited in view.api],
                      _API_SERIES, description="API calls and 429 answers per run")
    return ctx.render(request, "overview.html", view=view, chart=chart)


async def runs(ctx: Context, request: Request) -> Response:
    raw = request.query_params.get("limit", "50")
    digits = raw.isascii() and raw.isdigit() and len(raw) <= 3  # "²".isdigit() is True
    limit = int(raw) if digits and 1 <= int(raw) <= 500 else 50
    found = await run_in_threadpool(ctx.store.list_runs, limit)
    return ctx.render(request, "runs.html", runs=found, limit=limit)


async def run(ctx: Context, request: Request) -> Response:
    run_id = int(request.path_params["run_id"])
    info = await run_in_threadpool(ctx.store.get_run, run_id, PROBLEMS_SHOWN)
    if info is None:
        return ctx.render(request, "message.html", 404, title="No such run",
                          message=f"There is no run {run_id} in the run log.")
    portal_id = await run_in_threadpool(ctx.portal_id)
    problems = [(p, data.record_url(portal_id, p.record_kind, p.record_id))
                for p in info.problems]
    object_counts = {k: v for k, v in info.counts.items()
                     if k not in ("patches", "decided", "api")}
    return ctx.render(request, "run.html", run=info, problems=problems, portal_id=portal_id,
                      object_counts=object_counts, shown=PROBLEMS_SHOWN)


async def members(ctx: Context, request: Request) -> Response:
    keep = data.MemberFilter.from_query(request.query_params)
    rows = await run_in_threadpool(data.member_rows, ctx.reads, ctx.contract,
                                   ctx.clock.today(), keep)
    portal_id = await run_in_threadpool(ctx.portal_id)
    links = {r.company_id: data.record_url(portal_id, "companies", r.company_id) for r in rows}
    return ctx.render(request, "members.html", rows=rows, keep=keep, links=links,
                      types=PROGRAM_TYPES, tiers=TIERS, compliances=COMPLIANCE_STATUSES,
                      as_of=ctx.clock.today())


async def payouts(ctx: Context, request: Request) -> Response:
    member = request.query_params.get("member", "").strip()[:128]
    as_of = ctx.clock.today()
    calendar = await run_in_threadpool(data.payout_calendar, ctx.reads, as_of, member)
    series = [Series(c or "(none)", PALETTE[i % len(PALETTE)])
              for i, c in enumerate(calendar.currencies)]
    chart = bar_chart(
        [Group(q, [calendar.totals.get((q, c), data.ZERO) for c in calendar.currencies])
         for q in calendar.quarters],
        series, description="Commission payable per quarter of pay date, per currency")
    return ctx.render(request, "payouts.html", calendar=calendar, chart=chart, member=member,
                      as_of=as_of)


async def portals(ctx: Context, request: Request) -> Response:
    found = await run_in_threadpool(member_portals, ctx.store)
    return ctx.render(request, "portals.html", portals=found)
