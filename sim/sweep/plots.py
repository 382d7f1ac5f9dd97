"""The benchmark's figures: KPIs versus load, one line per series, 95 % CI error bars across seeds.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend switch), so it
works headless and never disturbs another figure in the same process. Each figure says what is
plotted, over how many seeds, and in which unit; a point with a single seed has no error bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.sweep.kpis import KPI_BY_NAME

Row = dict[str, Any]


@dataclass(frozen=True)
class Panel:
    kpi: str
    title: str
    ylabel: str
    ylim: tuple[float, float] | None = None
    log: bool = False
    from_zero: bool = False  # a quantity that cannot be negative: the axis starts at 0


@dataclass(frozen=True)
class FigureSpec:
    file: str
    title: str
    panels: tuple[Panel, ...]
    ncols: int


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("latency_vs_load.png", "BSM latency (generation to end of transmission)", (
        Panel("latency_p50_ms", "median (p50)", "latency (ms)"),
        Panel("latency_p95_ms", "p95", "latency (ms)"),
        Panel("latency_p99_ms", "p99", "latency (ms)"),
    ), 3),
    FigureSpec("prr_vs_load.png", "Packet reception ratio between vehicles", (
        Panel("prr_100m", "at 100 m", "PRR", (0.0, 1.02)),
        Panel("prr_300m", "at 300 m", "PRR", (0.0, 1.02)),
    ), 2),
    FigureSpec("cbr_vs_load.png", "Channel busy ratio (mean over vehicles and batches)", (
        Panel("cbr_mean", "", "CBR", (0.0, 1.02)),
    ), 1),
    FigureSpec("cost_vs_load.png", "Simulator cost per run", (
        Panel("real_time_factor", "real-time factor", "simulated s per wall s", log=True),
        Panel("wall_time_s", "wall time", "wall time (s)", log=True),
        Panel("peak_rss_mb", "peak memory (RSS of the worker)", "peak RSS (MB)", from_zero=True),
        Panel("link_evals_per_s", "radio link evaluations", "links per wall second", log=True),
    ), 2),
)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def _human(v: float, minor: bool = False) -> str:
    """Log-axis tick text: 0.5, 20, 300k, 2M rather than 2 x 10^6; minor ticks only at 2 and 5."""
    if v <= 0:
        return ""
    mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
    if minor and round(mantissa, 6) not in (2.0, 5.0):
        return ""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def _series(rows: Sequence[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(str(r.get("series") or ""), []).append(r)
    return {k: sorted(v, key=lambda r: _num(r.get("load"))) for k, v in out.items()}


def _draw_panel(ax: Any, panel: Panel, groups: dict[str, list[Row]], load_label: str) -> bool:
    drawn = False
    for name, rows in groups.items():
        x = [_num(r.get("load")) for r in rows]
        y = [_num(r.get(f"{panel.kpi}_mean")) for r in rows]
        err = [_num(r.get(f"{panel.kpi}_ci95")) for r in rows]
        if all(math.isnan(v) for v in y):
            continue
        err = [0.0 if math.isnan(e) else e for e in err]
        ax.errorbar(x, y, yerr=err, marker="o", markersize=4, capsize=3, linewidth=1.5,
                    label=name or None)
        drawn = True
    if panel.title:
        ax.set_title(panel.title, fontsize=10)
    ax.set_xlabel(load_label)
    ax.set_ylabel(panel.ylabel)
    if panel.ylim:
        ax.set_ylim(*panel.ylim)
    elif panel.from_zero and drawn:
        ax.set_ylim(bottom=0.0)
    if panel.log and drawn:
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _human(v)))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: _human(v, minor=True)))
    ax.grid(True, which="major", alpha=0.3)
    if not drawn:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    return drawn


def plot_all(rows: Sequence[Row], out_dir: Path, *, load_label: str, title: str,
             n_seeds: int) -> list[Path]:
    """Writes every figure of `FIGURES` into `out_dir`; returns the paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = _series(rows)
    legend = any(groups)  # only named series get a legend
    paths = []
    for spec in FIGURES:
        nrows = math.ceil(len(spec.panels) / spec.ncols)
        # At least 8 in wide: the two-line title and the legend must fit a one-panel figure too.
        fig = Figure(figsize=(max(4.6 * spec.ncols, 8.0), 3.8 * nrows + 0.9),
                     layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, spec.ncols, squeeze=False).ravel()
        for ax, panel in zip(axes, spec.panels, strict=False):
            assert panel.kpi in KPI_BY_NAME, panel.kpi
            _draw_panel(ax, panel, groups, load_label)
        for ax in axes[len(spec.panels):]:
            ax.set_visible(False)
        seeds = f"{n_seeds} seed{'s' if n_seeds != 1 else ''}"
        fig.suptitle(f"{title}\n{spec.title} — mean ± 95 % CI over {seeds}", fontsize=11)
        if legend:
            handles, labels = axes[0].get_legend_handles_labels()
            if handles:
                fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4),
                           frameon=False)
        path = out_dir / spec.file
        tmp = path.with_name(path.stem + ".tmp.png")
        fig.savefig(tmp, dpi=110)
        tmp.replace(path)
        paths.append(path)
    return paths
