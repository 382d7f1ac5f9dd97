"""Decoding models: BLER versus SINR curves and the SINR-threshold (step-function) mode.

Why this module exists: system-level simulators do not model per-packet fast fading; they map the
post-detection SINR of a transport block to a block error rate through a curve that already
includes the fading channel (docs/radio-model.md §1.3 (f) and §2.5). Keeping the curves as pure,
vectorised functions lets the radio step evaluate every (Tx, Rx) pair of a subframe in one call and
lets the GM-2019 analytical model (``sim.radio.analytical``) share exactly the same curves.

Curves (3GPP R1-160284, "DMRS enhancement of V2V", 190 B, relative speed 280 km/h), as encoded in
``get_BLER.m`` of the authors' public MATLAB code (github.com/msepulcre/C-V2X):

- ``"gm2019-coding1"``: QPSK, code rate ~0.7, 10 data RB (used with S = 4 subchannels).
- ``"gm2019-coding2"``: QPSK, code rate 0.5, 12 data RB (used with S = 2 subchannels).

How ``get_BLER.m`` interpolates, and therefore how this module does:

- ``interp1(..., 'linear')`` on the *linear* BLER values against SINR in dB (not log-BLER).
- Below the first tabulated point (0 dB for coding 1, -2 dB for coding 2) BLER = 1: the code adds a
  sentinel point (min(-3, SINR_min), 1).
- The curve is flat at 1e-3 from 16 dB (coding 1) or 12 dB (coding 2) up to and including 20 dB,
  then steps down to 1e-4 just above 20 dB (a point at 20 + 1e-6 dB) and stays there (sentinel at
  max(21, SINR_max)). The step to 1e-4 applies to *both* curves in the code; docs/radio-model.md §2.5
  only mentions it for coding 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: BLER below the first tabulated SINR point (get_BLER.m sentinel).
BLER_BELOW_CURVE = 1.0
#: BLER above the last tabulated point (get_BLER.m: 1e-4 for SINR > 20 dB).
BLER_ABOVE_CURVE = 1e-4
#: Width of the step from 1e-3 to 1e-4 just above 20 dB (get_BLER.m uses 20 + 1e-6).
_TAIL_STEP_DB = 1e-6


def _frozen(values: list[float]) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    arr.setflags(write=False)
    return arr


_CURVE_POINTS: dict[str, tuple[list[float], list[float]]] = {
    # QPSK r ~ 0.7, 10 RB, 190 B, Vr = 280 km/h (R1-160284), GM-2019 S = 4.
    "gm2019-coding1": (
        [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 20.0 + _TAIL_STEP_DB],
        [1.0, 0.9, 0.7, 0.4, 0.13, 0.045, 0.017, 0.007, 1e-3, 1e-3, 1e-3, 1e-4],
    ),
    # QPSK r = 0.5, 12 RB, 190 B, Vr = 280 km/h (R1-160284), GM-2019 S = 2.
    "gm2019-coding2": (
        [-2.0, 0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 20.0 + _TAIL_STEP_DB],
        [1.0, 0.9, 0.7, 0.3, 0.09, 0.02, 0.002, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4],
    ),
}

#: Read-only breakpoints ``(sinr_db, bler)`` of each curve, as in get_BLER.m (without its two
#: sentinel points, which are the constants BLER_BELOW_CURVE / BLER_ABOVE_CURVE).
BLER_CURVES: Mapping[str, tuple[FloatArray, FloatArray]] = MappingProxyType(
    {name: (_frozen(x), _frozen(y)) for name, (x, y) in _CURVE_POINTS.items()}
)


def _curve(curve: str) -> tuple[FloatArray, FloatArray]:
    try:
        return BLER_CURVES[curve]
    except KeyError:
        allowed = ", ".join(repr(name) for name in BLER_CURVES)
        raise ValueError(f"unknown BLER curve {curve!r}; allowed: {allowed}") from None


def bler_from_sinr_db(sinr_db: ArrayLike, curve: str) -> FloatArray:
    """Block error rate at the given SINR(s) in dB, linear interpolation of BLER in dB of SINR.

    Returns an array of the broadcast shape of ``sinr_db`` (a 0-d array for a scalar input).
    BLER is 1 below the first point and 1e-4 above 20 dB, as in get_BLER.m. NaN SINR gives NaN.
    """
    sinr_points_db, bler_points = _curve(curve)
    sinr = np.asarray(sinr_db, dtype=np.float64)
    return np.interp(sinr, sinr_points_db, bler_points, left=BLER_BELOW_CURVE,
                     right=BLER_ABOVE_CURVE)


def threshold_success(sinr_db: ArrayLike, gamma_min_db: ArrayLike) -> BoolArray:
    """Step-function decoding (docs/radio-model.md §2.5 option 1): success iff SINR >= gamma_min.

    ``gamma_min_db`` broadcasts against ``sinr_db`` (e.g. a per-link MCS threshold). This is
    WiLabV2Xsim's default decoding mode when no PER curves are configured.
    """
    return np.asarray(sinr_db, dtype=np.float64) >= np.asarray(gamma_min_db, dtype=np.float64)
