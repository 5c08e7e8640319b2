"""The offset chart: a server-rendered SVG (no chart library, no script).

Why SVG from the server: the page stays script-free under the strict CSP, prints
and reads the same in every browser and at 375 px (viewBox scales), and a few
dozen lines of arithmetic are less to maintain and pin than a JS chart library
for one line over four bands. The points and bands are computed here; the
template `drift/_chart.html` draws them, and `portal.css` colours them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from opsportal.drift.models import ClockCheck, TimeSource

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 8, 24


@dataclass(frozen=True)
class Band:
    css: str  # healthy | warning | critical | breach
    y: float
    height: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_width: int
    bands: list[Band]
    points: str  # SVG polyline points
    dots: list[tuple[float, float, str]]  # (x, y, status) of each check with an offset
    misses: list[float]  # x of checks without an offset (unreachable, stale)
    ticks: list[Tick]
    start_label: str
    end_label: str
    summary: str


def offset_chart(source: TimeSource, checks: list[ClockCheck], *, now: dt.datetime) -> Chart:
    """`checks` (oldest first) over the 24 h before `now`, with the source's bands:
    local clock ahead (negative offsets) below zero, behind above."""
    start = now - dt.timedelta(hours=24)
    limit = max(source.ahead_breach_ms, source.behind_breach_ms)
    worst = max((abs(c.offset_ms) for c in checks if c.offset_ms is not None), default=0.0)
    span = max(limit * 1.25, worst * 1.1, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(ms: float) -> float:
        ms = max(-span, min(span, ms))
        return round(TOP + (span - ms) / (2 * span) * plot_h, 1)

    def x(at: dt.datetime) -> float:
        return round(LEFT + (at - start).total_seconds() / 86_400 * plot_w, 1)

    def band(css: str, low: float, high: float) -> Band:
        return Band(css=css, y=y(high), height=round(y(low) - y(high), 1))

    bands = [
        band("breach", source.behind_breach_ms, span),
        band("critical", source.behind_critical_ms, source.behind_breach_ms),
        band("warning", source.behind_warning_ms, source.behind_critical_ms),
        band("healthy", -source.ahead_warning_ms, source.behind_warning_ms),
        band("warning", -source.ahead_critical_ms, -source.ahead_warning_ms),
        band("critical", -source.ahead_breach_ms, -source.ahead_critical_ms),
        band("breach", -span, -source.ahead_breach_ms),
    ]
    measured = [c for c in checks if c.offset_ms is not None and c.checked_at >= start]
    dots = [(x(c.checked_at), y(c.offset_ms or 0.0), c.status) for c in measured]
    misses = [x(c.checked_at) for c in checks if c.offset_ms is None and c.checked_at >= start]
    ticks = [
        Tick(y=y(v), label=f"{v:+.0f}" if v else "0")
        for v in (source.behind_breach_ms, 0, -source.ahead_breach_ms)
    ]
    summary = (
        f"{len(measured)} measured checks in 24 h"
        + (f", worst |offset| {worst:.0f} ms" if measured else "")
        + (f", {len(misses)} without an answer" if misses else "")
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        plot_width=plot_w,
        bands=bands,
        points=" ".join(f"{px},{py}" for px, py, _ in dots),
        dots=dots,
        misses=misses,
        ticks=ticks,
        start_label=f"{start:%H:%M}",
        end_label=f"{now:%H:%M} UTC",
        summary=summary,
    )
