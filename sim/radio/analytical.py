"""Numpy port of the GM-2019 analytical model of LTE-V2X (C-V2X) mode 4 PDR versus distance.

Reference: M. Gonzalez-Martin, M. Sepulcre, R. Molina-Masegosa, J. Gozalvez, "Analytical Models of
the Performance of C-V2X Mode 4 Vehicular Communications", IEEE TVT 68(2), 2019,
DOI 10.1109/TVT.2018.2888704, arXiv 1807.06508; public MATLAB code github.com/msepulcre/C-V2X
(CV2XMode4.m, CV2XMode4_common.m, CV2XMode4_Step2.m, CV2XMode4_Step3.m, get_PL_SH.m,
get_SINRdistribution.m, get_BLER.m). Equation numbers below are the paper's, as labelled in that
code. See docs/radio-model.md §3.1.

Why it is here: it is a cheap, independent regression oracle for the packet-level simulator. It
gives PDR(d) and the four loss terms (half duplex, sensing, propagation, collision) in well under a
second, so tests can compare the simulator's trends against it and the GM-2019 "ana" curves can be
reproduced without MATLAB.

This is a port of the *numerics* of the MATLAB code, not only of the paper's formulas, because the
published "ana" numbers are the output of that code. The discretisation choices that move the
result are kept, on purpose:

- SNR/SINR densities live on a 0.1 dB grid of +-200 dB; the SINR density is the cross-correlation
  of the received-power and (interference + noise) densities (get_SINRdistribution.m).
- The interference-free case uses an "interferer" at -180 dBm, not -inf, so the noise is in effect
  rounded *up* to the next 0.1 dB grid point above it (-101.9 dBm for 10 RB, -101.1 dBm for 12 RB).
- The received-power density is truncated below the sensing threshold (a packet received below
  it is counted as a sensing loss, not a propagation loss), and the grid point at exactly the
  threshold is kept.
- Interferers sit every 1/beta metres out to round(1000 beta)/beta on both sides of the receiver;
  the one at the transmitter's own position (when d is a multiple of 1/beta) is *not* removed,
  as in the MATLAB code. Sensing sums run over integer distances -1500..1500 m.
- The common-resource curve C_c is looked up at round(|d_ti|) metres.

Differences from the MATLAB code: the path loss comes from ``sim.radio.pathloss`` with the exact
speed of light (the MATLAB uses c = 3e8: the breakpoint moves from 177.3 m to 177.1 m, which no
evaluated distance falls between), densities are built in the log domain (no underflow far from
the mean) and the BLER averaging is reorganised (see ``_error_given_interference``), which is
algebraically identical.

Why one long module: it follows the MATLAB code file by file (common, step 2, step 3, SINR
density) so that a reader can check it equation by equation against the paper; splitting it would
break that one-to-one reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.radio.bler import bler_from_sinr_db
from sim.radio.pathloss import winner_b1_los_db

FloatArray = NDArray[np.float64]

#: Half-width of the dB grid on which the power densities are built (get_SINRdistribution.m).
POWER_GRID_HALF_WIDTH_DB = 200.0

#: (BLER curve, data RBs) for a 190 B packet per number of subchannels (CV2XMode4.m).
_CODING_BY_SUBCHANNELS: dict[int, tuple[str, int]] = {
    4: ("gm2019-coding1", 10),  # QPSK r ~ 0.7
    2: ("gm2019-coding2", 12),  # QPSK r = 0.5
}

_erfc_object = np.frompyfunc(math.erfc, 1, 1)


def q_function(x: ArrayLike) -> FloatArray:
    """Gaussian tail Q(x) = P(N(0,1) > x) = erfc(x / sqrt 2) / 2, vectorised with math.erfc."""
    z = np.asarray(x, dtype=np.float64) / math.sqrt(2.0)
    return 0.5 * np.asarray(_erfc_object(z), dtype=np.float64)


@dataclass(frozen=True)
class Gm2019Config:
    """Inputs of the GM-2019 model. The defaults are those of the paper and its MATLAB code.

    ``noise_dbm`` is the noise over the whole channel of ``channel_rbs`` RBs (10 MHz, NF 9 dB);
    the model scales it to the data RBs of a packet.
    """

    beta_veh_per_m: float
    rate_hz: float
    tx_power_dbm: float
    subchannels: int
    payload_bytes: int = 190
    noise_dbm: float = -95.0
    sensing_threshold_dbm: float = -90.5
    fc_ghz: float = 5.91
    shadowing_sigma_db: float = 3.0
    antenna_height_m: float = 1.5
    channel_rbs: int = 50
    candidate_fraction: float = 0.2
    pdf_step_db: float = 0.1
    interferer_range_m: float = 1000.0
    sensing_range_m: int = 1500
    no_interference_dbm: float = -180.0

    def __post_init__(self) -> None:
        if self.payload_bytes != 190:
            raise ValueError("GM-2019 BLER curves exist only for 190-byte packets")
        if self.subchannels not in _CODING_BY_SUBCHANNELS:
            allowed = sorted(_CODING_BY_SUBCHANNELS)
            raise ValueError(f"subchannels must be one of {allowed}, got {self.subchannels}")
        if self.beta_veh_per_m <= 0.0 or self.rate_hz <= 0.0:
            raise ValueError("beta_veh_per_m and rate_hz must be positive")
        if self.pdf_step_db <= 0.0 or self.shadowing_sigma_db <= 0.0:
            raise ValueError("pdf_step_db and shadowing_sigma_db must be positive")

    @property
    def bler_curve(self) -> str:
        return _CODING_BY_SUBCHANNELS[self.subchannels][0]

    @property
    def data_rbs(self) -> int:
        return _CODING_BY_SUBCHANNELS[self.subchannels][1]

    @property
    def data_noise_dbm(self) -> float:
        """Noise over the packet's data RBs: -95 - 10 log10(50 / RBs) dBm."""
        return self.noise_dbm - 10.0 * math.log10(self.channel_rbs / self.data_rbs)

    @property
    def resources_per_s(self) -> float:
        """N = S * 1000 / lambda: resources in the 1000 ms sensing window (eq. 28)."""
        return self.subchannels * 1000.0 / self.rate_hz

    @property
    def candidate_resources(self) -> float:
        """N_c = 0.2 N: candidates reported to the MAC (3GPP 20 % rule)."""
        return self.candidate_fraction * self.resources_per_s


