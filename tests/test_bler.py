"""Tests for sim.radio.bler: GM-2019 / R1-160284 BLER curves and the SINR-threshold mode.

The reference points are those of get_BLER.m in github.com/msepulcre/C-V2X (docs/radio-model.md §2.5).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.radio.bler import BLER_CURVES, bler_from_sinr_db, threshold_success

CURVES = ("gm2019-coding1", "gm2019-coding2")

# (SINR dB, BLER) as listed in docs/radio-model.md §2.5 / get_BLER.m.
LISTED = {
    "gm2019-coding1": [(0, 1.0), (2, 0.9), (4, 0.7), (6, 0.4), (8, 0.13), (10, 0.045),
                       (12, 0.017), (14, 0.007), (16, 1e-3), (18, 1e-3), (20, 1e-3)],
    "gm2019-coding2": [(-2, 1.0), (0, 0.9), (2, 0.7), (4, 0.3), (6, 0.09), (8, 0.02),
                       (10, 0.002), (12, 1e-3), (16, 1e-3), (20, 1e-3)],
}

sinr_values = st.floats(min_value=-60.0, max_value=60.0, allow_nan=False)


@pytest.mark.parametrize("curve", CURVES)
def test_listed_points_reproduced_exactly(curve: str) -> None:
    sinr_db, bler = zip(*LISTED[curve])
    np.testing.assert_array_equal(bler_from_sinr_db(np.array(sinr_db, dtype=float), curve), bler)


@pytest.mark.parametrize("curve", CURVES)
def test_breakpoints_reproduced_exactly(curve: str) -> None:
    x, y = BLER_CURVES[curve]
    np.testing.assert_array_equal(bler_from_sinr_db(x, curve), y)
    assert x[0] == (0.0 if curve.endswith("1") else -2.0)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) <= 0)


@pytest.mark.parametrize("curve", CURVES)
def test_clamps_and_tail(curve: str) -> None:
    # BLER = 1 below the first point; 1e-3 up to 20 dB, 1e-4 above it (get_BLER.m, both codings).
    first = BLER_CURVES[curve][0][0]
    np.testing.assert_array_equal(
        bler_from_sinr_db([-np.inf, -100.0, first - 1.0, first], curve), [1.0, 1.0, 1.0, 1.0]
    )
    np.testing.assert_array_equal(
        bler_from_sinr_db([19.9, 20.0, 20.1, 25.0, 400.0, np.inf], curve),
        [1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-4],
    )


def test_interpolation_is_linear_in_bler_not_log() -> None:
    # Midpoints: get_BLER.m uses interp1(..., 'linear') on the BLER values themselves.
    np.testing.assert_allclose(bler_from_sinr_db([1.0, 7.0, 15.0], "gm2019-coding1"),
                               [0.95, 0.265, 0.004], rtol=0, atol=1e-15)
    np.testing.assert_allclose(bler_from_sinr_db([3.0, 11.0], "gm2019-coding2"),
                               [0.5, 0.0015], rtol=0, atol=1e-15)


def test_shapes_are_preserved() -> None:
    assert bler_from_sinr_db(5.0, "gm2019-coding1").shape == ()
    assert bler_from_sinr_db(np.zeros((3, 4)), "gm2019-coding2").shape == (3, 4)


def test_unknown_curve_lists_allowed_names() -> None:
    with pytest.raises(ValueError, match="gm2019-coding1.*gm2019-coding2"):
        bler_from_sinr_db(3.0, "mcs7")


def test_curves_are_read_only() -> None:
    with pytest.raises(TypeError):
        BLER_CURVES["x"] = (np.zeros(1), np.zeros(1))  # type: ignore[index]
    x, _ = BLER_CURVES["gm2019-coding1"]
    with pytest.raises(ValueError):
        x[0] = 5.0


@pytest.mark.parametrize("curve", CURVES)
@given(a=sinr_values, b=sinr_values)
def test_monotone_non_increasing(curve: str, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert bler_from_sinr_db(lo, curve) >= bler_from_sinr_db(hi, curve)


@pytest.mark.parametrize("curve", CURVES)
@given(sinr=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=20),
                       elements=st.floats(allow_nan=False, allow_infinity=True)))
def test_values_in_unit_interval(curve: str, sinr: np.ndarray) -> None:
    bler = bler_from_sinr_db(sinr, curve)
    assert bler.shape == sinr.shape
    assert np.all((bler >= 1e-4) & (bler <= 1.0))


def test_threshold_mode() -> None:
    ok = threshold_success([-1.0, 2.99, 3.0, 3.01, 20.0], 3.0)
    assert ok.dtype == np.bool_
    np.testing.assert_array_equal(ok, [False, False, True, True, True])
    # Per-link thresholds broadcast against the SINRs.
    np.testing.assert_array_equal(
        threshold_success(np.array([[1.0], [5.0]]), np.array([0.8, 3.0, 5.0])),
        [[True, False, False], [True, True, True]],
    )
    assert not threshold_success(np.nan, 3.0)


@given(sinr=sinr_values, gamma=sinr_values)
def test_threshold_mode_matches_comparison(sinr: float, gamma: float) -> None:
    assert bool(threshold_success(sinr, gamma)) == (sinr >= gamma)
