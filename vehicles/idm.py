"""Intelligent Driver Model (Treiber, Hennecke, Helbing 2000), vectorized over all vehicles.

Pure functions of columns: every vehicle carries its own parameters (desired speed, time headway,
acceleration, comfortable deceleration, jam gap), so mixed traffic costs nothing extra.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: IDM acceleration exponent (delta = 4 in the original paper).
IDM_DELTA = 4.0
#: Physical braking limit (dry asphalt, ~0.9 g); IDM's interaction term is unbounded otherwise.
MAX_DECEL_MPS2 = 9.0


def desired_gap_m(
    v_mps: FloatArray,
    dv_mps: FloatArray,
    headway_s: FloatArray,
    a_max_mps2: FloatArray,
    b_comf_mps2: FloatArray,
    s0_m: FloatArray,
) -> FloatArray:
    """s* = s0 + max(0, v T + v dv / (2 sqrt(a b))), dv = v - v_leader (closing speed)."""
    dynamic = v_mps * headway_s + v_mps * dv_mps / (2.0 * np.sqrt(a_max_mps2 * b_comf_mps2))
    return s0_m + np.maximum(0.0, dynamic)


def idm_acceleration(
    v_mps: FloatArray,
    v0_mps: FloatArray,
    gap_m: FloatArray,
    dv_mps: FloatArray,
    headway_s: FloatArray,
    a_max_mps2: FloatArray,
    b_comf_mps2: FloatArray,
    s0_m: FloatArray,
    delta: float = IDM_DELTA,
) -> FloatArray:
    """a = a_max [f(v) - (s*/s)^2]; gap = inf means a free road.

    f(v) = 1 - (v/v0)^delta up to the desired speed (the original IDM). Above it (a lower speed
    limit ahead, a speed advice, an emergency-vehicle yield) the original term brakes at
    a_max (1 - (v/v0)^4): about -4.7 m/s2 at 1.43 v0, a hard brake for a limit sign. Above v0 the
    free-road term is Treiber and Kesting's IIDM one instead (Traffic Flow Dynamics, 2013,
    §11.3.6): -b [1 - (v0/v)^(a delta / b)], which never brakes harder than the comfortable b.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        above = -(b_comf_mps2 / a_max_mps2) * (
            1.0 - (v0_mps / np.maximum(v_mps, 1e-9)) ** (a_max_mps2 * delta / b_comf_mps2))
    free = np.where(v_mps > v0_mps, above, 1.0 - (v_mps / v0_mps) ** delta)
    s_star = desired_gap_m(v_mps, dv_mps, headway_s, a_max_mps2, b_comf_mps2, s0_m)
    with np.errstate(divide="ignore"):
        interaction = np.where(np.isfinite(gap_m), (s_star / np.maximum(gap_m, 0.01)) ** 2, 0.0)
    return np.maximum(a_max_mps2 * (free - interaction), -MAX_DECEL_MPS2)


def equilibrium_gap_m(
    v_mps: FloatArray, v0_mps: FloatArray, headway_s: FloatArray, s0_m: FloatArray,
    delta: float = IDM_DELTA,
) -> FloatArray:
    """Steady-state gap at speed v behind a leader at the same speed: (s0 + v T)/sqrt(1-(v/v0)^d)."""
    return (s0_m + v_mps * headway_s) / np.sqrt(1.0 - (v_mps / v0_mps) ** delta)


def ballistic_update(
    s_m: FloatArray, v_mps: FloatArray, a_mps2: FloatArray, dt_s: float
) -> tuple[FloatArray, FloatArray]:
    """Treiber's ballistic scheme; a vehicle that would reverse stops where v reaches 0."""
    v_new = v_mps + a_mps2 * dt_s
    stops = v_new < 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        s_stop = s_m - 0.5 * v_mps**2 / np.where(stops, a_mps2, -1.0)
    s_new = np.where(stops, s_stop, s_m + v_mps * dt_s + 0.5 * a_mps2 * dt_s**2)
    return s_new, np.maximum(v_new, 0.0)


def equilibrium_speed_mps(
    gap_m: FloatArray, v0_mps: FloatArray, headway_s: FloatArray, s0_m: FloatArray,
    delta: float = IDM_DELTA,
) -> FloatArray:
    """Inverse of `equilibrium_gap_m`: the speed at which IDM keeps `gap_m` steady (bisection,
    vectorized; s_e(v) grows monotonically from s0 at v = 0 to infinity at v0)."""
    gap = np.broadcast_to(np.asarray(gap_m, dtype=np.float64), np.shape(v0_mps))
    lo = np.zeros(np.shape(v0_mps))
    hi = np.asarray(v0_mps, dtype=np.float64) * (1.0 - 1e-9)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        too_close = equilibrium_gap_m(mid, v0_mps, headway_s, s0_m, delta) > gap
        hi = np.where(too_close, mid, hi)
        lo = np.where(too_close, lo, mid)
    return np.where(gap <= s0_m, 0.0, lo)
