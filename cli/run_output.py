"""How a run is shown: one JSON document for every run (sync, local and remote resync, the
admin API), a text rendering with a summary line, and a dry run's readable plan.

The JSON run document is built by sync/run_document.py: ``sync --json``, ``resync --json``
(local), ``resync --remote --json`` and the admin API's answers have exactly that shape. A run
read back from the run log has ``null`` where the log keeps no list (``patches``).
The text rendering: a table of counts per object type; for a dry run a table of the planned
changes grouped by property and value (``property, from -> to, records``) and the words
"dry run: nothing written"; the data problems (bad input records, skipped); one summary line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sync.logs import run_summary_line

__all__ = [
    "DRY_RUN_LINE",
    "MAX_PROBLEMS_SHOWN",
    "MAX_VALUES_PER_PROPERTY",
    "change_rows",
    "print_run",
]

DRY_RUN_LINE = "dry run: nothing written"
MAX_VALUES_PER_PROPERTY = 5  # from -> to pairs shown per property; the rest are summed
# A property with more distinct changes than this (amounts, dates, domains) gets one row.
VARIED = 10
PIPE_WIDTH = 120  # off a terminal: wide enough that property names are not cut
MAX_PROBLEMS_SHOWN = 50
OBJECT_TYPES = ("companies", "contacts", "deals", "subscriptions")
EMPTY = "(empty)"


def _shown(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if text.strip() else EMPTY


def change_rows(patches: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str, int]]:
    """``(object_type.property, from, to, records)`` rows, most common change first within a
    property; beyond ``MAX_VALUES_PER_PROPERTY`` pairs a property gets one ``(N other
    changes)`` row with the remaining count, and a property with more than ``VARIED`` distinct
    changes gets a single ``(N different changes, e.g. ...)`` row. ``patches`` are
    run-document patches (``properties`` and, when known, ``previous``)."""
    per_property: dict[str, Counter[tuple[str, str]]] = {}
    for patch in patches:
        before = patch.get("previous") or {}
        for name, value in patch["properties"].items():
            key = f"{patch['object_type']}.{name}"
            pair = (_shown(before.get(name)), _shown(value))
            per_property.setdefault(key, Counter())[pair] += 1
    rows: list[tuple[str, str, str, int]] = []
    for key in sorted(per_property):
        ranked = sorted(per_property[key].items(), key=lambda item: (-item[1], item[0]))
        if len(ranked) > VARIED:
            (old, new), _ = ranked[0]
            total = sum(count for _, count in ranked)
            rows.append((key, f"({len(ranked)} different changes, e.g. {old} -> {new})", "",
                         total))
            continue
        for (old, new), count in ranked[:MAX_VALUES_PER_PROPERTY]:
            rows.append((key, old, new, count))
        rest = sum(count for _, count in ranked[MAX_VALUES_PER_PROPERTY:])
        if rest:
            others = len(ranked) - MAX_VALUES_PER_PROPERTY
            rows.append((key, f"({others} other change{'s' if others > 1 else ''})", "", rest))
    return rows


def _counts_table(doc: Mapping[str, Any]) -> Table:
    title = f"{doc['kind']} sync, run {doc['run_id']}, as of {doc['as_of']}"
    table = Table(title=title + (" (dry run)" if doc.get("dry_run") else ""))
    for column in ("object type", "read", "planned", "written"):
        table.add_column(column, justify="left" if column == "object type" else "right")
    planned = Counter(p["object_type"] for p in doc.get("patches") or [])
    for object_type in OBJECT_TYPES:
        table.add_row(object_type, str(doc.get("records_read", {}).get(object_type, 0)),
                      str(planned.get(object_type, 0)),
                      str(doc.get("written", {}).get(object_type, 0)))
    return table


def _changes_table(rows: list[tuple[str, str, str, int]]) -> Table:
    table = Table(title="planned changes (--json lists every record)")
    for column in ("property", "from -> to", "records"):
        table.add_column(column, justify="right" if column == "records" else "left")
    for prop, old, new, count in rows:
        change = old if not new else f"{old} -> {new}"
        table.add_row(escape(prop), escape(change), str(count))
    return table


def _problem_lines(problems: list[Mapping[str, Any]]) -> list[str]:
    if not problems:
        return []
    lines = [f"data problems ({len(problems)} records skipped or reported; docs/rules.md "
             "explains each code):"]
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        lines.append(f"  {problem['record_kind']} {problem['record_id']}: {problem['code']}"
                     + (f" ({problem['detail']})" if problem.get("detail") else ""))
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (--json lists all)")
    return lines


def print_run(doc: Mapping[str, Any], out: Console) -> None:
    """The text rendering of one run document (see module)."""
    if not out.is_terminal:
        out.width = max(out.width, PIPE_WIDTH)
    if doc.get("records_read") is not None:
        out.print(_counts_table(doc))
    if doc.get("dry_run"):
        rows = change_rows(doc.get("patches") or [])
        if rows:
            out.print(_changes_table(rows))
        else:
            out.print("no changes planned")
    for line in _problem_lines(list(doc.get("problems") or [])):
        out.print(escape(line))
    for failure in (doc.get("write_failures") or [])[:MAX_PROBLEMS_SHOWN]:
        out.print(escape(f"write failed: {failure['object_type']} {failure['object_id']}: "
                         f"{failure['message']}"))
    out.print(escape(run_summary_line(doc)))
    if doc.get("dry_run"):
        out.print(DRY_RUN_LINE)