@dataclass(frozen=True)
class Gm2019Result:
    """Per-distance PDR and its breakdown, PDR = 1 - delta_hd - delta_sen - delta_pro - delta_col.

    The deltas are the sequentially conditioned losses of eq. (6); ``delta_col_step2`` and
    ``delta_col_step3`` are the conditioned collision losses of each selection step before the
    alpha weighting of eq. (21) (step 3 is zero when alpha = 1, as in the MATLAB code).
    """

    distance_m: FloatArray
    pdr: FloatArray
    delta_hd: FloatArray
    delta_sen: FloatArray
    delta_pro: FloatArray
    delta_col: FloatArray
    delta_col_step2: FloatArray
    delta_col_step3: FloatArray
    cbr: float
    alpha: float
    step3_threshold_dbm: float = field(default=math.nan)


# --- propagation helpers -------------------------------------------------------------------------


def _path_loss_db(cfg: Gm2019Config, distance_m: ArrayLike) -> FloatArray:
    """get_PL_SH.m: WINNER+ B1 LOS, h' = 1.5 m, 3 m clamp, free-space-like floor."""
    h = cfg.antenna_height_m
    return winner_b1_los_db(np.abs(np.asarray(distance_m, dtype=np.float64)), cfg.fc_ghz, h, h,
                            min_distance_m=3.0, free_space_floor=True)


def _psr(cfg: Gm2019Config, distance_m: ArrayLike, threshold_dbm: float) -> FloatArray:
    """Probability that the mean-plus-shadowing received power exceeds the threshold (eq. 11)."""
    margin_db = cfg.tx_power_dbm - _path_loss_db(cfg, distance_m) - threshold_dbm
    return q_function(-margin_db / cfg.shadowing_sigma_db)


def _power_grid_dbm(cfg: Gm2019Config) -> FloatArray:
    half = int(round(POWER_GRID_HALF_WIDTH_DB / cfg.pdf_step_db))
    return np.arange(-half, half + 1, dtype=np.float64) * cfg.pdf_step_db


def _normalised_density(log_density: FloatArray, step_db: float) -> FloatArray:
    """Rows of exp(log_density) scaled so that sum * step = 1 (a density on the dB grid)."""
    peak = np.max(log_density, axis=-1, keepdims=True)
    dens = np.exp(log_density - peak)
    return dens / (dens.sum(axis=-1, keepdims=True) * step_db)


def _signal_density(cfg: Gm2019Config, mean_rx_dbm: FloatArray, grid_dbm: FloatArray) -> FloatArray:
    """Density of the wanted received power: N(mean, sigma) in dB, truncated below P_sen.

    Row per mean (eq. 12); the grid point at exactly P_sen is kept, as in the MATLAB code.
    """
    tol = 1e-9 * cfg.pdf_step_db
    logd = -((grid_dbm[None, :] - mean_rx_dbm[:, None]) ** 2) / (2.0 * cfg.shadowing_sigma_db**2)
    logd = np.where(grid_dbm[None, :] >= cfg.sensing_threshold_dbm - tol, logd, -np.inf)
    return _normalised_density(logd, cfg.pdf_step_db)


