"""PHY abstraction of the LTE-V2X PC5 sidelink: transport-block sizing, SINR thresholds, noise.

Why this module exists: a system-level simulator never encodes bits. What it needs from the
physical layer is a handful of closed-form mappings, evaluated once per scenario (or once per
message size) and then reused by the vectorised radio step:

- payload + MCS -> transport block size -> PSSCH PRBs -> subchannels per message
  (docs/radio-model.md §2.4; TS 36.213 Table 7.1.7.2.1-1 and the PUSCH MCS table 8.6.1-1);
- PSSCH PRBs -> the SINR threshold gamma_min of the step-function decoding mode (§2.5 option 1);
- bandwidth / PRB count + noise figure -> thermal noise power (§1.2);
- the valid resource-pool configurations of §2.1 and the dBm <-> mW conversions.

Everything here is a pure function (no state, no randomness). The conversions and the noise and
threshold formulas accept numpy arrays and broadcast; the table look-ups take Python ints because
they run at configuration time. Names carry their unit (``_db``, ``_dbm``, ``_mw``, ``_hz``,
``_mhz``, ``_bytes``, ``_bits``, ``_prb``).

The subchannel count follows WiLabV2Xsim (``calculateNB.m``, adjacent PSCCH): the PRBs left for the
PSSCH in L subchannels are L * size - 2, reduced to the largest SC-FDMA DFT size 2^a * 3^b * 5^c
(``isValidForFFT.m``; the transform-precoding constraint of TS 36.211 [K]). Only this rule
reproduces every row of the docs/radio-model.md §2.4 table (300 B at MCS 5: 28 PSSCH + 2 PSCCH PRB need
4 subchannels of 10 PRB, because 3 * 10 - 2 = 28 is not a valid DFT size); ``dft_sizes=False``
gives the plain ceil((PSSCH + PSCCH) / size).

Why one long module: 235 of its lines are the TBS table of TS 36.213 (data, at the end); the
rest is the short chain of §2.4 that reads it, kept in one place so it can be checked in one read.
"""

from __future__ import annotations

import math
import operator
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: What the broadcasting helpers return: a numpy scalar for scalar input, else an array.
FloatOut = np.float64 | FloatArray

#: Bandwidth of one physical resource block: 12 subcarriers x 15 kHz.
PRB_BANDWIDTH_HZ: Final = 180e3
#: Thermal noise density at 290 K.
THERMAL_NOISE_DBM_PER_HZ: Final = -174.0
#: LTE subframe (TTI) duration.
SUBFRAME_S: Final = 1e-3
#: PRBs of the PSCCH (SCI format 1) when adjacent to the PSSCH (§2.1).
PSCCH_PRBS: Final = 2
#: WiLab's factor in gamma_min = 2^(eta / 0.37) - 1 (§2.4).
DEFAULT_IMPLEMENTATION_LOSS: Final = 0.37
#: Highest MCS index of TS 36.213 Table 8.6.1-1 used here (64QAM, I_TBS 26).
MAX_MCS: Final = 28
#: Rows (I_TBS 0..26) and columns (N_PRB 1..100) of the stored TBS table.
N_ITBS: Final = 27
MAX_N_PRB: Final = 100

#: ``sizeSubchannel`` values of the resource pool, in PRB (TS 36.331, §2.1 [K]).
ALLOWED_SUBCHANNEL_SIZES_PRB: Final[tuple[int, ...]] = (
    4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 25, 30, 48, 50, 72, 75, 96, 100,
)
#: ``numSubchannel`` values of the resource pool (TS 36.331, §2.1 [K]).
ALLOWED_NUM_SUBCHANNELS: Final[tuple[int, ...]] = (1, 3, 5, 8, 10, 15, 20)

_N_PRB_FOR_BANDWIDTH_MHZ: Final[dict[float, int]] = {5.0: 25, 10.0: 50, 20.0: 100}


