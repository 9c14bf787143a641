"""Small inline SVG charts (a step line over time, a histogram) for the self-contained HTML report.

Colours come from CSS classes of the page (`.s0`…`.s5`, `.bar`, `.grid`, …), so the same
chart reads in a light and a dark page. No chart library: these two charts are all the
report needs, and the installer stays small.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape
from typing import Sequence

import numpy as np

from station.domain.timeutil import EASTERN

WIDTH, HEIGHT = 880, 260
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 14, 40
MAX_POINTS = 2000
SERIES_CLASSES = 6


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """About `count` round values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        span = abs(low) or 1.0
        low, high = low - span / 2, high + span / 2
    raw = (high - low) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


def number(value: float) -> str:
    """A short axis label: 1.5k, 2M, 0.25, -3."""
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:.3g}M"
    if size >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.6g}"


def _time_label(seconds: float, span: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc).astimezone(EASTERN)
    if span > 3 * 86400:
        return moment.strftime("%b %d")
    if span > 3600:
        return moment.strftime("%m-%d %H:%M")
    return moment.strftime("%H:%M:%S")


def _frame(label: str, x_label: str, y_label: str) -> tuple[list[str], float, float]:
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts.append(f'<text class="label" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
                 f'{escape(x_label)}</text>')
    parts.append(f'<text class="label" transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    return parts, plot_w, plot_h


def _y_axis(parts: list[str], ticks: list[float], y) -> None:
    for tick in ticks:
        cls = "zero" if tick == 0 else "grid"
        parts.append(f'<line class="{cls}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{number(tick)}</text>')


def step_chart(series: Sequence[tuple[str, np.ndarray, np.ndarray]], *, label: str, y_label: str) -> str:
    """Step lines of `(name, epoch seconds, values)`, each starting from 0 at its first time."""
    series = [(name, np.asarray(x, float), np.asarray(y, float)) for name, x, y in series if len(x)]
    if not series:
        return '<p class="empty">No fills yet.</p>'
    parts, plot_w, plot_h = _frame(label, "time (US/Eastern)", y_label)
    x_low = min(x.min() for _, x, _ in series)
    x_high = max(x.max() for _, x, _ in series)
    x_span = max(x_high - x_low, 1.0)
    y_ticks = nice_ticks(min(0.0, *(y.min() for _, _, y in series)), max(0.0, *(y.max() for _, _, y in series)))

    def x(value: float) -> float:
        return LEFT + (value - x_low) / x_span * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (value - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * plot_h

    _y_axis(parts, y_ticks, y)
    for index, tick in enumerate(np.linspace(x_low, x_low + x_span, 5)):
        anchor = ("start", "middle", "middle", "middle", "end")[index]
        parts.append(f'<text class="tick" x="{x(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="{anchor}">'
                     f'{escape(_time_label(tick, x_span))}</text>')
    for index, (name, xs, ys) in enumerate(series):
        if len(xs) > MAX_POINTS:  # keep the shape and the last value; a screen has fewer pixels than that
            keep = np.unique(np.r_[np.linspace(0, len(xs) - 1, MAX_POINTS).astype(int), len(xs) - 1])
            xs, ys = xs[keep], ys[keep]
        points = [f"{x(xs[0]):.1f},{y(0.0):.1f}"]
        previous = 0.0
        for xv, yv in zip(xs, ys):
            points.append(f"{x(xv):.1f},{y(previous):.1f} {x(xv):.1f},{y(yv):.1f}")
            previous = yv
        cls = f"s{index % SERIES_CLASSES}" + (" total" if index == 0 else "")
        parts.append(f'<polyline class="line {cls}" points="{" ".join(points)}"><title>{escape(name)}: '
                     f'{number(ys[-1])}</title></polyline>')
    parts.append("</svg>")
    if len(series) > 1:  # the key goes under the chart, where it never hides a line
        parts.append('<p class="legend">' + "".join(
            f'<span><i class="s{index % SERIES_CLASSES}"></i>{escape(name)}</span>'
            for index, (name, _, _) in enumerate(series)) + "</p>")
    return "".join(parts)


def histogram(values: np.ndarray, *, label: str, x_label: str, signed: bool = False, gains: bool = False,
              bins: int = 30) -> str:
    """Counts of `values` in about `bins` round-width bins; the outer 1 % is folded into the end bins.

    With `signed`, bars above zero and below it differ in colour: above zero is bad (adverse slippage, a cost),
    or with `gains` good (a winning trade's PnL).
    """
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return '<p class="empty">Nothing to show yet.</p>'
    low, high = (np.percentile(values, [1, 99]) if values.size >= 100 else (values.min(), values.max()))
    edges = nice_ticks(float(low), float(high), bins)
    if len(edges) < 2:
        edges = [edges[0] - 0.5, edges[0] + 0.5]
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    parts, plot_w, plot_h = _frame(label, x_label, "count")
    y_ticks = nice_ticks(0, max(int(counts.max()), 1), 4, integer=True)
    span = edges[-1] - edges[0]

    def x(value: float) -> float:
        return LEFT + (value - edges[0]) / span * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - value / y_ticks[-1] * plot_h

    _y_axis(parts, y_ticks, y)
    for count, left, right in zip(counts, edges[:-1], edges[1:]):
        if not count:
            continue
        cls = "bar" + ((" adverse" if (left >= 0) != gains else " better") if signed and (left >= 0 or right <= 0) else "")
        parts.append(f'<rect class="{cls}" x="{x(left) + 0.5:.1f}" y="{y(count):.1f}" '
                     f'width="{max(x(right) - x(left) - 1, 1):.1f}" height="{y(0) - y(count):.1f}">'
                     f'<title>{number(left)} to {number(right)}: {count}</title></rect>')
    label_every = max(1, math.ceil((len(edges) - 1) / 10))
    for tick in edges[::label_every]:
        parts.append(f'<text class="tick" x="{x(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                     f'{number(tick)}</text>')
    if signed and edges[0] < 0 < edges[-1]:
        parts.append(f'<line class="zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>')
    parts.append("</svg>")
    return "".join(parts)
