"""Charts drawn on the server with matplotlib (Agg: no display needed) as SVG, and
embedded in the report as `data:` images, so the HTML file and the PDF made from it
show the same picture and the HTML stays one self-contained file."""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on servers and workers

import matplotlib.dates as mdates  # noqa: E402 - after choosing the backend
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# One colour per severity, worst first (colour-blind safe: Okabe–Ito).
SEVERITY_COLOURS = {"SEV1": "#D55E00", "SEV2": "#E69F00", "SEV3": "#0072B2", "SEV4": "#999999"}
# SVG ids and dates would make the same chart differ between runs; fix them.
matplotlib.rcParams["svg.hashsalt"] = "opsportal-reports"
matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: selectable, small
matplotlib.rcParams["font.family"] = "DejaVu Sans"
matplotlib.rcParams["font.size"] = 9


def _svg_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def stacked_bars(
    *,
    categories: Sequence[str],
    series: dict[str, Sequence[float]],
    colours: dict[str, str],
    ylabel: str,
) -> str:
    """Bars per category, one stacked segment per series (e.g. incidents per week by
    severity). Returns a data: URI of the SVG."""
    fig, ax = plt.subplots(figsize=(7, 2.8))
    bottoms = [0.0] * len(categories)
    for name, values in series.items():
        ax.bar(categories, values, bottom=bottoms, label=name, color=colours.get(name))
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize=8,
        ncols=max(len(series), 1),
        frameon=False,
    )
    ax.tick_params(axis="x", labelrotation=30)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(fig)


def measured_vs_target(
    *,
    labels: Sequence[str],
    measured: Sequence[float | None],
    targets: Sequence[float | None],
    unit: str,
) -> str:
    """Horizontal bars of measured values with each one's target marked (drill step
    times, MTTA/MTTR against the SLA). A bar over its target is drawn in orange."""
    height = 0.6 + 0.35 * max(len(labels), 1)
    fig, ax = plt.subplots(figsize=(7, height))
    ys = list(range(len(labels)))
    values = [m or 0.0 for m in measured]
    colours = [
        "#D55E00" if (t is not None and m is not None and m > t) else "#009E73"
        for m, t in zip(measured, targets, strict=True)
    ]
    ax.barh(ys, values, color=colours, height=0.6, label="measured")
    target_points = [(t, y) for t, y in zip(targets, ys, strict=True) if t is not None]
    if target_points:
        ax.scatter(
            [t for t, _ in target_points],
            [y for _, y in target_points],
            marker="|",
            s=300,
            color="black",
            label="target",
            zorder=3,
        )
    ax.set_yticks(ys, labels=[label[:40] for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, ncols=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(fig)


def offset_bands(
    *,
    series: Mapping[str, tuple[Sequence[dt.datetime], Sequence[float], Sequence[float]]],
    ahead_limit_ms: float | None,
    behind_limit_ms: float | None,
    start: dt.datetime,
    end: dt.datetime,
) -> str:
    """Clock offset over a period: per time source, the lowest and highest offset of
    each time bucket (hour or day) as a band with its midline; the breach limits as
    dashed lines (local clock ahead below zero, behind above)."""
    fig, ax = plt.subplots(figsize=(7, 2.8))
    palette = ["#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#999999"]
    for i, (name, (times, lows, highs)) in enumerate(series.items()):
        colour = palette[i % len(palette)]
        xs = [float(mdates.date2num(t)) for t in times]
        ax.fill_between(xs, lows, highs, color=colour, alpha=0.3, linewidth=0, step="mid")
        mids = [(lo + hi) / 2 for lo, hi in zip(lows, highs, strict=True)]
        ax.plot(xs, mids, color=colour, linewidth=1, label=name)
    if behind_limit_ms is not None:
        ax.axhline(behind_limit_ms, color="#D55E00", linestyle="--", linewidth=1, label="breach")
    if ahead_limit_ms is not None:
        ax.axhline(-ahead_limit_ms, color="#D55E00", linestyle="--", linewidth=1)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlim(float(mdates.date2num(start)), float(mdates.date2num(end)))
    ax.set_ylabel("offset, ms (+ behind, − ahead)")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize=8,
        ncols=max(min(len(series) + 1, 4), 1),
        frameon=False,
    )
    ax.spines[["top", "right"]].set_visible(False)
    return _svg_data_uri(fig)