def _interference_plus_noise_density(
    cfg: Gm2019Config, mean_int_dbm: FloatArray, grid_dbm: FloatArray
) -> FloatArray:
    """Density (in dB) of I + N with I lognormal (mean in dB, sigma) and N the data-RB noise.

    Change of variables y = 10 log10(10^(x/10) - n): f(x) = f_I(y) * 10^(x/10) / (10^(x/10) - n),
    zero at and below the noise level (get_SINRdistribution.m, used in eqs. 13 and 17).
    """
    noise_dbm = cfg.data_noise_dbm
    above = grid_dbm > noise_dbm + 1e-9 * cfg.pdf_step_db
    x = grid_dbm[above]
    lin_mw = 10.0 ** (x / 10.0)
    excess_mw = lin_mw - 10.0 ** (noise_dbm / 10.0)
    log_jacobian = np.log(lin_mw / excess_mw)
    interference_dbm = 10.0 * np.log10(excess_mw)
    logd = np.full((mean_int_dbm.size, grid_dbm.size), -np.inf)
    logd[:, above] = log_jacobian[None, :] - (
        (interference_dbm[None, :] - mean_int_dbm[:, None]) ** 2
    ) / (2.0 * cfg.shadowing_sigma_db**2)
    return _normalised_density(logd, cfg.pdf_step_db)


def _error_given_interference(
    cfg: Gm2019Config, signal_density: FloatArray, grid_dbm: FloatArray
) -> FloatArray:
    """G[d, n] = P(block error | I + N at grid point n) for the wanted signal of row d.

    The MATLAB code forms the SINR density as xcorr(f_S, f_I+N) and averages BLER over it (eqs.
    13, 17). Swapping the sums gives avg BLER = step * sum_n f_I+N(n) G(n), with G(n) = step *
    sum_k f_S(k) BLER((k - n) step): a correlation of f_S with the BLER curve, done once per
    distance (by FFT) instead of once per (distance, interferer) pair.
    """
    step = cfg.pdf_step_db
    n_grid = grid_dbm.size  # 2K + 1 points, K = half-width / step
    half = (n_grid - 1) // 2
    lags_db = np.arange(-2 * half, 2 * half + 1, dtype=np.float64) * step  # SINR grid, 4K + 1
    bler = bler_from_sinr_db(lags_db, cfg.bler_curve)
    # G(n) = sum_k f(k) b[k - n + 2K]; with f_rev(j) = f(2K - j) this is conv(f_rev, b)[4K - n].
    n_fft = 1 << int(math.ceil(math.log2(4 * half + 1 + 1)))  # > 4K: no wrap into [2K, 4K]
    spec = np.fft.rfft(signal_density[:, ::-1], n_fft, axis=-1) * np.fft.rfft(bler, n_fft)
    conv = np.fft.irfft(spec, n_fft, axis=-1)
    g = conv[:, 2 * half : 4 * half + 1][:, ::-1] * step
    return np.clip(g, 0.0, 1.0)


# --- resource-overlap terms ----------------------------------------------------------------------


def _excluded_resources(half_psr_sum: float, n_resources: float) -> float:
    """N_e = S/2 + sum_{k=1}^{floor(S/2)} max(1 - k / (N - S/2), 0) (eqs. 29, 33).

    ``half_psr_sum`` is S_psr/2 (eq. 29) or S_psr,n/2 (eq. 33).
    """
    k = np.arange(1, math.floor(half_psr_sum) + 1, dtype=np.float64)
    return half_psr_sum + float(np.sum(np.maximum(1.0 - k / (n_resources - half_psr_sum), 0.0)))


def _common_candidates(
    cfg: Gm2019Config, psr_autocorr: FloatArray, psr_sum: float, n_excluded: float
) -> FloatArray:
    """C_c(lag) for lag = 0, 1, ... metres between the two selecting vehicles (eqs. 26, 27, 30)."""
    n_res = cfg.resources_per_s
    n_cand = cfg.candidate_resources
    r0 = psr_autocorr[0]
    ne2_over_n = n_excluded * n_excluded / n_res
    common_excluded = (psr_autocorr / r0) * (
        cfg.beta_veh_per_m * n_excluded * r0 / psr_sum - ne2_over_n
    ) + ne2_over_n  # eq. (30)
    common_available = n_res - 2.0 * n_excluded + common_excluded  # eq. (27)
    return common_available * (n_cand / (n_res - n_excluded)) ** 2  # eq. (26)


