"""Charts for the status page, made on the server: bars and lines in SVG, words in HTML.

Design decisions:

* **Made here, not by a chart library in the browser:** the page's
  Content-Security-Policy allows no inline script or style and nothing from
  elsewhere, and a chart must show without JavaScript. SVG shapes with
  presentation attributes (coordinates) and classes styled by
  ``static/style.css`` (colours, dark mode) stay within that policy.
* **Text is HTML, shapes are SVG.** Text inside an SVG scales with the drawing,
  so a chart sized for a desktop has unreadable labels on a phone. Here each
  shape is drawn in a stretchable SVG (``preserveAspectRatio="none"``, strokes
  and dots with ``vector-effect: non-scaling-stroke`` so they keep their width)
  and every label and number is HTML at the page's own font size.
* **A bar chart is a table** (label, bar, value per row): its numbers are there
  for screen readers and copying without a second copy of the data. The line
  chart is an image with a tooltip per point (its data table is under it on the
  page). Labels are escaped (folder names are user data).
* Axis ticks sit at fixed fractions of the plot (0, ¼, ½, ¾, 1) and are placed by
  CSS classes, since an inline ``style`` would break the policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

#: The line chart's drawing units (it stretches to its box).
PLOT_WIDTH, PLOT_HEIGHT = 1000, 200
#: Ticks of the value axis, as quarters of the top.
TICKS = 4
#: Room at each end of the line (drawing units), so the first and last dots are whole.
PAD = 12


def _id(chart_id: str) -> str:
    return f' id="{escape(chart_id)}"' if chart_id else ""


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    chart_id: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value), in the order given: a table of label, bar and value."""
    top = max((v for _, v in rows), default=0) or 1
    out = [f'<table class="bar-chart"{_id(chart_id)} aria-label="{escape(title)}"><tbody>']
    for label, value in rows:
        share = 100 * value / top
        width = max(0.5, share) if value else 0.0
        out.append(
            f'<tr class="chart-row" data-label="{escape(label)}" data-value="{value:g}">'
            f'<th scope="row" class="chart-label" title="{escape(label)}">{escape(label)}</th>'
            '<td class="chart-bar-cell"><svg class="chart-track" viewBox="0 0 100 10" preserveAspectRatio="none" '
            'aria-hidden="true" focusable="false">'
            f'<rect class="chart-bar" width="{width:.2f}" height="10"></rect></svg></td>'
            f'<td class="chart-value">{escape(fmt(value))}</td></tr>'
        )
    out.append("</tbody></table>")
    return Markup("".join(out))


def _nice(top: float) -> float:
    """A round number at or above ``top`` for the axis (1, 2 or 5 × a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10.0 ** (len(str(int(top))) - 1)
    for step in (1, 2, 5, 10):
        if step * power >= top:
            return step * power
    return 10 * power


def line_chart(
    points: Sequence[tuple[str, float, str]],
    *,
    title: str,
    fmt: Callable[[float], str],
    chart_id: str = "",
) -> Markup:
    """A line through (x label, value, tooltip) points, oldest first, on an axis from 0 to a round top."""
    top = _nice(max((v for _, v, _ in points), default=0) * 1.05)
    n = len(points)
    span = PLOT_WIDTH - 2 * PAD
    coords = [
        (
            PAD + span * i / (n - 1) if n > 1 else PLOT_WIDTH / 2,
            PLOT_HEIGHT - PLOT_HEIGHT * value / top,
        )
        for i, (_, value, _) in enumerate(points)
    ]
    out = [f'<div class="line-chart"{_id(chart_id)} role="img" aria-label="{escape(title)}">']
    out.append('<div class="chart-y" aria-hidden="true">')
    for k in range(TICKS, -1, -1):
        out.append(f'<span class="tick tick-{k}">{escape(fmt(top * k / TICKS))}</span>')
    out.append("</div>")
    out.append(
        f'<svg class="chart-plot" viewBox="0 0 {PLOT_WIDTH} {PLOT_HEIGHT}" preserveAspectRatio="none" '
        'focusable="false">'
    )
    for k in range(TICKS + 1):
        y = PLOT_HEIGHT * k / TICKS
        out.append(
            f'<line class="chart-rule" x1="0" x2="{PLOT_WIDTH}" y1="{y:g}" y2="{y:g}" '
            'vector-effect="non-scaling-stroke"></line>'
        )
    if n > 1:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        first, last = coords[0][0], coords[-1][0]
        out.append(
            f'<polygon class="chart-area" points="{first:.1f},{PLOT_HEIGHT} {line} {last:.1f},{PLOT_HEIGHT}"></polygon>'
        )
        out.append(f'<polyline class="chart-stroke" points="{line}" vector-effect="non-scaling-stroke"></polyline>')
    slot = span / (n - 1) if n > 1 else PLOT_WIDTH
    for (x, y), (label, value, tip) in zip(coords, points, strict=True):
        left = max(0.0, x - slot / 2)
        out.append(
            f'<g class="chart-point" data-label="{escape(label)}" data-value="{value:g}"><title>{escape(tip)}</title>'
            f'<rect class="chart-hit" x="{left:.1f}" y="0" width="{min(slot, PLOT_WIDTH - left):.1f}" '
            f'height="{PLOT_HEIGHT}"></rect>'
            f'<line class="chart-dot" x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
            'vector-effect="non-scaling-stroke"></line></g>'
        )
    out.append("</svg>")
    shown = sorted({0, n // 2, n - 1}) if n > 2 else list(range(n))
    out.append('<div class="chart-x" aria-hidden="true">')
    out.extend(f"<span>{escape(points[i][0])}</span>" for i in shown)
    out.append("</div></div>")
    return Markup("".join(out))


__all__ = ["bar_chart", "line_chart"]
