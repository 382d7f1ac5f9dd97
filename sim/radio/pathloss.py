"""Path-loss models for the PC5 sidelink, as pure vectorized functions.

Sources (see docs/radio-model.md §1.3):
- WINNER+ B1 as used by 3GPP TR 36.885 (effective antenna height h' = h - 1 m) and by the
  Gonzalez-Martin et al. 2019 code (h' = h, a free-space-like floor and a 3 m clamp).
- TR 37.885 Table 6.2.1-1 V2V highway/urban LOS, urban NLOS, and the NLOSv blockage loss.
- TR 37.885 Table 6.2.1-2 LOS probabilities.

Every function takes distances in metres and the carrier in GHz and returns dB. Nothing here draws
random numbers: callers pass the draws (shadowing, NLOSv) so that the radio step stays deterministic.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

SPEED_OF_LIGHT_MPS = 299_792_458.0

FloatArray = NDArray[np.float64]


def _clamped(distance_m: ArrayLike, min_distance_m: float) -> FloatArray:
    return np.maximum(np.asarray(distance_m, dtype=np.float64), min_distance_m)


def breakpoint_distance_m(h_eff_tx_m: float, h_eff_rx_m: float, fc_ghz: float) -> float:
    """WINNER+ B1 breakpoint d_BP = 4 h'_tx h'_rx f_c / c (the two-ray regime boundary)."""
    return 4.0 * h_eff_tx_m * h_eff_rx_m * fc_ghz * 1e9 / SPEED_OF_LIGHT_MPS


def winner_b1_los_db(
    distance_m: ArrayLike,
    fc_ghz: float,
    h_eff_tx_m: float = 0.5,
    h_eff_rx_m: float = 0.5,
    *,
    min_distance_m: float = 3.0,
    free_space_floor: bool = False,
) -> FloatArray:
    """WINNER+ B1 LOS path loss.

    3GPP (TR 36.885) and WiLabV2Xsim use h' = h - 1 m = 0.5 m (d_BP ~ 20 m at 5.9 GHz); the
    GM-2019 analytical model uses h' = 1.5 m (d_BP ~ 177 m) and ``free_space_floor=True``
    (max with 46.4 + 20 log10 d + 20 log10(fc/5)). The two differ by ~17 dB at 300 m, which is
    why the variant is a parameter and not a constant.
    """
    d = _clamped(distance_m, min_distance_m)
    d_bp = breakpoint_distance_m(h_eff_tx_m, h_eff_rx_m, fc_ghz)
    near = 22.7 * np.log10(d) + 27.0 + 20.0 * np.log10(fc_ghz)
    far = (
        40.0 * np.log10(d)
        + 7.56
        - 17.3 * np.log10(h_eff_tx_m)
        - 17.3 * np.log10(h_eff_rx_m)
        + 2.7 * np.log10(fc_ghz)
    )
    pl = np.where(d < d_bp, near, far)
    if free_space_floor:
        pl = np.maximum(pl, 46.4 + 20.0 * np.log10(d) + 20.0 * np.log10(fc_ghz / 5.0))
    return pl


def winner_b1_nlos_db(
    d1_m: ArrayLike,
    d2_m: ArrayLike,
    fc_ghz: float,
    h_eff_tx_m: float = 0.5,
    h_eff_rx_m: float = 0.5,
    *,
    min_distance_m: float = 3.0,
) -> FloatArray:
    """WINNER+ B1 Manhattan NLOS: d1, d2 are the distances along the two streets from the corner.

    The loss is the minimum over the two street orderings (d1 <-> d2), as in TR 36.885.
    """

    def one_way(a: FloatArray, b: FloatArray) -> FloatArray:
        n_j = np.maximum(2.8 - 0.0024 * a, 1.84)
        return (
            winner_b1_los_db(a, fc_ghz, h_eff_tx_m, h_eff_rx_m, min_distance_m=min_distance_m)
            + 17.3
            - 12.5 * n_j
            + 10.0 * n_j * np.log10(b)
            + 3.0 * np.log10(fc_ghz)
        )

    a = _clamped(d1_m, min_distance_m)
    b = _clamped(d2_m, min_distance_m)
    return np.minimum(one_way(a, b), one_way(b, a))


def tr37885_highway_los_db(
    distance_3d_m: ArrayLike, fc_ghz: float, *, min_distance_m: float = 3.0
) -> FloatArray:
    """TR 37.885 Table 6.2.1-1, highway LOS: 32.4 + 20 log10(d_3D) + 20 log10(fc)."""
    d = _clamped(distance_3d_m, min_distance_m)
    return 32.4 + 20.0 * np.log10(d) + 20.0 * np.log10(fc_ghz)


def tr37885_urban_los_db(
    distance_3d_m: ArrayLike, fc_ghz: float, *, min_distance_m: float = 3.0
) -> FloatArray:
    """TR 37.885 Table 6.2.1-1, urban LOS: 38.77 + 16.7 log10(d_3D) + 18.2 log10(fc)."""
    d = _clamped(distance_3d_m, min_distance_m)
    return 38.77 + 16.7 * np.log10(d) + 18.2 * np.log10(fc_ghz)


def tr37885_urban_nlos_db(
    distance_3d_m: ArrayLike, fc_ghz: float, *, min_distance_m: float = 3.0
) -> FloatArray:
    """TR 37.885 Table 6.2.1-1, urban NLOS (building-blocked): 36.85 + 30 log10 d + 18.9 log10 fc."""
    d = _clamped(distance_3d_m, min_distance_m)
    return 36.85 + 30.0 * np.log10(d) + 18.9 * np.log10(fc_ghz)


def nlosv_blockage_params_db(
    distance_m: ArrayLike,
    h_tx_m: ArrayLike,
    h_rx_m: ArrayLike,
    blocker_height_m: float,
) -> tuple[FloatArray, FloatArray]:
    """Mean and std (dB) of the TR 37.885 NLOSv additional loss A = max(0, N(mu, sigma)).

    Both antennas above the blocker: no extra loss (mu = sigma = 0). Both below: mu = 9 + max(0,
    15 log10 d - 41), sigma 4.5. Otherwise mu = 5 + max(0, 15 log10 d - 41), sigma 4.
    """
    d = _clamped(distance_m, 1.0)
    h_tx = np.asarray(h_tx_m, dtype=np.float64)
    h_rx = np.asarray(h_rx_m, dtype=np.float64)
    excess = np.maximum(0.0, 15.0 * np.log10(d) - 41.0)
    both_above = (h_tx > blocker_height_m) & (h_rx > blocker_height_m)
    both_below = (h_tx < blocker_height_m) & (h_rx < blocker_height_m)
    mu = np.where(both_below, 9.0 + excess, 5.0 + excess)
    sigma = np.where(both_below, 4.5, 4.0)
    mu = np.where(both_above, 0.0, mu)
    sigma = np.where(both_above, 0.0, sigma)
    return mu, sigma


def p_los_highway(distance_m: ArrayLike) -> FloatArray:
    """TR 37.885 Table 6.2.1-2, highway LOS probability (the rest is NLOSv)."""
    d = np.asarray(distance_m, dtype=np.float64)
    near = np.minimum(1.0, 2.1013e-6 * d**2 - 0.002 * d + 1.0193)
    far = np.maximum(0.0, 0.54 - 0.001 * (d - 475.0))
    return np.where(d <= 475.0, near, far)


def p_los_urban(distance_m: ArrayLike) -> FloatArray:
    """TR 37.885 Table 6.2.1-2, urban LOS probability among links not blocked by buildings."""
    d = np.asarray(distance_m, dtype=np.float64)
    return np.minimum(1.0, 1.05 * np.exp(-0.0114 * d))
