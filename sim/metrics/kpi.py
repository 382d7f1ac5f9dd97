"""KPIs as pure functions of recorded histograms (no simulator state)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def prr_curve(success: NDArray, samples: NDArray) -> NDArray[np.float64]:
    """PRR per bin (TR 36.885: decoded / all nodes in the bin); NaN where a bin has no sample."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(samples > 0, success / np.maximum(samples, 1), np.nan)


def prr_at(distance_m: float, bin_m: float, success: NDArray, samples: NDArray) -> float | None:
    """PRR of the bin containing `distance_m` (e.g. 300 m -> bin [300, 320))."""
    i = int(distance_m // bin_m)
    if i >= len(samples) or samples[i] == 0:
        return None
    return float(success[i] / samples[i])


def range_at_prr(level: float, bin_m: float, success: NDArray, samples: NDArray) -> float | None:
    """Largest distance (bin upper edge) up to which every bin keeps PRR >= level; None without
    samples. Bins without samples (e.g. [0, 20 m) when no two nodes come that close) are no
    evidence either way and are skipped; when no bin falls below, the range ends at the upper
    edge of the last bin with samples (a lower bound: beyond it, e.g. past `radio.link_range_m`,
    nothing was measured)."""
    if samples.sum() == 0:
        return None
    prr = prr_curve(success, samples)
    below = np.flatnonzero((samples > 0) & ~(prr >= level))
    if len(below) == 0:
        return float((np.flatnonzero(samples > 0)[-1] + 1) * bin_m)
    return float(below[0] * bin_m) if below[0] > 0 else 0.0


def quantile_from_hist(counts: NDArray, bin_width: float, q: float) -> float | None:
    """The q-quantile of a histogram whose bin i covers [i w, (i+1) w): the lower edge of the
    first bin where the cumulative share reaches q (exact for values on the bin grid)."""
    total = counts.sum()
    if total == 0:
        return None
    i = int(np.searchsorted(np.cumsum(counts), q * total, side="left"))
    return i * bin_width
