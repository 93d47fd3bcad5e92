"""Charts as plain inline SVG, written here: no library, nothing fetched, nothing executed.

See docs/decisions.md for why. Each function returns escaped markup (markupsafe.Markup)
ready for the template; every label goes through `escape`, so data can never inject markup.
Colours are the Okabe-Ito palette, which stays distinct for colour-blind readers and in
greyscale print when paired with the legend's order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7F7F7F", "#F0E442", "#000000")
WIDTH, HEIGHT = 880, 280
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 28, 58
MAX_TICKS = 8


@dataclass
class Series:
    name: str
    values: Sequence[float]
    colour: str = PALETTE[0]
    fill: bool = False


@dataclass
class Band:
    """A shaded stretch of the x axis (a collection gap), from index `start` to `end` inclusive."""

    start: int
    end: int
    label: str


@dataclass
class TimeChart:
    title: str
    times: Sequence[datetime]
    series: list[Series]
    y_label: str
    x_label: str
    stacked: bool = False
    bands: list[Band] = field(default_factory=list)
    marker: tuple[int, str] | None = None  # (index, label): a vertical line, e.g. the start


def nice_step(maximum: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def time_chart(chart: TimeChart) -> Markup:
    n = len(chart.times)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    tops = _stack(chart) if chart.stacked else [list(s.values) for s in chart.series]
    y_max = max((max(values) for values in tops if len(values)), default=0) or 1
    step = nice_step(y_max)
    y_top = math.ceil(y_max / step) * step

    def x(i: float) -> float:
        return LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / y_top

    parts = [_open(chart.title, len(chart.series))]
    parts += [_band(b, x(b.start - 0.5 if b.start else 0), x(min(b.end + 0.5, n - 1)), TOP, plot_h) for b in chart.bands]
    parts += _y_axis(y_top, step, y, plot_w, chart.y_label)
    parts += _x_axis(chart.times, x, TOP + plot_h, chart.x_label)
    floors = [[0.0] * n, *tops[:-1]] if chart.stacked else [None] * len(tops)
    layers = list(zip(chart.series, tops, floors))
    # Stacked layers are drawn top layer first, so a lower layer's edge wins where a layer above is empty.
    for series, values, floor in reversed(layers) if chart.stacked else layers:
        parts.append(_path(series, values, floor, x, y))
    if chart.marker is not None:
        parts.append(_marker(chart.marker, x, plot_h))
    parts.append(_legend(chart.series))
    parts.append("</svg>")
    return Markup("".join(parts))


def _marker(marker: tuple[int, str], x, plot_h: float) -> str:
    """A dashed line with its label on the side that comes before it, where the curve is
    low (a start precedes its peak), with a white halo, so the label never sits on the peak."""
    index, label = marker
    pos = x(index)
    before = pos - LEFT > 60
    text_x, anchor = (pos - 4, "end") if before else (pos + 4, "start")
    return (f'<g class="marker"><line x1="{pos:.1f}" x2="{pos:.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            f'stroke="#000" stroke-dasharray="4 3"/><text x="{text_x:.1f}" y="{TOP + 12}" font-size="11" '
            f'text-anchor="{anchor}" paint-order="stroke" stroke="#fff" stroke-width="3">{escape(label)}</text></g>')


def _stack(chart: TimeChart) -> list[list[float]]:
    running = [0.0] * len(chart.times)
    out = []
    for series in chart.series:
        running = [a + float(b) for a, b in zip(running, series.values)]
        out.append(running)
    return out


def _open(title: str, series: int) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="100%" role="img" aria-label="{escape(title)}" data-series="{series}">'
            f'<title>{escape(title)}</title>')


def _band(band: Band, x0: float, x1: float, top: float, height: float) -> str:
    width = max(x1 - x0, 1.5)
    note = (f'<text x="{x0 + width / 2:.1f}" y="{top + height / 2:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#555">no data</text>') if width > 60 else ""
    return (f'<g class="gap"><rect x="{x0:.1f}" y="{top}" width="{width:.1f}" height="{height}" fill="#d9d9d9">'
            f'<title>{escape(band.label)}</title></rect>{note}</g>')


def _y_axis(y_top: float, step: float, y, plot_w: float, label: str) -> list[str]:
    parts = []
    value = 0.0
    while value <= y_top + step / 2:
        pos = y(value)
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{pos:.1f}" y2="{pos:.1f}" stroke="#e6e6e6"/>'
                     f'<text x="{LEFT - 6}" y="{pos + 4:.1f}" font-size="11" text-anchor="end">{_fmt(value)}</text>')
        value += step
    middle = TOP + (HEIGHT - TOP - BOTTOM) / 2
    parts.append(f'<text x="14" y="{middle:.1f}" font-size="12" text-anchor="middle" '
                 f'transform="rotate(-90 14 {middle:.1f})">{escape(label)}</text>')
    return parts


def tick_indices(times: Sequence[datetime]) -> list[int]:
    """Up to MAX_TICKS evenly spaced ticks, on midnights when the series is hourly and long."""
    n = len(times)
    if n <= 1:
        return list(range(n))
    hourly = n > 1 and (times[1] - times[0]).total_seconds() < 86_400
    if hourly and n > 24 * 10:
        candidates = [i for i, t in enumerate(times) if t.hour == 0]
    elif hourly and n > 48:
        candidates = [i for i, t in enumerate(times) if t.hour % 6 == 0]
    else:
        candidates = list(range(n))
    every = max(1, math.ceil(len(candidates) / MAX_TICKS))
    return candidates[::every]


def tick_format(ticks: Sequence[datetime], hourly: bool) -> str:
    """One format for every tick of an axis: with the time of day where any tick needs it."""
    if hourly and any(t.hour or t.minute for t in ticks):
        return "%m-%d %H:%M"
    return "%Y-%m-%d"


def tick_label(moment: datetime, fmt: str) -> str:
    return moment.strftime(fmt)


def _x_axis(times: Sequence[datetime], x, base: float, label: str) -> list[str]:
    hourly = len(times) > 1 and (times[1] - times[0]).total_seconds() < 86_400
    ticks = tick_indices(times)
    fmt = tick_format([times[i] for i in ticks], hourly)
    if "%Y" not in fmt and times:  # month-day ticks: the year goes with the axis label
        years = sorted({times[0].year, times[-1].year})
        label = f"{label}, {'–'.join(str(y) for y in years)}"
    parts = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#333"/>']
    for i in ticks:
        pos = x(i)
        # A label at the right edge is anchored inward so it is not cut off (the left has the margin).
        anchor = "end" if pos > WIDTH - RIGHT - 40 else "middle"
        parts.append(f'<line x1="{pos:.1f}" x2="{pos:.1f}" y1="{base}" y2="{base + 5}" stroke="#333"/>'
                     f'<text x="{pos:.1f}" y="{base + 18}" font-size="11" text-anchor="{anchor}">'
                     f'{escape(tick_label(times[i], fmt))}</text>')
    parts.append(f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2:.1f}" y="{HEIGHT - 22}" font-size="12" '
                 f'text-anchor="middle">{escape(label)}</text>')
    return parts


def _path(series: Series, values: Sequence[float], floor: Sequence[float] | None, x, y) -> str:
    points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values)]
    if not points:
        return ""
    line = "M" + "L".join(points)
    if series.fill or floor is not None:
        base = floor if floor is not None else [0.0] * len(values)
        back = [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(base)))]
        area = line + "L" + "L".join(back) + "Z"
        return (f'<path class="series" d="{area}" fill="{series.colour}" fill-opacity="0.8" stroke="{series.colour}" '
                f'stroke-width="1" stroke-linejoin="round">'
                f'<title>{escape(series.name)}</title></path>')
    return (f'<path class="series" d="{line}" fill="none" stroke="{series.colour}" stroke-width="1.6">'
            f'<title>{escape(series.name)}</title></path>')


def _legend(series: list[Series]) -> str:
    parts, pos = ['<g class="legend">'], LEFT
    for item in series:
        parts.append(f'<rect x="{pos}" y="8" width="12" height="12" fill="{item.colour}"/>'
                     f'<text x="{pos + 16}" y="18" font-size="12">{escape(item.name)}</text>')
        pos += 28 + 7 * len(item.name)
    parts.append("</g>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int], x_label: str, colour: str = PALETTE[0]) -> Markup:
    """Horizontal bars, largest first as given; each bar carries its value as text."""
    row, left, right = 22, 150, 90
    height = TOP + row * len(labels) + 40
    top_value = max(values, default=0) or 1
    plot_w = WIDTH - left - right
    parts = [f'<svg class="chart bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(zip(labels, values)):
        top = TOP + i * row
        width = max(plot_w * value / top_value, 1.0)
        parts.append(f'<text x="{left - 8}" y="{top + 15}" font-size="12" text-anchor="end">{escape(label)}</text>'
                     f'<rect class="bar" x="{left}" y="{top + 3}" width="{width:.1f}" height="{row - 6}" fill="{colour}"/>'
                     f'<text x="{left + width + 6:.1f}" y="{top + 15}" font-size="12">{value:,}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 12}" font-size="12" text-anchor="middle">'
                 f'{escape(x_label)}</text></svg>')
    return Markup("".join(parts))
