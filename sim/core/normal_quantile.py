"""The standard normal quantile (inverse CDF), Wichura's algorithm AS 241 (PPND16).

Why: keyed normal draws (`sim.core.rng.hash_normal`) map one hashed uniform to a normal. The
inverse CDF needs one uniform and, for 85 % of draws (|u - 0.5| <= 0.425), only a rational
polynomial; Box-Muller needed two uniforms plus log, sqrt and cos for every draw, which made the
channel draws half the cost of a radio link. AS 241 is accurate to about 1e-16 relative over
(0, 1) (Wichura, Appl. Statist. 37(3), 1988); CPython's `statistics.NormalDist.inv_cdf` is the
same algorithm and is the oracle in tests/test_rng.py.

`ppnd16` is written once for scalars and arrays alike (numpy ufuncs), and the numba kernel
(`sim.radio.kernel`) compiles the scalar form, so every implementation computes the same formula.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Coefficients of AS 241 (PPND16), constant term first: numerator and denominator of the central
# region, of the near tail (r <= 5) and of the far tail (r > 5).
NUM_CENTRAL = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3,
      1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4,
      3.3430575583588128105e4, 2.5090809287301226727e3)
DEN_CENTRAL = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
      2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4,
      5.2264952788528545610e3)
NUM_NEAR = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
      3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
      2.27238449892691845833e-2, 7.74545014278341407640e-4)
DEN_NEAR = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
      1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
      1.05075007164441684324e-9)
NUM_FAR = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
      2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)
DEN_FAR = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
      7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
      2.04426310338993978564e-15)

#: |p - 0.5| up to which the central rational approximation applies, and the tail split in r.
SPLIT_CENTRAL = 0.425
SPLIT_TAIL = 5.0


def _horner(c: tuple[float, ...], x):  # type: ignore[no-untyped-def]
    acc = c[7]
    for k in (6, 5, 4, 3, 2, 1, 0):
        acc = acc * x + c[k]
    return acc


def central(q):  # type: ignore[no-untyped-def]
    """Quantile for |q| = |p - 0.5| <= 0.425."""
    r = 0.180625 - q * q
    return q * _horner(NUM_CENTRAL, r) / _horner(DEN_CENTRAL, r)


def tail(p_small):  # type: ignore[no-untyped-def]
    """Quantile magnitude for the smaller tail probability p_small = min(p, 1 - p) < 0.075."""
    r = np.sqrt(-np.log(p_small))
    near = r - 1.6
    far = r - SPLIT_TAIL
    return np.where(r <= SPLIT_TAIL, _horner(NUM_NEAR, near) / _horner(DEN_NEAR, near),
                    _horner(NUM_FAR, far) / _horner(DEN_FAR, far))


def ppnd16(p: ArrayLike) -> NDArray[np.float64]:
    """Standard normal quantile of p in (0, 1), elementwise."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    out = central(q)
    side = np.abs(q) > SPLIT_CENTRAL
    if np.any(side):
        ps = p[side] if p.ndim else p
        qs = q[side] if q.ndim else q
        mag = tail(np.minimum(ps, 1.0 - ps))
        val = np.where(qs < 0.0, -mag, mag)
        if p.ndim:
            out[side] = val
        else:
            out = val
    return np.asarray(out, dtype=np.float64)