def _lookup_common(common_candidates: FloatArray, separation_m: FloatArray) -> FloatArray:
    """C_c at round(|d|) metres (MATLAB round: half away from zero).

    The table stops at lag 2 L (L = sensing range), where R_PSR = PSR(-L) PSR(L) is already ~0,
    so longer separations reuse its last value.
    """
    lag = np.floor(np.abs(separation_m) + 0.5).astype(np.int64)
    return common_candidates[np.minimum(lag, common_candidates.size - 1)]


def _collision_loss(
    cfg: Gm2019Config,
    p_int: FloatArray,
    tx_interferer_m: FloatArray,
    common_candidates: FloatArray,
    sensing_threshold_dbm: float,
) -> FloatArray:
    """delta_COL = 1 - prod_i (1 - p_sim(i) p_int(i)) (eqs. 14, 15, with 23/31 and 24)."""
    psr_tx_int = _psr(cfg, tx_interferer_m, sensing_threshold_dbm)
    p_s = 1.0 - (1.0 - 1.0 / cfg.rate_hz) * psr_tx_int  # eq. (24)
    n_cand = cfg.candidate_resources
    p_sim = p_s * _lookup_common(common_candidates, tx_interferer_m) / (n_cand * n_cand)
    return 1.0 - np.prod(1.0 - p_sim * p_int, axis=1)


def _step3_threshold(cfg: Gm2019Config, psr_pl_db: FloatArray) -> tuple[float, float]:
    """Raise the exclusion threshold in step_db steps until N_a >= N_c (eqs. 32, 33).

    Returns (threshold in dBm, N_e at that threshold). ``psr_pl_db`` is the path loss on the
    integer sensing grid.
    """
    n_res = cfg.resources_per_s
    n_cand = cfg.candidate_resources
    threshold = cfg.sensing_threshold_dbm - cfg.pdf_step_db
    n_available = -math.inf
    n_excluded = math.nan
    while n_available < n_cand:
        threshold += cfg.pdf_step_db  # accumulated like the MATLAB loop
        margin = cfg.tx_power_dbm - psr_pl_db - threshold
        psr_n = q_function(-margin / cfg.shadowing_sigma_db)  # eq. (32.2)
        half_sum = cfg.beta_veh_per_m * float(np.sum(psr_n))  # S_psr,n / 2, eq. (32.1)
        n_excluded = _excluded_resources(half_sum, n_res)  # eq. (33)
        n_available = n_res - n_excluded
    return threshold, n_excluded


def _alpha_from_cbr(cbr: float) -> float:
    """Weight of the step-2 collision term (eq. 22)."""
    if cbr < 0.2:
        return 0.0
    if cbr <= 0.7:
        return 2.0 * cbr - 0.4
    return 1.0


# --- public API ----------------------------------------------------------------------------------


