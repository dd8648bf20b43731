"""Grouped bar charts as plain geometry, drawn as inline SVG by the templates.

No script and no style sheet reaches the chart: bars carry ``fill`` attributes and a ``<title>``
(the exact value, shown as a tooltip and read by screen readers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Bar", "Chart", "Group", "Series", "bar_chart"]

Number = int | Decimal

PALETTE = ("#2f6db5", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str


@dataclass(frozen=True, slots=True)
class Group:
    """One x-axis position: a label and one value per series (same order as the series)."""

    label: str
    values: Sequence[Number]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    series: tuple[Series, ...]
    max_label: str
    baseline_y: float
    plot_left: float
    description: str


_LEFT, _RIGHT, _TOP, _BOTTOM = 48.0, 8.0, 12.0, 34.0


def _fmt(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def bar_chart(
    groups: Sequence[Group], series: Sequence[Series], *, width: int = 640, height: int = 200,
    description: str = "",
) -> Chart:
    """Bars for every (group, series) value, scaled to the largest value (at least 1)."""
    top = max((v for g in groups for v in g.values), default=0)
    scale_max: Number = top if top > 0 else 1
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    slot = plot_w / max(len(groups), 1)
    bar_w = min(max(slot * 0.8 / max(len(series), 1), 1.0), 36.0)
    bars: list[Bar] = []
    labels: list[Label] = []
    every = max(1, len(groups) // 12)  # at most ~12 x labels, so they never overlap
    for i, group in enumerate(groups):
        left = _LEFT + i * slot + (slot - bar_w * len(series)) / 2
        for j, (s, value) in enumerate(zip(series, group.values, strict=True)):
            h = float(Decimal(value) / Decimal(scale_max)) * plot_h if value > 0 else 0.0
            bars.append(Bar(round(left + j * bar_w, 1), round(_TOP + plot_h - h, 1),
                            round(bar_w, 1), round(h, 1), s.color,
                            f"{group.label}: {s.name} {_fmt(value)}"))
        if i % every == 0:
            labels.append(Label(round(_LEFT + i * slot + slot / 2, 1), height - _BOTTOM + 14,
                                group.label))
    return Chart(width, height, tuple(bars), tuple(labels), tuple(series), _fmt(top),
                 _TOP + plot_h, _LEFT, description)
