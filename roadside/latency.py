"""One-way delay draws from a `LatencySpec` (uniform, lognormal or fixed), vectorized."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.spec.roadside import LatencySpec


def draw_delay_ms(spec: LatencySpec, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """n delays in ms. Lognormal: parameters matched to mean_ms/sd_ms, floored at low_ms."""
    if spec.kind == "fixed":
        return np.full(n, spec.low_ms)
    if spec.kind == "uniform":
        return rng.uniform(spec.low_ms, spec.high_ms, size=n)
    assert spec.mean_ms is not None and spec.sd_ms is not None
    return np.maximum(lognormal_ms(rng, spec.mean_ms, spec.sd_ms, n), spec.low_ms)


def lognormal_ms(rng: np.random.Generator, mean_ms: float, sd_ms: float, n: int) -> NDArray[np.float64]:
    """Lognormal draws with the given mean and standard deviation (not of the log)."""
    if sd_ms <= 0.0:
        return np.full(n, mean_ms)
    sigma2 = np.log1p((sd_ms / mean_ms) ** 2)
    mu = np.log(mean_ms) - 0.5 * sigma2
    return rng.lognormal(mu, np.sqrt(sigma2), size=n)
