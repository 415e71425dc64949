"""Charts as inline SVG drawn on the server: they show with scripts disabled, need no charting
library in the browser and no network, and their labels are escaped like any other text."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from alloc.text import printable

WIDTH, BAR, GAP, LABEL = 640, 18, 6, 230


def _fmt(x: float) -> str:
    return f"{round(x) + 0:,.0f}"


def bars(title: str, items: Sequence[tuple[str, float]], unit: str) -> Markup:
    """A horizontal bar chart: one bar per (label, value); negative values (differences) grow
    left of a zero line, so a chart of differences reads as well as one of amounts."""
    if not items:
        return Markup("")
    low = min(0.0, *(v for _, v in items))
    high = max(0.0, *(v for _, v in items))
    span = (high - low) or 1.0
    plot = WIDTH - LABEL - 90
    zero = LABEL + plot * (-low / span)
    height = len(items) * (BAR + GAP) + 36
    parts = [f'<svg class="chart" role="img" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(printable(title))} ({escape(unit)})</title>",
             f'<text class="heading" x="4" y="13">{escape(printable(title))} '
             f"({escape(printable(unit))})</text>"]
    for i, (label, value) in enumerate(items):
        y = 26 + i * (BAR + GAP)
        x0 = zero + plot * (min(value, 0.0) / span)
        w = plot * abs(value) / span
        cls = "neg" if value < 0 else "pos"
        shown = escape(printable(label if len(label) <= 34 else label[:33] + "…"))
        parts.append(f'<text x="{LABEL - 6}" y="{y + BAR - 5}" text-anchor="end">{shown}</text>')
        parts.append(f'<rect class="{cls}" x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{BAR}">'
                     f"<title>{escape(printable(label))}: {_fmt(value)}</title></rect>")
        parts.append(f'<text x="{x0 + w + 4:.1f}" y="{y + BAR - 5}">{_fmt(value)}</text>')
    parts.append(f'<line x1="{zero:.1f}" y1="20" x2="{zero:.1f}" y2="{height - 8}" class="axis"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
