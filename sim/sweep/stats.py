"""Student-t quantiles and confidence intervals across seeds, without scipy.

Why exact rather than a table: a sweep with 31 seeds needs t(0.975, 30) = 2.042, and "the normal
value beyond 30" would be 4 % too narrow there. For integer degrees of freedom the two-sided t
probability has a closed form as a finite trigonometric series (Abramowitz & Stegun 26.7.3/26.7.4),

    A(t | nu) = P(|T| < t),  theta = atan(t / sqrt(nu)),
    odd nu:  A = 2/pi * (theta + sin(theta) * sum_{k=1,3,..,nu-2} c_k cos^k(theta)),
    even nu: A =          sin(theta) * sum_{k=0,2,..,nu-2} c_k cos^k(theta),
    c_1 = c_0 = 1, c_{k+2} = c_k (k + 1) / (k + 2),

which is monotone in theta on [0, pi/2), so the quantile is found by bisection on theta to machine
precision. Above `_CORNISH_FISHER_DF` degrees of freedom the Cornish-Fisher expansion around the
normal quantile is used (its error there is below 1e-9).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

#: Above this many degrees of freedom the series gets long and Cornish-Fisher is exact enough.
_CORNISH_FISHER_DF = 1000
_BISECTION_STEPS = 80


def t_two_sided_probability(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with `df` (integer >= 1) degrees of freedom, t >= 0."""
    if df < 1 or int(df) != df:
        raise ValueError(f"degrees of freedom must be a positive integer, got {df!r}")
    theta = math.atan(abs(t) / math.sqrt(df))
    return _series(theta, int(df))


def _series(theta: float, df: int) -> float:
    s, c = math.sin(theta), math.cos(theta)
    if df % 2 == 1:
        k, coef, power, total = 1, 1.0, c, 0.0
        while k <= df - 2:
            total += coef * power
            coef *= (k + 1) / (k + 2)
            power *= c * c
            k += 2
        return 2.0 / math.pi * (theta + s * total)
    k, coef, power, total = 0, 1.0, 1.0, 0.0
    while k <= df - 2:
        total += coef * power
        coef *= (k + 1) / (k + 2)
        power *= c * c
        k += 2
    return s * total


def _cornish_fisher(p: float, df: float) -> float:
    z = NormalDist().inv_cdf(p)
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    return z + g1 / df + g2 / df**2 + g3 / df**3


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (integer, or math.inf).

    `t_quantile(0.975, 4)` is 2.7764; the 95 % two-sided interval uses p = 0.975.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if df == math.inf:
        return NormalDist().inv_cdf(p)
    if df < 1 or int(df) != df:
        raise ValueError(f"degrees of freedom must be a positive integer or inf, got {df!r}")
    if p == 0.5:
        return 0.0
    if df > _CORNISH_FISHER_DF:
        return _cornish_fisher(p, df)
    target = abs(2.0 * p - 1.0)
    lo, hi = 0.0, math.pi / 2.0
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if _series(mid, int(df)) < target:
            lo = mid
        else:
            hi = mid
    t = math.sqrt(df) * math.tan(0.5 * (lo + hi))
    return t if p > 0.5 else -t


@dataclass(frozen=True)
class MeanCI:
    """Mean of the finite values, the half-width of its confidence interval, and how many values.

    `half_width` is None with fewer than two values (no spread to estimate); `mean` is None
    with none.
    """

    mean: float | None
    half_width: float | None
    n: int


def mean_ci(values: Iterable[float | int | None], confidence: float = 0.95) -> MeanCI:
    """Mean and Student-t confidence half-width, t(1 - alpha/2, n - 1) * s / sqrt(n).

    Missing values (None, NaN: e.g. a seed with no PRR sample at 300 m) are left out rather than
    counted as zero; `n` says how many values the interval rests on.
    """
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return MeanCI(None, None, 0)
    mean = math.fsum(xs) / n
    if n == 1:
        return MeanCI(mean, None, 1)
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * math.sqrt(var / n)
    return MeanCI(mean, half, n)
