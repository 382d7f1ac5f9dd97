"""Streaming KPIs: packet inter-reception time, quantiles, ranges."""

from __future__ import annotations

import numpy as np

from sim.metrics.kpi import quantile_from_hist, range_at_prr
from sim.metrics.radio_recorder import RadioRecorder


def test_pir_is_the_gap_between_consecutive_receptions_of_a_pair() -> None:
    rec = RadioRecorder(20.0, 500.0, 0, [100.0])
    # Pair (1 -> 2) hears at 100, 200 (batch 1) and 450 (batch 2); pair (3 -> 2) at 120 and 220.
    rec._record_pir(np.array([1, 1, 3, 3]), np.array([2, 2, 2, 2]), np.array([100, 200, 120, 220]))
    rec._record_pir(np.array([1]), np.array([2]), np.array([450]))
    gaps = np.repeat(np.arange(rec.pir_hist.size), rec.pir_hist)
    assert sorted(gaps.tolist()) == [100, 100, 250]
    # Reversed direction is another pair: no gap yet.
    rec._record_pir(np.array([2]), np.array([1]), np.array([500]))
    assert rec.pir_hist.sum() == 3


def test_quantiles_and_ranges() -> None:
    hist = np.zeros(200, dtype=np.int64)
    hist[[10, 50, 100]] = [50, 40, 10]
    assert quantile_from_hist(hist, 1.0, 0.5) == 10.0
    assert quantile_from_hist(hist, 1.0, 0.95) == 100.0
    samples = np.array([10, 10, 10, 10])
    assert range_at_prr(0.9, 20.0, np.array([10, 10, 8, 10]), samples) == 40.0
    assert range_at_prr(0.9, 20.0, samples, samples) == 80.0  # never below: the limit
    assert range_at_prr(0.9, 20.0, samples * 0, samples * 0) is None
    # An empty bin (no pair that close) is no failure: the range runs on past it.
    gap = np.array([0, 10, 10, 10])
    assert range_at_prr(0.9, 20.0, gap, gap) == 80.0
    assert range_at_prr(0.9, 20.0, np.array([0, 10, 5, 10]), gap) == 40.0
    # Nothing measured past 40 m (e.g. beyond radio.link_range_m): the range is no longer.
    short = np.array([10, 10, 0, 0])
    assert range_at_prr(0.9, 20.0, short, short) == 40.0


def test_link_range_bounds_the_reported_prr_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With radio.link_range_m, nothing is measured beyond it: the PRR range ends there and is
    reported as a lower bound (range_limit_m), not as a fall below the level."""
    from sim.runner import run_scenario
    from sim.scenario.loader import load_scenario
    from tests.conftest import tiny_scenario

    path = tiny_scenario(tmp_path, radio={"link_range_m": 200.0})
    prr = run_scenario(load_scenario(str(path)), tmp_path / "run").summary["messages"]["prr"]
    assert prr["range_limit_m"] == 200.0
    assert prr["range_at_0.9_m"] is not None and prr["range_at_0.9_m"] <= 200.0
    assert prr["at_300m"] is None
