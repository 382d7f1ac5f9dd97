"""Tests for sim.radio.phy: TBS table, MCS mapping, message sizing, gamma_min, noise, dBm/mW."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim.radio.phy import (
    ALLOWED_NUM_SUBCHANNELS,
    ALLOWED_SUBCHANNEL_SIZES_PRB,
    MAX_N_PRB,
    N_ITBS,
    PRB_BANDWIDTH_HZ,
    TBS_TABLE_BITS,
    THERMAL_NOISE_DBM_PER_HZ,
    dbm_to_mw,
    gamma_min_db,
    is_dft_size,
    itbs_for_mcs,
    modulation_order_for_mcs,
    mw_to_dbm,
    n_prb_for_bandwidth_mhz,
    noise_power_dbm,
    noise_power_dbm_bandwidth,
    pssch_prbs_for_payload,
    resource_grid,
    subchannels_for_payload,
    tbs_bits,
)

# docs/radio-model.md §2.4, every row:
# (MCS, Q_m, 190 B: PSSCH PRB, subch of 10 PRB, gamma_min dB, 300 B: PSSCH PRB, subch, gamma_min dB)
TABLE_2_4 = [
    (3, 2, 27, 3, -1.6, 41, 5, -1.4),
    (5, 2, 18, 2, 0.8, 28, 4, 0.9),
    (6, 2, 15, 2, 2.0, 23, 3, 2.2),
    (7, 2, 13, 2, 3.0, 20, 3, 3.2),
    (9, 2, 10, 2, 5.0, 16, 2, 4.9),
    (11, 4, 9, 2, 5.9, 14, 2, 6.0),
    (14, 4, 6, 1, 9.9, 10, 2, 9.3),
    (16, 4, 5, 1, 12.1, 8, 1, 11.9),
]

# Entries read from an independent copy of TS 36.213 Table 7.1.7.2.1-1 (srsRAN_4G
# lib/src/phy/phch/tbs_tables.h), keyed (I_TBS, N_PRB).
SPEC_TBS_BITS = {
    (0, 1): 16, (0, 100): 2792, (1, 10): 344, (2, 25): 1096, (5, 50): 4392, (7, 12): 1480,
    (7, 13): 1608, (7, 19): 2344, (7, 20): 2472, (9, 50): 7992, (10, 50): 8760, (12, 75): 16992,
    (15, 1): 280, (19, 100): 43816, (20, 50): 22920, (24, 33): 19848, (25, 100): 63776,
    (26, 1): 712, (26, 97): 71112, (26, 98): 73712, (26, 100): 75376,
}


# --- §2.4 table -------------------------------------------------------------------------------


@pytest.mark.parametrize("row", TABLE_2_4, ids=[f"mcs{r[0]}" for r in TABLE_2_4])
@pytest.mark.parametrize("payload_bytes", [190, 300])
def test_radio_model_table_2_4(row: tuple[float, ...], payload_bytes: int) -> None:
    mcs, q_m = row[0], row[1]
    prb, subch, gamma = row[2:5] if payload_bytes == 190 else row[5:8]
    assert modulation_order_for_mcs(mcs) == q_m
    assert pssch_prbs_for_payload(payload_bytes, mcs) == prb
    assert subchannels_for_payload(payload_bytes, mcs, 10) == subch
    assert float(gamma_min_db(payload_bytes, prb)) == pytest.approx(gamma, abs=0.1)


def test_gamma_min_headline_value() -> None:
    # 190 B, MCS 7: eta = 1520 * 50 / (13 * 1e-3 * 10e6) = 0.5846 bit/s/Hz -> 2.99 dB.
    eta = 1520 * 50 / (13 * 1e-3 * 10e6)
    assert float(gamma_min_db(190, 13)) == pytest.approx(10 * math.log10(2 ** (eta / 0.37) - 1))
    assert float(gamma_min_db(190, 13)) == pytest.approx(2.99, abs=0.01)


def test_plain_ceil_subchannels_differs_only_where_dft_size_invalid() -> None:
    # 300 B at MCS 5: 28 + 2 PRB fit in 3 x 10 PRB by the ceil, but 3 * 10 - 2 = 28 = 2^2 * 7 is no
    # DFT size; the largest valid one (27) is too small, so WiLab (and §2.4) use 4 subchannels.
    assert subchannels_for_payload(300, 5, 10, dft_sizes=False) == 3
    assert subchannels_for_payload(300, 5, 10) == 4
    for row in TABLE_2_4:
        mcs = row[0]
        for payload_bytes, expected in ((190, row[3]), (300, row[6])):
            if (payload_bytes, mcs) != (300, 5):
                plain = subchannels_for_payload(payload_bytes, mcs, 10, dft_sizes=False)
                assert plain == expected


def test_subchannels_other_sizes_and_pscch() -> None:
    # 190 B at MCS 7 = 13 PSSCH PRB, and 13 is not a DFT size: 15-PRB (1 subchannel) or 5-PRB (3)
    # pools leave 13 PRB for the PSSCH, reduced to 12, so one more subchannel is needed.
    assert subchannels_for_payload(190, 7, 15) == 2
    assert subchannels_for_payload(190, 7, 15, dft_sizes=False) == 1
    assert subchannels_for_payload(190, 7, 5) == 4
    assert subchannels_for_payload(190, 7, 5, dft_sizes=False) == 3
    assert subchannels_for_payload(190, 7, 20) == 1
    assert subchannels_for_payload(190, 7, 50) == 1
    # Without PSCCH PRBs (non-adjacent): 3 x 5 = 15 = 3 * 5 holds 13.
    assert subchannels_for_payload(190, 7, 5, pscch_prbs=0) == 3


@settings(max_examples=300, deadline=None)
@given(
    payload_bytes=st.integers(1, 1500),
    mcs=st.integers(0, 20),
    size=st.sampled_from(ALLOWED_SUBCHANNEL_SIZES_PRB),
)
def test_subchannels_properties(payload_bytes: int, mcs: int, size: int) -> None:
    assume(TBS_TABLE_BITS[itbs_for_mcs(mcs), -1] > 8 * payload_bytes)  # fits in 100 PRB
    n_pssch = pssch_prbs_for_payload(payload_bytes, mcs)
    plain = subchannels_for_payload(payload_bytes, mcs, size, dft_sizes=False)
    dft = subchannels_for_payload(payload_bytes, mcs, size)
    assert plain == math.ceil((n_pssch + 2) / size)
    assert dft >= plain
    # The DFT-rule allocation holds the PSSCH in a valid DFT width; one subchannel fewer does not.
    assert any(is_dft_size(m) for m in range(n_pssch, dft * size - 2 + 1))
    if dft > plain:
        assert not any(is_dft_size(m) for m in range(n_pssch, (dft - 1) * size - 2 + 1))


# --- TBS table --------------------------------------------------------------------------------


def test_tbs_table_shape_and_immutability() -> None:
    assert TBS_TABLE_BITS.shape == (N_ITBS, MAX_N_PRB) == (27, 100)
    assert TBS_TABLE_BITS.dtype == np.int64
    assert not TBS_TABLE_BITS.flags.writeable
    assert np.all(TBS_TABLE_BITS % 8 == 0)  # every TBS is a whole number of bytes
    assert TBS_TABLE_BITS.min() == 16 and TBS_TABLE_BITS.max() == 75376


@pytest.mark.parametrize(("key", "bits"), sorted(SPEC_TBS_BITS.items()))
def test_tbs_known_spec_entries(key: tuple[int, int], bits: int) -> None:
    itbs, n_prb = key
    assert tbs_bits(itbs, n_prb) == bits
    assert TBS_TABLE_BITS[itbs, n_prb - 1] == bits


def test_tbs_itbs6_misprint_corrected() -> None:
    # Spec prints 328, 176, 256 and WiLab 176, 256, 328; we store 88, 176, 256 (see phy.py).
    assert [tbs_bits(6, n) for n in (1, 2, 3, 4)] == [88, 176, 256, 392]


def test_tbs_table_monotone_everywhere() -> None:
    assert np.all(np.diff(TBS_TABLE_BITS, axis=1) >= 0)
    assert np.all(np.diff(TBS_TABLE_BITS, axis=0) >= 0)


@settings(max_examples=500, deadline=None)
@given(
    itbs=st.integers(0, N_ITBS - 1),
    n_prb=st.integers(1, MAX_N_PRB),
    d_itbs=st.integers(0, N_ITBS - 1),
    d_prb=st.integers(0, MAX_N_PRB - 1),
)
def test_tbs_monotone_property(itbs: int, n_prb: int, d_itbs: int, d_prb: int) -> None:
    itbs2 = min(itbs + d_itbs, N_ITBS - 1)
    n_prb2 = min(n_prb + d_prb, MAX_N_PRB)
    assert tbs_bits(itbs, n_prb) <= tbs_bits(itbs, n_prb2)
    assert tbs_bits(itbs, n_prb) <= tbs_bits(itbs2, n_prb)
    assert tbs_bits(itbs, n_prb) <= tbs_bits(itbs2, n_prb2)


@settings(max_examples=300, deadline=None)
@given(payload_bytes=st.integers(1, 9421), mcs=st.integers(0, 28))
def test_pssch_prbs_is_smallest_strictly_greater(payload_bytes: int, mcs: int) -> None:
    bits = 8 * payload_bytes
    itbs = itbs_for_mcs(mcs)
    if TBS_TABLE_BITS[itbs, -1] <= bits:
        with pytest.raises(ValueError):
            pssch_prbs_for_payload(payload_bytes, mcs)
        return
    n = pssch_prbs_for_payload(payload_bytes, mcs)
    assert tbs_bits(itbs, n) > bits
    assert n == 1 or tbs_bits(itbs, n - 1) <= bits


def test_pssch_prbs_edges() -> None:
    assert pssch_prbs_for_payload(1, 0) == 1  # 8 bits < 16
    assert pssch_prbs_for_payload(2, 0) == 2  # 16 bits: TBS must be strictly greater
    assert pssch_prbs_for_payload(9421, 28) == 100  # 75368 bits < 75376
    with pytest.raises(ValueError):
        pssch_prbs_for_payload(9422, 28)  # 75376 bits: nothing strictly greater
    with pytest.raises(ValueError):
        pssch_prbs_for_payload(400, 0)  # 3200 bits > 3112 at 100 PRB
    with pytest.raises(ValueError):
        pssch_prbs_for_payload(0, 7)
    with pytest.raises(ValueError):
        pssch_prbs_for_payload(190, 29)


# --- MCS mapping ------------------------------------------------------------------------------


def test_itbs_and_modulation_for_every_mcs() -> None:
    expected_itbs = list(range(11)) + list(range(10, 20)) + list(range(19, 27))
    assert [itbs_for_mcs(m) for m in range(29)] == expected_itbs
    assert [modulation_order_for_mcs(m) for m in range(29)] == [2] * 11 + [4] * 10 + [6] * 8
    assert itbs_for_mcs(np.int64(7)) == 7


@pytest.mark.parametrize("fn", [itbs_for_mcs, modulation_order_for_mcs])
def test_mcs_errors(fn: Callable[[int], int]) -> None:
    for bad in (-1, 29, 100):
        with pytest.raises(ValueError):
            fn(bad)
    for bad in (7.0, "7", True):
        with pytest.raises(TypeError):
            fn(bad)


def test_tbs_bits_errors() -> None:
    for itbs, n_prb in ((-1, 1), (27, 1), (0, 0), (0, 101), (26, 110)):
        with pytest.raises(ValueError):
            tbs_bits(itbs, n_prb)
    with pytest.raises(TypeError):
        tbs_bits(1.5, 10)


# --- gamma_min --------------------------------------------------------------------------------


def test_gamma_min_vectorised_and_bandwidth_invariant() -> None:
    prb = np.array([27, 18, 15, 13, 10, 9, 6, 5])
    vec = gamma_min_db(190, prb)
    assert vec.shape == prb.shape
    assert np.all(np.diff(vec) > 0)  # fewer PRBs -> higher spectral efficiency -> higher threshold
    for i, n in enumerate(prb):
        assert vec[i] == pytest.approx(float(gamma_min_db(190, int(n))))
    # eta uses bits * N_PRB,channel / B: 50/10 MHz and 100/20 MHz give the same threshold.
    np.testing.assert_allclose(gamma_min_db(190, prb, bandwidth_mhz=20.0), vec)
    np.testing.assert_allclose(gamma_min_db(190, prb, bandwidth_mhz=5), vec)
    # A larger implementation-loss factor lowers the threshold.
    assert float(gamma_min_db(190, 13, implementation_loss=0.5)) < float(gamma_min_db(190, 13))


def test_gamma_min_errors() -> None:
    for kwargs in (
        {"payload_bytes": 0, "n_prb_pssch": 13},
        {"payload_bytes": 190, "n_prb_pssch": 0},
        {"payload_bytes": 190, "n_prb_pssch": 13, "bandwidth_mhz": 15.0},
        {"payload_bytes": 190, "n_prb_pssch": 13, "implementation_loss": 0.0},
    ):
        with pytest.raises(ValueError):
            gamma_min_db(**kwargs)


# --- bandwidth, resource pool, noise ------------------------------------------------------------


def test_n_prb_for_bandwidth() -> None:
    assert n_prb_for_bandwidth_mhz(5) == 25
    assert n_prb_for_bandwidth_mhz(10) == 50
    assert n_prb_for_bandwidth_mhz(10.0) == 50
    assert n_prb_for_bandwidth_mhz(20) == 100
    for bad in (1.4, 3, 15, 0, -10, None):
        with pytest.raises(ValueError):
            n_prb_for_bandwidth_mhz(bad)


def test_resource_grid() -> None:
    assert resource_grid(10, 10) == 5  # §2.1 worked example
    assert resource_grid(20, 10) == 10
    assert resource_grid(10, 12) == 4
    assert resource_grid(10, 50) == 1
    assert resource_grid(20, 100) == 1
    with pytest.raises(ValueError):
        resource_grid(10, 75)
    with pytest.raises(ValueError):
        resource_grid(10, 0)
    with pytest.raises(ValueError):
        resource_grid(15, 10)


def test_pool_constants() -> None:
    assert ALLOWED_SUBCHANNEL_SIZES_PRB == (
        4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 25, 30, 48, 50, 72, 75, 96, 100,
    )
    assert ALLOWED_NUM_SUBCHANNELS == (1, 3, 5, 8, 10, 15, 20)
    # WiLab's adjacent and non-adjacent size lists (§2.1) are subsets of the allowed set.
    assert {5, 6, 10, 15, 20, 25, 50, 75, 100} <= set(ALLOWED_SUBCHANNEL_SIZES_PRB)
    assert {4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 30, 48, 72, 96} <= set(
        ALLOWED_SUBCHANNEL_SIZES_PRB
    )


def test_is_dft_size() -> None:
    valid = [n for n in range(1, 101) if is_dft_size(n)]
    assert valid[:12] == [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16]
    assert 100 in valid and 96 in valid and 75 in valid
    for n in (0, -4, 7, 13, 14, 28, 49, 98):
        assert not is_dft_size(n)


def test_noise_power() -> None:
    assert PRB_BANDWIDTH_HZ == 180e3
    assert THERMAL_NOISE_DBM_PER_HZ == -174.0
    assert float(noise_power_dbm(1, 9.0)) == pytest.approx(-112.4, abs=0.05)  # §1.2
    assert float(noise_power_dbm(50, 9.0)) == pytest.approx(-95.46, abs=0.01)
    assert float(noise_power_dbm_bandwidth(10e6, 9.0)) == pytest.approx(-95.0, abs=1e-9)  # §1.2
    assert float(noise_power_dbm(1, 6.0)) == pytest.approx(-115.45, abs=0.01)
    # N PRB: -112.4 + 10 log10(N), vectorised over PRBs and noise figures.
    n = np.array([1, 2, 10, 50, 100])
    np.testing.assert_allclose(
        noise_power_dbm(n, 9.0), float(noise_power_dbm(1, 9.0)) + 10 * np.log10(n)
    )
    np.testing.assert_allclose(
        noise_power_dbm(10, np.array([6.0, 9.0])),
        float(noise_power_dbm(10, 6.0)) + np.array([0.0, 3.0]),
    )
    with pytest.raises(ValueError):
        noise_power_dbm(0, 9.0)
    with pytest.raises(ValueError):
        noise_power_dbm_bandwidth(-1.0, 9.0)


# --- dBm / mW ---------------------------------------------------------------------------------


def test_dbm_mw_values() -> None:
    assert float(dbm_to_mw(0.0)) == 1.0
    assert float(dbm_to_mw(23.0)) == pytest.approx(199.526, rel=1e-5)
    assert float(dbm_to_mw(-np.inf)) == 0.0
    assert float(mw_to_dbm(1000.0)) == pytest.approx(30.0)
    np.testing.assert_allclose(dbm_to_mw([-10.0, 0.0, 10.0]), [0.1, 1.0, 10.0])
    assert isinstance(mw_to_dbm(1.0), np.float64)  # a numpy scalar for scalar input
    assert mw_to_dbm(np.ones((2, 3))).shape == (2, 3)


def test_mw_to_dbm_zero_is_minus_inf_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(mw_to_dbm(0.0)) == -np.inf
        out = mw_to_dbm(np.array([0.0, 1.0, 100.0]))
    np.testing.assert_array_equal(out, [-np.inf, 0.0, 20.0])
    with pytest.raises(ValueError):
        mw_to_dbm(-1.0)
    with pytest.raises(ValueError):
        mw_to_dbm([1.0, -1e-12])


@settings(max_examples=200, deadline=None)
@given(st.floats(-200.0, 60.0, allow_nan=False))
def test_dbm_mw_round_trip(power_dbm: float) -> None:
    assert float(mw_to_dbm(dbm_to_mw(power_dbm))) == pytest.approx(power_dbm, abs=1e-9)
