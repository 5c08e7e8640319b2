"""Charts drawn on the server with matplotlib (Agg: no display needed) as SVG, and
embedded in the report as `data:` images, so the HTML file and the PDF made from it
show the same picture and the HTML stays one self-contained file."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on servers and workers

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
