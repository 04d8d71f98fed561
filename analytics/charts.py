"""Small server-side SVG charts for the dashboard: no JavaScript, nothing for the CSP to
allow (colours are presentation attributes, not styles), readable at phone width because the
SVG scales to its box (viewBox) and text is sized in viewBox units.

Two kinds are enough for the dashboard: stacked columns over days, horizontal bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe (Okabe-Ito) colours, one per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
TEXT = "#333333"
GRID = "#dddddd"


def _nice_max(value: float) -> float:
    """The axis top: four equal steps of a round size (whole numbers for counts)."""
    if value <= 0:
        return 4.0
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = max(multiple * magnitude, 1.0)
        if step >= raw and step == int(step):
            return step * 4
    return 40.0 * magnitude


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def stacked_columns(
    days: Sequence[date], series: Mapping[str, Sequence[int]], *, title: str
) -> SafeString:
    """Columns per day, one stacked segment per series, a legend above and a y axis."""
    width, height = 480.0, 230.0
    left, right, top, bottom = 40.0, 8.0, 34.0, 28.0
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line x1="{left:g}" x2="{width - right:g}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6:g}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="{TEXT}">{_fmt(value)}</text>'
        )
    for i, day in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for n, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / peak
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(day.isoformat())} '
                f"{escape(name)}: {values[i]}</title></rect>"
            )
        # Day labels far enough apart not to overlap (the last one only if it has room).
        every = max(1, math.ceil(len(days) / 6))
        if i % every == 0 and (len(days) - 1 - i >= every or i == len(days) - 1):
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 10:g}" font-size="11" '
                f'text-anchor="middle" fill="{TEXT}">{day:%d %b}</text>'
            )
    x = left
    for n, name in enumerate(series):
        parts.append(
            f'<rect x="{x:.1f}" y="8" width="12" height="12" '
            f'fill="{PALETTE[n % len(PALETTE)]}"/>'
            f'<text x="{x + 16:.1f}" y="18" font-size="12" fill="{TEXT}">{escape(name)}</text>'
        )
        x += 28 + 8 * len(name)
    if not series:
        parts.append(
            f'<text x="{width / 2:g}" y="{top + plot_h / 2:g}" font-size="13" '
            f'text-anchor="middle" fill="{TEXT}">No searches in this period yet.</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def horizontal_bars(
    labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = ""
) -> SafeString:
    """One bar per label, largest first as given, the value at the end of each bar."""
    row, label_w, width = 24.0, 150.0, 480.0
    height = max(row * len(labels) + 8, 40.0)
    peak = max(values, default=0) or 1
    plot_w = width - label_w - 80  # room for the value after the longest bar
    parts = [
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + row * i
        short = label if len(label) <= 22 else label[:21] + "…"
        w = max(plot_w * value / peak, 1.0)
        parts.append(
            f'<text x="{label_w - 6:g}" y="{y + 15:.1f}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}"><title>{escape(label)}</title>{escape(short)}</text>'
            f'<rect x="{label_w:g}" y="{y + 3:.1f}" width="{w:.1f}" height="{row - 8:g}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15:.1f}" font-size="12" '
            f'fill="{TEXT}">{escape(_fmt(round(value, 2)))}{escape(unit)}</text>'
        )
    if not labels:
        parts.append(
            f'<text x="{width / 2:g}" y="24" font-size="13" text-anchor="middle" '
            f'fill="{TEXT}">Nothing to show in this period.</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()