def pdr_vs_distance(cfg: Gm2019Config, distance_m: ArrayLike) -> Gm2019Result:
    """GM-2019 analytical PDR and loss breakdown at the given Tx-Rx distances (metres, >= 0)."""
    d = np.atleast_1d(np.asarray(distance_m, dtype=np.float64))
    if d.ndim != 1 or np.any(~np.isfinite(d)) or np.any(d < 0.0):
        raise ValueError("distance_m must be a 1-D array of finite, non-negative distances")
    beta = cfg.beta_veh_per_m
    sigma = cfg.shadowing_sigma_db
    p_sen = cfg.sensing_threshold_dbm
    n_res = cfg.resources_per_s

    # Common part (CV2XMode4_common.m).
    delta_hd_pre = np.full(d.shape, cfg.rate_hz / 1000.0)  # eq. (7)
    mean_rx_dbm = cfg.tx_power_dbm - _path_loss_db(cfg, d)
    delta_sen_pre = q_function((mean_rx_dbm - p_sen) / sigma)  # eq. (10)
    grid = _power_grid_dbm(cfg)
    err_given_in = _error_given_interference(cfg, _signal_density(cfg, mean_rx_dbm, grid), grid)
    noise_only = _interference_plus_noise_density(cfg, np.array([cfg.no_interference_dbm]), grid)
    delta_pro_pre = (err_given_in @ noise_only[0]) * cfg.pdf_step_db  # eq. (13)

    # Interferers every 1/beta m on both sides of the receiver, the receiver itself removed.
    k_max = int(math.floor(cfg.interferer_range_m * beta + 0.5))
    k = np.arange(1, k_max + 1, dtype=np.float64)
    int_rx_m = np.concatenate([-k[::-1], k]) / beta
    # p_SINR depends on |interferer - receiver| only: evaluate once per k, mirror to both sides.
    int_density = _interference_plus_noise_density(
        cfg, cfg.tx_power_dbm - _path_loss_db(cfg, k / beta), grid
    )
    p_sinr_half = (err_given_in @ int_density.T) * cfg.pdf_step_db  # eq. (17), (D, k_max)
    p_sinr = np.concatenate([p_sinr_half[:, ::-1], p_sinr_half], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_int = (p_sinr - delta_pro_pre[:, None]) / (1.0 - delta_pro_pre[:, None])  # eq. (18)
    p_int = np.where(delta_pro_pre[:, None] >= 1.0, 0.0, p_int)
    tx_int_m = int_rx_m[None, :] + d[:, None]

    # Sensing statistics on the integer grid -L..L m (eqs. 11, 29, 30.2, 34, 40).
    l_sen = int(cfg.sensing_range_m)
    sen_pl_db = _path_loss_db(cfg, np.arange(-l_sen, l_sen + 1, dtype=np.float64))
    psr = q_function(-(cfg.tx_power_dbm - sen_pl_db - p_sen) / sigma)
    psr_sum = beta * float(np.sum(psr))  # S_psr, eq. (29.1)
    psr_autocorr = np.correlate(psr, psr, mode="full")[psr.size - 1 :]  # lags 0..2L, eq. (30.2)
    n_excl_2 = _excluded_resources(psr_sum / 2.0, n_res)  # eq. (29)
    cbr = n_excl_2 / n_res  # eq. (34)
    alpha = _alpha_from_cbr(cbr)

    # Step 2 only (CV2XMode4_Step2.m).
    cc2 = _common_candidates(cfg, psr_autocorr, psr_sum, n_excl_2)
    delta_col2_pre = _collision_loss(cfg, p_int, tx_int_m, cc2, p_sen)

    # Step 3 only (CV2XMode4_Step3.m); skipped when its weight 1 - alpha is zero.
    step3_threshold = math.nan
    delta_col3_pre = np.zeros(d.shape)
    if alpha < 1.0:
        step3_threshold, n_excl_3 = _step3_threshold(cfg, sen_pl_db)
        cc3 = _common_candidates(cfg, psr_autocorr, psr_sum, n_excl_3)
        delta_col3_pre = _collision_loss(cfg, p_int, tx_int_m, cc3, step3_threshold)

    # Sequential conditioning, eq. (6.1)-(6.5), and the alpha mix, eq. (21).
    delta_hd = delta_hd_pre
    delta_sen = delta_sen_pre * (1.0 - delta_hd_pre)
    survive = (1.0 - delta_hd_pre) * (1.0 - delta_sen_pre)
    delta_pro = delta_pro_pre * survive
    delta_col2 = delta_col2_pre * survive * (1.0 - delta_pro_pre)
    delta_col3 = delta_col3_pre * survive * (1.0 - delta_pro_pre)
    delta_col = alpha * delta_col2 + (1.0 - alpha) * delta_col3
    pdr = 1.0 - delta_hd - delta_sen - delta_pro - delta_col  # eq. (6)

    return Gm2019Result(
        distance_m=d,
        pdr=pdr,
        delta_hd=delta_hd,
        delta_sen=delta_sen,
        delta_pro=delta_pro,
        delta_col=delta_col,
        delta_col_step2=delta_col2,
        delta_col_step3=delta_col3,
        cbr=cbr,
        alpha=alpha,
        step3_threshold_dbm=step3_threshold,
    )


def distance_at_pdr(distance_m: ArrayLike, pdr: ArrayLike, level: float) -> float:
    """Distance where PDR first falls to ``level``, by linear interpolation between samples.

    Returns the first distance if PDR already starts at or below the level, and NaN if it never
    reaches it. ``distance_m`` must be increasing.
    """
    d = np.asarray(distance_m, dtype=np.float64)
    p = np.asarray(pdr, dtype=np.float64)
    if d.shape != p.shape or d.ndim != 1 or d.size == 0:
        raise ValueError("distance_m and pdr must be 1-D arrays of the same non-zero length")
    below = np.flatnonzero(p <= level)
    if below.size == 0:
        return math.nan
    i = int(below[0])
    if i == 0:
        return float(d[0])
    d0, d1, p0, p1 = d[i - 1], d[i], p[i - 1], p[i]
    return float(d0 + (p0 - level) * (d1 - d0) / (p0 - p1))
