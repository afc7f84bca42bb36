"""Inline SVG charts, drawn on the server: no JavaScript, no chart library, readable without CSS.

Each chart comes with a text alternative (`aria-label` plus the same figures as a
table in the page), so screen readers get the numbers, not a picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

__all__ = ["PALETTE", "BarSeries", "diverging_bars", "stacked_bars"]

# Distinguishable, and dark enough for white gaps between stacks (WCAG non-text contrast on white).
PALETTE = ("#1f5fbf", "#c05621", "#2f855a", "#805ad5", "#b83280", "#2c7a7b", "#975a16", "#4a5568")


@dataclass(frozen=True, slots=True)
class BarSeries:
    name: str
    colour: str
    values: tuple[int, ...]  # one per column


def _tick_step(top_value: int, ticks: int) -> int:
    """A round step (1, 2 or 5 x 10^n) so that `ticks` steps reach at least `top_value`."""
    needed = max(1, -(-top_value // ticks))
    magnitude = 1
    while magnitude * 10 < needed:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= needed:
            return factor * magnitude
    return 10 * magnitude


def stacked_bars(columns: Sequence[str], series: Sequence[BarSeries], *, label: str, unit: str = "credits",
                 width: int = 640, height: int = 240) -> Markup:
    """A stacked bar chart: one bar per column (e.g. a month), one colour per series (e.g. a feature)."""
    left, right, top, bottom = 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[index] for s in series) for index in range(len(columns))]
    ticks = 4
    step = _tick_step(max(totals, default=0), ticks)
    ceiling = step * ticks
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>',
    ]
    for tick in range(ticks + 1):  # horizontal grid lines with their values
        value = step * tick
        y = top + plot_h - plot_h * tick / ticks
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e6ea"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#555d68">'
                     f"{value}</text>")
    slot = plot_w / max(len(columns), 1)
    bar_w = min(48.0, slot * 0.6)
    for index, column in enumerate(columns):
        x = left + slot * index + (slot - bar_w) / 2
        y = top + plot_h
        for s in series:
            value = s.values[index]
            if value <= 0:
                continue
            h = plot_h * value / ceiling
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.colour}" '
                f'stroke="#fff" stroke-width="1"><title>{escape(column)} · {escape(s.name)}: '
                f"{value} {escape(unit)}</title></rect>"
            )
        if totals[index]:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" font-size="11" text-anchor="middle" '
                         f'fill="#1b1f24">{totals[index]}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
                     f'fill="#555d68">{escape(column)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
                 'stroke="#a9b0ba"/></svg>')
    return Markup("".join(parts))


def diverging_bars(columns: Sequence[str], gains: Sequence[BarSeries], losses: Sequence[BarSeries], *,
                   label: str, value_text: Callable[[int], str], width: int = 640,
                   height: int = 240) -> Markup:
    """One bar per column, gains stacked above the zero line and losses below it (e.g. a month's new and
    expansion MRR up, its contraction and churn down); `value_text` writes a value (an amount of money)."""
    left, right, top, bottom = 64, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    ups = [sum(s.values[index] for s in gains) for index in range(len(columns))]
    downs = [sum(s.values[index] for s in losses) for index in range(len(columns))]
    ticks = 2  # each side of zero
    step = _tick_step(max([*ups, *downs, 0]), ticks)
    per_value = plot_h / (2 * ticks * step)
    zero_y = top + plot_h / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>',
    ]
    for tick in range(-ticks, ticks + 1):
        y = zero_y - tick * step * per_value
        colour = "#a9b0ba" if tick == 0 else "#e2e6ea"
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#555d68">'
                     f"{escape(value_text(tick * step))}</text>")
    slot = plot_w / max(len(columns), 1)
    bar_w = min(48.0, slot * 0.6)
    for index, column in enumerate(columns):
        x = left + slot * index + (slot - bar_w) / 2
        for direction, stack in ((-1, gains), (1, losses)):
            y = zero_y
            for s in stack:
                value = s.values[index]
                if value <= 0:
                    continue
                h = value * per_value
                y_top = y - h if direction < 0 else y
                parts.append(
                    f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{s.colour}" stroke="#fff" stroke-width="1"><title>{escape(column)} · '
                    f"{escape(s.name)}: {escape(value_text(value))}</title></rect>"
                )
                y = y_top if direction < 0 else y + h
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
                     f'fill="#555d68">{escape(column)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
