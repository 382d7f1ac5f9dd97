"""Path loss against the docs/radio-model.md §1.3 test vectors (fc = 5.9 GHz, GM at 5.91 GHz), ±0.1 dB."""

from __future__ import annotations

import numpy as np
import pytest

from sim.radio import pathloss as pl

D = np.array([10, 50, 100, 200, 300, 500, 1000.0])
VECTORS = {
    "gm2019_b1": [67.9, 81.8, 87.9, 95.6, 102.6, 111.5, 123.6],
    "wilab_b1": [65.1, 88.0, 100.1, 112.1, 119.1, 128.0, 140.1],
    "37885_highway_los": [67.8, 81.8, 87.8, 93.8, 97.4, 101.8, 107.8],
    "37885_urban_los": [69.5, 81.2, 86.2, 91.2, 94.2, 97.9, 102.9],
    "37885_urban_nlos": [81.4, 102.4, 111.4, 120.5, 125.7, 132.4, 141.4],
}


@pytest.mark.parametrize(
    "name,fn",
    [
        ("gm2019_b1", lambda d: pl.winner_b1_los_db(d, 5.91, 1.5, 1.5, free_space_floor=True)),
        ("wilab_b1", lambda d: pl.winner_b1_los_db(d, 5.9, 0.5, 0.5)),
        ("37885_highway_los", lambda d: pl.tr37885_highway_los_db(d, 5.9)),
        ("37885_urban_los", lambda d: pl.tr37885_urban_los_db(d, 5.9)),
        ("37885_urban_nlos", lambda d: pl.tr37885_urban_nlos_db(d, 5.9)),
    ],
)
def test_path_loss_matches_reference_vectors(name, fn) -> None:  # type: ignore[no-untyped-def]
    assert np.abs(fn(D) - np.array(VECTORS[name])).max() <= 0.1


def test_breakpoint_distances_of_the_two_b1_variants() -> None:
    assert pl.breakpoint_distance_m(0.5, 0.5, 5.9) == pytest.approx(19.7, abs=0.1)
    assert pl.breakpoint_distance_m(1.5, 1.5, 5.91) == pytest.approx(177.0, abs=0.5)


def test_short_distances_are_clamped_to_3_m() -> None:
    assert pl.tr37885_highway_los_db(0.0, 5.9) == pl.tr37885_highway_los_db(3.0, 5.9)


def test_b1_nlos_is_symmetric_in_the_street_order_and_above_los() -> None:
    a = pl.winner_b1_nlos_db(120.0, 60.0, 5.9)
    b = pl.winner_b1_nlos_db(60.0, 120.0, 5.9)
    assert a == pytest.approx(b)
    assert a > pl.winner_b1_los_db(np.hypot(120.0, 60.0), 5.9)


def test_los_probability_curves() -> None:
    assert pl.p_los_highway(0.0) == 1.0
    assert pl.p_los_highway(475.0) == pytest.approx(2.1013e-6 * 475**2 - 0.95 + 1.0193)
    assert pl.p_los_highway(1015.0) == pytest.approx(0.0)
    assert pl.p_los_urban(100.0) == pytest.approx(1.05 * np.exp(-1.14))
    d = np.linspace(0, 1000, 101)
    assert np.all(np.diff(pl.p_los_urban(d)) <= 0)


def test_nlosv_parameters_by_antenna_heights() -> None:
    mu, sigma = pl.nlosv_blockage_params_db(100.0, 1.5, 1.5, 1.6)  # both below the blocker
    assert mu == pytest.approx(9.0 + max(0.0, 15 * 2 - 41)) and sigma == 4.5
    mu, sigma = pl.nlosv_blockage_params_db(1000.0, 5.0, 1.5, 1.6)  # RSU above, car below
    assert mu == pytest.approx(5.0 + 15 * 3 - 41) and sigma == 4.0
    mu, sigma = pl.nlosv_blockage_params_db(100.0, 5.0, 5.0, 1.6)  # both above
    assert mu == 0.0 and sigma == 0.0
