"""The demo's result as rich tables (``render``); ``--json`` prints the same dict instead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["render"]

MAX_CHANGE_ROWS = 12


def _counts_table(title: str, counts: Mapping[str, int]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("value", min_width=14)
    table.add_column("records", justify="right")
    for name, n in counts.items():
        table.add_row(name, str(n))
    return table


def _members_table(members: list[dict[str, Any]]) -> Table:
    """One row per member and currency (amounts keep their currency, no FX)."""
    table = Table(title="Commission per member", title_justify="left")
    for column in ("member", "type", "tier", "compliance", "cur", "earned", "paid",
                   "next payout", "amount"):
        table.add_column(column, justify="right" if column in ("earned", "paid", "amount")
                         else "left")
    for m in members:
        head = [m["code"], m["type"] or "", m["tier"] or "-", m["compliance"] or ""]
        for t in m["totals"] or [{"currency": "-", "earned": "0.00", "paid_to_date": "0.00",
                                  "next_payout_date": None, "next_payout_amount": "0.00"}]:
            table.add_row(*head, t["currency"], t["earned"], t["paid_to_date"],
                          t["next_payout_date"] or "-",
                          t["next_payout_amount"] if t["next_payout_date"] else "-")
            head = ["", "", "", ""]
    return table


def _calendar_table(calendar: Mapping[str, Mapping[str, Mapping[str, str]]]) -> Table:
    table = Table(title="Payout calendar", title_justify="left")
    table.add_column("pay date")
    table.add_column("member")
    table.add_column("amount", justify="right")
    for day, members in calendar.items():
        for code, amounts in members.items():
            table.add_row(day, code, ", ".join(f"{a} {cur}" for cur, a in amounts.items()))
    return table


def _short(name: str, prefix: str) -> str:
    return name.removeprefix(prefix)


def _events_table(events: list[dict[str, Any]], prefix: str) -> Table:
    table = Table(title="Live events (webhook -> worker -> write-back)", title_justify="left")
    for column in ("event", "record", "member", "written back", "latency"):
        table.add_column(column)
    for e in events:
        shown = {k: v for k, v in e["outputs"].items()
                 if k.endswith(("status", "registered_to", "expires_at", "attribution",
                                "attributed_to", "commission_plan", "commission_earned",
                                "next_payout_date"))}
        table.add_row(e["kind"], f"{e['object_type']}/{e['object_id']}", e["member"],
                      "\n".join(f"{_short(k, prefix)} = {v}" for k, v in shown.items()),
                      f"{e['latency_s']:.2f} s")
    return table


def _move_table(move: dict[str, Any], prefix: str) -> Table:
    grouped = Counter((ch["property"], ch["before"] or "", ch["after"] or "")
                      for ch in move["changes"])
    table = Table(title=f"Time moves to {move['as_of']} ({move['why']}): "
                        f"{len(move['changes'])} output value(s) changed",
                  title_justify="left")
    for column in ("property", "before", "after", "records"):
        table.add_column(column, justify="right" if column == "records" else "left")
    # Registration status changes first (the expiry is the point of the move), then the most
    # frequent kinds of change.
    rows = sorted(grouped.items(), key=lambda kv: (not kv[0][0].endswith("registration_status"),
                                                   -kv[1], kv[0]))
    for (prop, before, after), n in rows[:MAX_CHANGE_ROWS]:
        table.add_row(_short(prop, prefix), before or "-", after or "-", str(n))
    if len(grouped) > MAX_CHANGE_ROWS:
        table.add_row("...", f"{len(grouped) - MAX_CHANGE_ROWS} more kinds (see --json)", "", "")
    return table


def render(result: dict[str, Any], console: Console) -> None:
    """Print the demo's result (see ``cli.demo.run.run_demo``) as tables."""
    full, summary, prefix = result["full_sync"], result["summary"], result["property_prefix"]
    console.print(f"[bold]Full sync[/] (run {full['run_id']}, as of {full['as_of']}): "
                  f"read {sum(full['records_read'].values())} records, wrote "
                  f"{sum(full['written'].values())}, {full['api_calls']} API calls, "
                  f"{full['problems']} data problems, {full['duration_s']:.1f} s")
    console.print(_events_table(result["live_events"], prefix))
    for move in result["time_moves"]:
        console.print(_move_table(move, prefix))
    console.print(f"[bold]Program as of {summary['as_of']}[/]")
    console.print(_counts_table("Registrations by status", summary["registrations_by_status"]))
    console.print(_counts_table("Deals by attribution", summary["deals_by_attribution"]))
    console.print(_members_table(summary["members"]))
    console.print(_calendar_table(summary["payout_calendar"]))
    runs, calls = summary["runs"], summary["api_calls"]
    kinds = ", ".join(f"{n} {k}" for k, n in runs["by_kind"].items())
    console.print(f"{runs['total']} runs ({kinds}); {calls['total']} HubSpot API calls, "
                  f"{calls['rate_limited']} rate-limited; demo took {result['duration_s']} s; "
                  "everything it started is stopped.")