def _as_int(value: int, name: str) -> int:
    """Accept Python and numpy integers; reject bools, floats and anything else."""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def _positive_float_array(value: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(arr > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return arr


# --- MCS and transport block size -------------------------------------------------------------


def _checked_mcs(mcs: int) -> int:
    mcs = _as_int(mcs, "mcs")
    if not 0 <= mcs <= MAX_MCS:
        raise ValueError(f"mcs must be in 0..{MAX_MCS}, got {mcs}")
    return mcs


def itbs_for_mcs(mcs: int) -> int:
    """TBS index of an MCS index (TS 36.213 Table 8.6.1-1, as in WiLab ``findITBS.m``)."""
    mcs = _checked_mcs(mcs)
    if mcs <= 10:
        return mcs
    if mcs <= 20:
        return mcs - 1
    return mcs - 2


def modulation_order_for_mcs(mcs: int) -> int:
    """Bits per symbol Q_m: 2 (QPSK) up to MCS 10, 4 (16QAM) for 11..20, 6 (64QAM) for 21..28."""
    mcs = _checked_mcs(mcs)
    if mcs <= 10:
        return 2
    if mcs <= 20:
        return 4
    return 6


def tbs_bits(itbs: int, n_prb: int) -> int:
    """Transport block size in bits for I_TBS 0..26 and N_PRB 1..100 (Table 7.1.7.2.1-1)."""
    itbs = _as_int(itbs, "itbs")
    n_prb = _as_int(n_prb, "n_prb")
    if not 0 <= itbs < N_ITBS:
        raise ValueError(f"itbs must be in 0..{N_ITBS - 1}, got {itbs}")
    if not 1 <= n_prb <= MAX_N_PRB:
        raise ValueError(f"n_prb must be in 1..{MAX_N_PRB}, got {n_prb}")
    return int(TBS_TABLE_BITS[itbs, n_prb - 1])


def pssch_prbs_for_payload(payload_bytes: int, mcs: int) -> int:
    """Smallest N_PRB whose TBS is strictly greater than the payload in bits (WiLab, §2.4)."""
    payload_bytes = _as_int(payload_bytes, "payload_bytes")
    if payload_bytes < 1:
        raise ValueError(f"payload_bytes must be >= 1, got {payload_bytes}")
    payload_bits = 8 * payload_bytes
    row = TBS_TABLE_BITS[itbs_for_mcs(mcs)]
    fits = np.flatnonzero(row > payload_bits)
    if fits.size == 0:
        raise ValueError(
            f"{payload_bytes} B does not fit in {MAX_N_PRB} PRB at MCS {mcs} "
            f"(largest TBS {int(row[-1])} bits)"
        )
    return int(fits[0]) + 1


# --- Subchannels ------------------------------------------------------------------------------


def is_dft_size(n_prb: int) -> bool:
    """True if n_prb = 2^a * 3^b * 5^c (a valid SC-FDMA transform-precoder size)."""
    n = _as_int(n_prb, "n_prb")
    if n < 1:
        return False
    for factor in (2, 3, 5):
        while n % factor == 0:
            n //= factor
    return n == 1


def _largest_dft_size_at_most(n_prb: int) -> int:
    """Largest valid DFT size <= n_prb, or 0 if n_prb < 1 (WiLab's decrement loop)."""
    while n_prb >= 1 and not is_dft_size(n_prb):
        n_prb -= 1
    return max(n_prb, 0)


def subchannels_for_payload(
    payload_bytes: int,
    mcs: int,
    subchannel_size_prb: int,
    pscch_prbs: int = PSCCH_PRBS,
    *,
    dft_sizes: bool = True,
) -> int:
    """Subchannels one message occupies: PSSCH PRBs plus the adjacent PSCCH PRBs.

    ``dft_sizes=True`` (default, WiLab ``calculateNB.m``): the smallest L such that the largest DFT
    size <= L * size - pscch_prbs still holds the PSSCH PRBs; this reproduces §2.4.
    ``dft_sizes=False``: ceil((PSSCH PRB + PSCCH PRB) / size). The two agree unless the ceil
    leaves a PSSCH width that is not 2^a * 3^b * 5^c. The result may exceed the pool; the caller
    compares it with ``resource_grid``.
    """
    size = _as_int(subchannel_size_prb, "subchannel_size_prb")
    pscch = _as_int(pscch_prbs, "pscch_prbs")
    if size < 1:
        raise ValueError(f"subchannel_size_prb must be >= 1, got {size}")
    if pscch < 0:
        raise ValueError(f"pscch_prbs must be >= 0, got {pscch}")
    n_pssch = pssch_prbs_for_payload(payload_bytes, mcs)
    n_sub = math.ceil((n_pssch + pscch) / size)
    if dft_sizes:
        while _largest_dft_size_at_most(n_sub * size - pscch) < n_pssch:
            n_sub += 1
    return n_sub


# --- SINR threshold ---------------------------------------------------------------------------


def gamma_min_db(
    payload_bytes: ArrayLike,
    n_prb_pssch: ArrayLike,
    bandwidth_mhz: float = 10.0,
    implementation_loss: float = DEFAULT_IMPLEMENTATION_LOSS,
) -> FloatOut:
    """WiLab threshold-mode SINR: gamma_min = 2^(eta / loss) - 1, in dB (§2.4).

    eta = bits * N_PRB,channel / (N_PRB,PSSCH * 1 ms * B) in bit/s/Hz: the payload spread over the
    PSSCH's share of the channel (for 10 MHz, bits * 50 / (N_PRB * 1e-3 * 10e6)). Broadcasts over
    ``payload_bytes`` and ``n_prb_pssch``.
    """
    payload_bits = 8.0 * _positive_float_array(payload_bytes, "payload_bytes")
    n_prb = _positive_float_array(n_prb_pssch, "n_prb_pssch")
    if not implementation_loss > 0:
        raise ValueError(f"implementation_loss must be > 0, got {implementation_loss!r}")
    n_prb_channel = n_prb_for_bandwidth_mhz(bandwidth_mhz)
    bandwidth_hz = float(bandwidth_mhz) * 1e6
    eta_bps_hz = payload_bits * n_prb_channel / (n_prb * SUBFRAME_S * bandwidth_hz)
    gamma_linear = np.exp2(eta_bps_hz / implementation_loss) - 1.0
    result: FloatArray = 10.0 * np.log10(gamma_linear)
    return result[()]


# --- Bandwidth, resource pool, noise ----------------------------------------------------------


def n_prb_for_bandwidth_mhz(bandwidth_mhz: float) -> int:
    """PRBs of an LTE channel: 5 MHz -> 25, 10 MHz -> 50, 20 MHz -> 100 (§1.2)."""
    try:
        return _N_PRB_FOR_BANDWIDTH_MHZ[float(bandwidth_mhz)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"bandwidth_mhz must be one of {sorted(_N_PRB_FOR_BANDWIDTH_MHZ)}, "
            f"got {bandwidth_mhz!r}"
        ) from None


def resource_grid(bandwidth_mhz: float, subchannel_size_prb: int) -> int:
    """Number of subchannels of the pool: floor(N_PRB,channel / subchannel size) (§2.1)."""
    size = _as_int(subchannel_size_prb, "subchannel_size_prb")
    if size < 1:
        raise ValueError(f"subchannel_size_prb must be >= 1, got {size}")
    n_prb = n_prb_for_bandwidth_mhz(bandwidth_mhz)
    n_subchannels = n_prb // size
    if n_subchannels < 1:
        raise ValueError(
            f"a {size}-PRB subchannel does not fit in {bandwidth_mhz} MHz ({n_prb} PRB)"
        )
    return n_subchannels


def noise_power_dbm_bandwidth(bandwidth_hz: ArrayLike, noise_figure_db: ArrayLike) -> FloatOut:
    """Thermal noise plus noise figure over a bandwidth: -174 + 10 log10(B) + NF.

    10 MHz with NF 9 dB gives -95.0 dBm, the rounded figure of docs/radio-model.md §1.2.
    """
    bw_hz = _positive_float_array(bandwidth_hz, "bandwidth_hz")
    result: FloatArray = (
        THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(bw_hz) + np.asarray(noise_figure_db, np.float64)
    )
    return result[()]


def noise_power_dbm(n_prb: ArrayLike, noise_figure_db: ArrayLike) -> FloatOut:
    """Noise over n_prb PRBs of 180 kHz: 1 PRB, NF 9 -> -112.4 dBm; 50 PRB, NF 9 -> -95.4 dBm.

    docs/radio-model.md §1.2 rounds the whole 10 MHz channel to -95 dBm (10 log10(10 MHz) = 70 dB); use
    ``noise_power_dbm_bandwidth(10e6, nf)`` for that convention.
    """
    n = _positive_float_array(n_prb, "n_prb")
    return noise_power_dbm_bandwidth(n * PRB_BANDWIDTH_HZ, noise_figure_db)


def dbm_to_mw(power_dbm: ArrayLike) -> FloatOut:
    """10^(P/10); -inf dBm maps to 0 mW."""
    result: FloatArray = np.power(10.0, np.asarray(power_dbm, dtype=np.float64) / 10.0)
    return result[()]


def mw_to_dbm(power_mw: ArrayLike) -> FloatOut:
    """10 log10(P); 0 mW maps to -inf dBm without a warning. Negative powers raise ValueError."""
    mw = np.asarray(power_mw, dtype=np.float64)
    if np.any(mw < 0):
        raise ValueError("power_mw must be >= 0")
    with np.errstate(divide="ignore"):
        result: FloatArray = 10.0 * np.log10(mw)
    return result[()]


# --- TS 36.213 Table 7.1.7.2.1-1 --------------------------------------------------------------
# Transport block size in bits; row = I_TBS 0..26, column = N_PRB 1..100 (the spec goes to 110).
# Transcribed from V2Xgithub/WiLabV2Xsim MatFilesUtilityLTE/TBL717211.txt and cross-checked entry
# by entry against srsRAN_4G lib/src/phy/phch/tbs_tables.h ("generated from ETSI TS 136 213
# V12.13.0"): all 2700 entries agree except I_TBS 6, N_PRB 1..3.
# There the spec prints 328, 176, 256 (328 at N_PRB 1 is an evident misprint: it breaks the
# table's monotonicity in both directions) and WiLab has 176, 256, 328 (the misprinted cells
# sorted, so N_PRB 2 and 3 are off too). We use 88, 176, 256: the spec's values for N_PRB 2 and 3,
# and for N_PRB 1 the 88 of the NB-IoT TBS table (TS 36.213 Table 16.4.1.5.1-1, whose first column
# otherwise repeats this table's N_PRB 1 column), which is also the correction IMTAphy (TU Munich,
# ModulationAndCodingSchemes.cpp) makes. It changes results only for payloads <= 40 B at MCS 6.
_TBS_ROWS: Final[tuple[tuple[int, ...], ...]] = (
    # I_TBS 0
    (16, 32, 56, 88, 120, 152, 176, 208, 224, 256, 288, 328, 344, 376, 392, 424, 456, 488, 504,
     536, 568, 600, 616, 648, 680, 712, 744, 776, 776, 808, 840, 872, 904, 936, 968, 1000, 1032,
     1032, 1064, 1096, 1128, 1160, 1192, 1224, 1256, 1256, 1288, 1320, 1352, 1384, 1416, 1416,
     1480, 1480, 1544, 1544, 1608, 1608, 1608, 1672, 1672, 1736, 1736, 1800, 1800, 1800, 1864,
     1864, 1928, 1928, 1992, 1992, 2024, 2088, 2088, 2088, 2152, 2152, 2216, 2216, 2280, 2280,
     2280, 2344, 2344, 2408, 2408, 2472, 2472, 2536, 2536, 2536, 2600, 2600, 2664, 2664, 2728,
     2728, 2728, 2792),
    # I_TBS 1
    (24, 56, 88, 144, 176, 208, 224, 256, 328, 344, 376, 424, 456, 488, 520, 568, 600, 632, 680,
     712, 744, 776, 808, 872, 904, 936, 968, 1000, 1032, 1064, 1128, 1160, 1192, 1224, 1256, 1288,
     1352, 1384, 1416, 1416, 1480, 1544, 1544, 1608, 1608, 1672, 1736, 1736, 1800, 1800, 1864,
     1864, 1928, 1992, 1992, 2024, 2088, 2088, 2152, 2152, 2216, 2280, 2280, 2344, 2344, 2408,
     2472, 2472, 2536, 2536, 2600, 2600, 2664, 2728, 2728, 2792, 2792, 2856, 2856, 2856, 2984,
     2984, 2984, 3112, 3112, 3112, 3240, 3240, 3240, 3240, 3368, 3368, 3368, 3496, 3496, 3496,
     3496, 3624, 3624, 3624),
    # I_TBS 2
    (32, 72, 144, 176, 208, 256, 296, 328, 376, 424, 472, 520, 568, 616, 648, 696, 744, 776, 840,
     872, 936, 968, 1000, 1064, 1096, 1160, 1192, 1256, 1288, 1320, 1384, 1416, 1480, 1544, 1544,
     1608, 1672, 1672, 1736, 1800, 1800, 1864, 1928, 1992, 2024, 2088, 2088, 2152, 2216, 2216,
     2280, 2344, 2344, 2408, 2472, 2536, 2536, 2600, 2664, 2664, 2728, 2792, 2856, 2856, 2856,
     2984, 2984, 3112, 3112, 3112, 3240, 3240, 3240, 3368, 3368, 3368, 3496, 3496, 3496, 3624,
     3624, 3624, 3752, 3752, 3880, 3880, 3880, 4008, 4008, 4008, 4136, 4136, 4136, 4264, 4264,
     4264, 4392, 4392, 4392, 4584),
    # I_TBS 3
    (40, 104, 176, 208, 256, 328, 392, 440, 504, 568, 616, 680, 744, 808, 872, 904, 968, 1032,
     1096, 1160, 1224, 1256, 1320, 1384, 1416, 1480, 1544, 1608, 1672, 1736, 1800, 1864, 1928,
     1992, 2024, 2088, 2152, 2216, 2280, 2344, 2408, 2472, 2536, 2536, 2600, 2664, 2728, 2792,
     2856, 2856, 2984, 2984, 3112, 3112, 3240, 3240, 3368, 3368, 3496, 3496, 3624, 3624, 3624,
     3752, 3752, 3880, 3880, 4008, 4008, 4136, 4136, 4264, 4264, 4392, 4392, 4392, 4584, 4584,
     4584, 4776, 4776, 4776, 4776, 4968, 4968, 4968, 5160, 5160, 5160, 5352, 5352, 5352, 5352,
     5544, 5544, 5544, 5736, 5736, 5736, 5736),
    # I_TBS 4
    (56, 120, 208, 256, 328, 408, 488, 552, 632, 696, 776, 840, 904, 1000, 1064, 1128, 1192, 1288,
     1352, 1416, 1480, 1544, 1608, 1736, 1800, 1864, 1928, 1992, 2088, 2152, 2216, 2280, 2344,
     2408, 2472, 2600, 2664, 2728, 2792, 2856, 2984, 2984, 3112, 3112, 3240, 3240, 3368, 3496,
     3496, 3624, 3624, 3752, 3752, 3880, 4008, 4008, 4136, 4136, 4264, 4264, 4392, 4392, 4584,
     4584, 4584, 4776, 4776, 4968, 4968, 4968, 5160, 5160, 5160, 5352, 5352, 5544, 5544, 5544,
     5736, 5736, 5736, 5992, 5992, 5992, 5992, 6200, 6200, 6200, 6456, 6456, 6456, 6456, 6712,
     6712, 6712, 6968, 6968, 6968, 6968, 7224),
    # I_TBS 5
    (72, 144, 224, 328, 424, 504, 600, 680, 776, 872, 968, 1032, 1128, 1224, 1320, 1384, 1480,
     1544, 1672, 1736, 1864, 1928, 2024, 2088, 2216, 2280, 2344, 2472, 2536, 2664, 2728, 2792,
     2856, 2984, 3112, 3112, 3240, 3368, 3496, 3496, 3624, 3752, 3752, 3880, 4008, 4008, 4136,
     4264, 4392, 4392, 4584, 4584, 4776, 4776, 4776, 4968, 4968, 5160, 5160, 5352, 5352, 5544,
     5544, 5736, 5736, 5736, 5992, 5992, 5992, 6200, 6200, 6200, 6456, 6456, 6712, 6712, 6712,
     6968, 6968, 6968, 7224, 7224, 7224, 7480, 7480, 7480, 7736, 7736, 7736, 7992, 7992, 7992,
     8248, 8248, 8248, 8504, 8504, 8760, 8760, 8760),
    # I_TBS 6
    (88, 176, 256, 392, 504, 600, 712, 808, 936, 1032, 1128, 1224, 1352, 1480, 1544, 1672, 1736,
     1864, 1992, 2088, 2216, 2280, 2408, 2472, 2600, 2728, 2792, 2984, 2984, 3112, 3240, 3368,
     3496, 3496, 3624, 3752, 3880, 4008, 4136, 4136, 4264, 4392, 4584, 4584, 4776, 4776, 4968,
     4968, 5160, 5160, 5352, 5352, 5544, 5736, 5736, 5992, 5992, 5992, 6200, 6200, 6456, 6456,
     6456, 6712, 6712, 6968, 6968, 6968, 7224, 7224, 7480, 7480, 7736, 7736, 7736, 7992, 7992,
     8248, 8248, 8248, 8504, 8504, 8760, 8760, 8760, 9144, 9144, 9144, 9144, 9528, 9528, 9528,
     9528, 9912, 9912, 9912, 10296, 10296, 10296, 10296),
    # I_TBS 7
    (104, 224, 328, 472, 584, 712, 840, 968, 1096, 1224, 1320, 1480, 1608, 1672, 1800, 1928, 2088,
     2216, 2344, 2472, 2536, 2664, 2792, 2984, 3112, 3240, 3368, 3368, 3496, 3624, 3752, 3880,
     4008, 4136, 4264, 4392, 4584, 4584, 4776, 4968, 4968, 5160, 5352, 5352, 5544, 5736, 5736,
     5992, 5992, 6200, 6200, 6456, 6456, 6712, 6712, 6712, 6968, 6968, 7224, 7224, 7480, 7480,
     7736, 7736, 7992, 7992, 8248, 8248, 8504, 8504, 8760, 8760, 8760, 9144, 9144, 9144, 9528,
     9528, 9528, 9912, 9912, 9912, 10296, 10296, 10296, 10680, 10680, 10680, 11064, 11064, 11064,
     11448, 11448, 11448, 11448, 11832, 11832, 11832, 12216, 12216),
    # I_TBS 8
    (120, 256, 392, 536, 680, 808, 968, 1096, 1256, 1384, 1544, 1672, 1800, 1928, 2088, 2216, 2344,
     2536, 2664, 2792, 2984, 3112, 3240, 3368, 3496, 3624, 3752, 3880, 4008, 4264, 4392, 4584,
     4584, 4776, 4968, 4968, 5160, 5352, 5544, 5544, 5736, 5992, 5992, 6200, 6200, 6456, 6456,
     6712, 6968, 6968, 7224, 7224, 7480, 7480, 7736, 7736, 7992, 7992, 8248, 8504, 8504, 8760,
     8760, 9144, 9144, 9144, 9528, 9528, 9528, 9912, 9912, 9912, 10296, 10296, 10680, 10680, 10680,
     11064, 11064, 11064, 11448, 11448, 11448, 11832, 11832, 12216, 12216, 12216, 12576, 12576,
     12576, 12960, 12960, 12960, 13536, 13536, 13536, 13536, 14112, 14112),
    # I_TBS 9
    (136, 296, 456, 616, 776, 936, 1096, 1256, 1416, 1544, 1736, 1864, 2024, 2216, 2344, 2536,
     2664, 2856, 2984, 3112, 3368, 3496, 3624, 3752, 4008, 4136, 4264, 4392, 4584, 4776, 4968,
     5160, 5160, 5352, 5544, 5736, 5736, 5992, 6200, 6200, 6456, 6712, 6712, 6968, 6968, 7224,
     7480, 7480, 7736, 7992, 7992, 8248, 8248, 8504, 8760, 8760, 9144, 9144, 9144, 9528, 9528,
     9912, 9912, 10296, 10296, 10296, 10680, 10680, 11064, 11064, 11064, 11448, 11448, 11832,
     11832, 11832, 12216, 12216, 12576, 12576, 12960, 12960, 12960, 13536, 13536, 13536, 13536,
     14112, 14112, 14112, 14112, 14688, 14688, 14688, 15264, 15264, 15264, 15264, 15840, 15840),
    # I_TBS 10
    (144, 328, 504, 680, 872, 1032, 1224, 1384, 1544, 1736, 1928, 2088, 2280, 2472, 2664, 2792,
     2984, 3112, 3368, 3496, 3752, 3880, 4008, 4264, 4392, 4584, 4776, 4968, 5160, 5352, 5544,
     5736, 5736, 5992, 6200, 6200, 6456, 6712, 6712, 6968, 7224, 7480, 7480, 7736, 7992, 7992,
     8248, 8504, 8504, 8760, 9144, 9144, 9144, 9528, 9528, 9912, 9912, 10296, 10296, 10680, 10680,
     11064, 11064, 11448, 11448, 11448, 11832, 11832, 12216, 12216, 12576, 12576, 12960, 12960,
     12960, 13536, 13536, 13536, 14112, 14112, 14112, 14688, 14688, 14688, 14688, 15264, 15264,
     15264, 15840, 15840, 15840, 16416, 16416, 16416, 16992, 16992, 16992, 16992, 17568, 17568),
    # I_TBS 11
    (176, 376, 584, 776, 1000, 1192, 1384, 1608, 1800, 2024, 2216, 2408, 2600, 2792, 2984, 3240,
     3496, 3624, 3880, 4008, 4264, 4392, 4584, 4776, 4968, 5352, 5544, 5736, 5992, 5992, 6200,
     6456, 6712, 6968, 6968, 7224, 7480, 7736, 7736, 7992, 8248, 8504, 8760, 8760, 9144, 9144,
     9528, 9528, 9912, 9912, 10296, 10680, 10680, 11064, 11064, 11448, 11448, 11832, 11832, 12216,
     12216, 12576, 12576, 12960, 12960, 13536, 13536, 13536, 14112, 14112, 14112, 14688, 14688,
     14688, 15264, 15264, 15840, 15840, 15840, 16416, 16416, 16416, 16992, 16992, 16992, 17568,
     17568, 17568, 18336, 18336, 18336, 18336, 19080, 19080, 19080, 19080, 19848, 19848, 19848,
     19848),
    # I_TBS 12
    (208, 440, 680, 904, 1128, 1352, 1608, 1800, 2024, 2280, 2472, 2728, 2984, 3240, 3368, 3624,
     3880, 4136, 4392, 4584, 4776, 4968, 5352, 5544, 5736, 5992, 6200, 6456, 6712, 6712, 6968,
     7224, 7480, 7736, 7992, 8248, 8504, 8760, 8760, 9144, 9528, 9528, 9912, 9912, 10296, 10680,
     10680, 11064, 11064, 11448, 11832, 11832, 12216, 12216, 12576, 12576, 12960, 12960, 13536,
     13536, 14112, 14112, 14112, 14688, 14688, 15264, 15264, 15264, 15840, 15840, 16416, 16416,
     16416, 16992, 16992, 17568, 17568, 17568, 18336, 18336, 18336, 19080, 19080, 19080, 19080,
     19848, 19848, 19848, 20616, 20616, 20616, 21384, 21384, 21384, 21384, 22152, 22152, 22152,
     22920, 22920),
    # I_TBS 13
    (224, 488, 744, 1000, 1256, 1544, 1800, 2024, 2280, 2536, 2856, 3112, 3368, 3624, 3880, 4136,
     4392, 4584, 4968, 5160, 5352, 5736, 5992, 6200, 6456, 6712, 6968, 7224, 7480, 7736, 7992,
     8248, 8504, 8760, 9144, 9144, 9528, 9912, 9912, 10296, 10680, 10680, 11064, 11448, 11448,
     11832, 12216, 12216, 12576, 12960, 12960, 13536, 13536, 14112, 14112, 14688, 14688, 14688,
     15264, 15264, 15840, 15840, 16416, 16416, 16992, 16992, 16992, 17568, 17568, 18336, 18336,
     18336, 19080, 19080, 19080, 19848, 19848, 19848, 20616, 20616, 20616, 21384, 21384, 21384,
     22152, 22152, 22152, 22920, 22920, 22920, 23688, 23688, 23688, 24496, 24496, 24496, 25456,
     25456, 25456, 25456),
    # I_TBS 14
    (256, 552, 840, 1128, 1416, 1736, 1992, 2280, 2600, 2856, 3112, 3496, 3752, 4008, 4264, 4584,
     4968, 5160, 5544, 5736, 5992, 6200, 6456, 6968, 7224, 7480, 7736, 7992, 8248, 8504, 8760,
     9144, 9528, 9912, 9912, 10296, 10680, 11064, 11064, 11448, 11832, 12216, 12216, 12576, 12960,
     12960, 13536, 13536, 14112, 14112, 14688, 14688, 15264, 15264, 15840, 15840, 16416, 16416,
     16992, 16992, 17568, 17568, 18336, 18336, 18336, 19080, 19080, 19848, 19848, 19848, 20616,
     20616, 20616, 21384, 21384, 22152, 22152, 22152, 22920, 22920, 22920, 23688, 23688, 24496,
     24496, 24496, 25456, 25456, 25456, 25456, 26416, 26416, 26416, 27376, 27376, 27376, 28336,
     28336, 28336, 28336),
    # I_TBS 15
    (280, 600, 904, 1224, 1544, 1800, 2152, 2472, 2728, 3112, 3368, 3624, 4008, 4264, 4584, 4968,
     5160, 5544, 5736, 6200, 6456, 6712, 6968, 7224, 7736, 7992, 8248, 8504, 8760, 9144, 9528,
     9912, 10296, 10296, 10680, 11064, 11448, 11832, 11832, 12216, 12576, 12960, 12960, 13536,
     13536, 14112, 14688, 14688, 15264, 15264, 15840, 15840, 16416, 16416, 16992, 16992, 17568,
     17568, 18336, 18336, 18336, 19080, 19080, 19848, 19848, 20616, 20616, 20616, 21384, 21384,
     22152, 22152, 22152, 22920, 22920, 23688, 23688, 23688, 24496, 24496, 24496, 25456, 25456,
     25456, 26416, 26416, 26416, 27376, 27376, 27376, 28336, 28336, 28336, 29296, 29296, 29296,
     29296, 30576, 30576, 30576),
    # I_TBS 16
    (328, 632, 968, 1288, 1608, 1928, 2280, 2600, 2984, 3240, 3624, 3880, 4264, 4584, 4968, 5160,
     5544, 5992, 6200, 6456, 6712, 7224, 7480, 7736, 7992, 8504, 8760, 9144, 9528, 9912, 9912,
     10296, 10680, 11064, 11448, 11832, 12216, 12216, 12576, 12960, 13536, 13536, 14112, 14112,
     14688, 14688, 15264, 15840, 15840, 16416, 16416, 16992, 16992, 17568, 17568, 18336, 18336,
     19080, 19080, 19848, 19848, 19848, 20616, 20616, 21384, 21384, 22152, 22152, 22152, 22920,
     22920, 23688, 23688, 24496, 24496, 24496, 25456, 25456, 25456, 26416, 26416, 26416, 27376,
     27376, 27376, 28336, 28336, 28336, 29296, 29296, 29296, 30576, 30576, 30576, 30576, 31704,
     31704, 31704, 31704, 32856),
    # I_TBS 17
    (336, 696, 1064, 1416, 1800, 2152, 2536, 2856, 3240, 3624, 4008, 4392, 4776, 5160, 5352, 5736,
     6200, 6456, 6712, 7224, 7480, 7992, 8248, 8760, 9144, 9528, 9912, 10296, 10296, 10680, 11064,
     11448, 11832, 12216, 12576, 12960, 13536, 13536, 14112, 14688, 14688, 15264, 15264, 15840,
     16416, 16416, 16992, 17568, 17568, 18336, 18336, 19080, 19080, 19848, 19848, 20616, 20616,
     20616, 21384, 21384, 22152, 22152, 22920, 22920, 23688, 23688, 24496, 24496, 24496, 25456,
     25456, 26416, 26416, 26416, 27376, 27376, 27376, 28336, 28336, 29296, 29296, 29296, 30576,
     30576, 30576, 30576, 31704, 31704, 31704, 32856, 32856, 32856, 34008, 34008, 34008, 35160,
     35160, 35160, 35160, 36696),
    # I_TBS 18
    (376, 776, 1160, 1544, 1992, 2344, 2792, 3112, 3624, 4008, 4392, 4776, 5160, 5544, 5992, 6200,
     6712, 7224, 7480, 7992, 8248, 8760, 9144, 9528, 9912, 10296, 10680, 11064, 11448, 11832,
     12216, 12576, 12960, 13536, 14112, 14112, 14688, 15264, 15264, 15840, 16416, 16416, 16992,
     17568, 17568, 18336, 18336, 19080, 19080, 19848, 19848, 20616, 21384, 21384, 22152, 22152,
     22920, 22920, 23688, 23688, 24496, 24496, 24496, 25456, 25456, 26416, 26416, 27376, 27376,
     27376, 28336, 28336, 29296, 29296, 29296, 30576, 30576, 30576, 31704, 31704, 31704, 32856,
     32856, 32856, 34008, 34008, 34008, 35160, 35160, 35160, 36696, 36696, 36696, 37888, 37888,
     37888, 37888, 39232, 39232, 39232),
    # I_TBS 19
    (408, 840, 1288, 1736, 2152, 2600, 2984, 3496, 3880, 4264, 4776, 5160, 5544, 5992, 6456, 6968,
     7224, 7736, 8248, 8504, 9144, 9528, 9912, 10296, 10680, 11064, 11448, 12216, 12576, 12960,
     13536, 13536, 14112, 14688, 15264, 15264, 15840, 16416, 16992, 16992, 17568, 18336, 18336,
     19080, 19080, 19848, 20616, 20616, 21384, 21384, 22152, 22152, 22920, 22920, 23688, 24496,
     24496, 25456, 25456, 25456, 26416, 26416, 27376, 27376, 28336, 28336, 29296, 29296, 29296,
     30576, 30576, 30576, 31704, 31704, 32856, 32856, 32856, 34008, 34008, 34008, 35160, 35160,
     35160, 36696, 36696, 36696, 37888, 37888, 37888, 39232, 39232, 39232, 40576, 40576, 40576,
     40576, 42368, 42368, 42368, 43816),
    # I_TBS 20
    (440, 904, 1384, 1864, 2344, 2792, 3240, 3752, 4136, 4584, 5160, 5544, 5992, 6456, 6968, 7480,
     7992, 8248, 8760, 9144, 9912, 10296, 10680, 11064, 11448, 12216, 12576, 12960, 13536, 14112,
     14688, 14688, 15264, 15840, 16416, 16992, 16992, 17568, 18336, 18336, 19080, 19848, 19848,
     20616, 20616, 21384, 22152, 22152, 22920, 22920, 23688, 24496, 24496, 25456, 25456, 26416,
     26416, 27376, 27376, 28336, 28336, 29296, 29296, 29296, 30576, 30576, 31704, 31704, 31704,
     32856, 32856, 34008, 34008, 34008, 35160, 35160, 35160, 36696, 36696, 36696, 37888, 37888,
     39232, 39232, 39232, 40576, 40576, 40576, 42368, 42368, 42368, 42368, 43816, 43816, 43816,
     45352, 45352, 45352, 46888, 46888),
    # I_TBS 21
    (488, 1000, 1480, 1992, 2472, 2984, 3496, 4008, 4584, 4968, 5544, 5992, 6456, 6968, 7480, 7992,
     8504, 9144, 9528, 9912, 10680, 11064, 11448, 12216, 12576, 12960, 13536, 14112, 14688, 15264,
     15840, 15840, 16416, 16992, 17568, 18336, 18336, 19080, 19848, 19848, 20616, 21384, 21384,
     22152, 22920, 22920, 23688, 24496, 24496, 25456, 25456, 26416, 26416, 27376, 27376, 28336,
     28336, 29296, 29296, 30576, 30576, 31704, 31704, 31704, 32856, 32856, 34008, 34008, 35160,
     35160, 35160, 36696, 36696, 36696, 37888, 37888, 39232, 39232, 39232, 40576, 40576, 40576,
     42368, 42368, 42368, 43816, 43816, 43816, 45352, 45352, 45352, 46888, 46888, 46888, 46888,
     48936, 48936, 48936, 48936, 51024),
    # I_TBS 22
    (520, 1064, 1608, 2152, 2664, 3240, 3752, 4264, 4776, 5352, 5992, 6456, 6968, 7480, 7992, 8504,
     9144, 9528, 10296, 10680, 11448, 11832, 12576, 12960, 13536, 14112, 14688, 15264, 15840,
     16416, 16992, 16992, 17568, 18336, 19080, 19080, 19848, 20616, 21384, 21384, 22152, 22920,
     22920, 23688, 24496, 24496, 25456, 25456, 26416, 27376, 27376, 28336, 28336, 29296, 29296,
     30576, 30576, 31704, 31704, 32856, 32856, 34008, 34008, 34008, 35160, 35160, 36696, 36696,
     36696, 37888, 37888, 39232, 39232, 40576, 40576, 40576, 42368, 42368, 42368, 43816, 43816,
     43816, 45352, 45352, 45352, 46888, 46888, 46888, 48936, 48936, 48936, 48936, 51024, 51024,
     51024, 51024, 52752, 52752, 52752, 55056),
    # I_TBS 23
    (552, 1128, 1736, 2280, 2856, 3496, 4008, 4584, 5160, 5736, 6200, 6968, 7480, 7992, 8504, 9144,
     9912, 10296, 11064, 11448, 12216, 12576, 12960, 13536, 14112, 14688, 15264, 15840, 16416,
     16992, 17568, 18336, 19080, 19848, 19848, 20616, 21384, 22152, 22152, 22920, 23688, 24496,
     24496, 25456, 25456, 26416, 27376, 27376, 28336, 28336, 29296, 29296, 30576, 30576, 31704,
     31704, 32856, 32856, 34008, 34008, 35160, 35160, 36696, 36696, 37888, 37888, 37888, 39232,
     39232, 40576, 40576, 40576, 42368, 42368, 43816, 43816, 43816, 45352, 45352, 45352, 46888,
     46888, 46888, 48936, 48936, 48936, 51024, 51024, 51024, 51024, 52752, 52752, 52752, 55056,
     55056, 55056, 55056, 57336, 57336, 57336),
    # I_TBS 24
    (584, 1192, 1800, 2408, 2984, 3624, 4264, 4968, 5544, 5992, 6712, 7224, 7992, 8504, 9144, 9912,
     10296, 11064, 11448, 12216, 12960, 13536, 14112, 14688, 15264, 15840, 16416, 16992, 17568,
     18336, 19080, 19848, 19848, 20616, 21384, 22152, 22920, 22920, 23688, 24496, 25456, 25456,
     26416, 26416, 27376, 28336, 28336, 29296, 29296, 30576, 31704, 31704, 32856, 32856, 34008,
     34008, 35160, 35160, 36696, 36696, 36696, 37888, 37888, 39232, 39232, 40576, 40576, 42368,
     42368, 42368, 43816, 43816, 45352, 45352, 45352, 46888, 46888, 46888, 48936, 48936, 48936,
     51024, 51024, 51024, 52752, 52752, 52752, 52752, 55056, 55056, 55056, 57336, 57336, 57336,
     57336, 59256, 59256, 59256, 61664, 61664),
    # I_TBS 25
    (616, 1256, 1864, 2536, 3112, 3752, 4392, 5160, 5736, 6200, 6968, 7480, 8248, 8760, 9528,
     10296, 10680, 11448, 12216, 12576, 13536, 14112, 14688, 15264, 15840, 16416, 16992, 17568,
     18336, 19080, 19848, 20616, 20616, 21384, 22152, 22920, 23688, 24496, 24496, 25456, 26416,
     26416, 27376, 28336, 28336, 29296, 29296, 30576, 31704, 31704, 32856, 32856, 34008, 34008,
     35160, 35160, 36696, 36696, 37888, 37888, 39232, 39232, 40576, 40576, 40576, 42368, 42368,
     43816, 43816, 43816, 45352, 45352, 46888, 46888, 46888, 48936, 48936, 48936, 51024, 51024,
     51024, 52752, 52752, 52752, 55056, 55056, 55056, 55056, 57336, 57336, 57336, 59256, 59256,
     59256, 61664, 61664, 61664, 61664, 63776, 63776),
    # I_TBS 26
    (712, 1480, 2216, 2984, 3752, 4392, 5160, 5992, 6712, 7480, 8248, 8760, 9528, 10296, 11064,
     11832, 12576, 13536, 14112, 14688, 15264, 16416, 16992, 17568, 18336, 19080, 19848, 20616,
     21384, 22152, 22920, 23688, 24496, 25456, 25456, 26416, 27376, 28336, 29296, 29296, 30576,
     30576, 31704, 32856, 32856, 34008, 35160, 35160, 36696, 36696, 37888, 37888, 39232, 40576,
     40576, 40576, 42368, 42368, 43816, 43816, 45352, 45352, 46888, 46888, 48936, 48936, 48936,
     51024, 51024, 52752, 52752, 52752, 55056, 55056, 55056, 55056, 57336, 57336, 57336, 59256,
     59256, 59256, 61664, 61664, 61664, 63776, 63776, 63776, 66592, 66592, 66592, 68808, 68808,
     68808, 71112, 71112, 71112, 73712, 73712, 75376),
)

TBS_TABLE_BITS: Final[NDArray[np.int64]] = np.array(_TBS_ROWS, dtype=np.int64)
TBS_TABLE_BITS.setflags(write=False)
if TBS_TABLE_BITS.shape != (N_ITBS, MAX_N_PRB):  # pragma: no cover - guards the literal above
    raise RuntimeError(f"TBS table has shape {TBS_TABLE_BITS.shape}")
