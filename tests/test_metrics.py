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
    from tests.helpers.scenarios import tiny_scenario

    path = tiny_scenario(tmp_path, radio={"link_range_m": 200.0})
    prr = run_scenario(load_scenario(str(path)), tmp_path / "run").summary["messages"]["prr"]
    assert prr["range_limit_m"] == 200.0
    assert prr["range_at_0.9_m"] is not None and prr["range_at_0.9_m"] <= 200.0
    assert prr["at_300m"] is None


def test_pir_forgets_pairs_silent_for_its_horizon() -> None:
    """A pair whose last reception is PIR_MAX_MS older than the newest one starts afresh (no gap),
    also after its entry was pruned from the table, and an active pair keeps its history."""
    from sim.metrics.radio_recorder import PIR_MAX_MS

    rec = RadioRecorder(20.0, 500.0, 0, [100.0])
    rec._record_pir(np.array([1, 5]), np.array([2, 6]), np.array([100, 100]))
    for k in range(1, 5):  # pair 5 -> 6 keeps receiving; 1 -> 2 falls silent
        t = 100 + k * PIR_MAX_MS // 4
        rec._record_pir(np.array([5]), np.array([6]), np.array([t]))
    assert rec.pir_hist[PIR_MAX_MS // 4] == 4
    rec._record_pir(np.array([1, 5]), np.array([2, 6]), np.array([PIR_MAX_MS + 200] * 2))
    assert rec.pir_hist.sum() == 5  # 5 -> 6 got its fifth gap; 1 -> 2 was forgotten
    rec._record_pir(np.array([1]), np.array([2]), np.array([PIR_MAX_MS + 300]))
    assert rec.pir_hist[100] == 2  # 1 -> 2 counts again from its fresh reception


def test_numba_tally_matches_numpy_columns() -> None:
    """The recorder's numba pass adds exactly what the numpy version adds (random links), also
    when the links are tallied in two ranges into separate histograms and summed (threads)."""
    from sim.metrics import recorder_kernel

    rng = np.random.default_rng(4)
    n_links, n_tx, n_nodes, n_bins = 5000, 300, 400, 25
    sf = rng.integers(0, 100, n_tx)
    cols = (rng.integers(0, n_tx, n_links), rng.integers(0, n_nodes, n_links),
            rng.uniform(0, 700, n_links), rng.integers(0, 5, n_links).astype(np.int8),
            rng.random(n_tx) < 0.8, rng.random(n_nodes) < 0.9, sf, sf - rng.uniform(0, 150, n_tx),
            20.0)

    def zeros():  # type: ignore[no-untyped-def]
        return (np.zeros((5, n_bins), np.int64), np.zeros(n_bins, np.int64),
                np.zeros(n_bins, np.int64), np.zeros(n_bins, np.int64), np.zeros(20000, np.int64))

    out = []
    for tally, ranges in ((recorder_kernel.tally_links, [(0, n_links)]),
                          (recorder_kernel.tally_numpy, [(0, n_links)]),
                          (recorder_kernel.tally_links, [(0, 1234), (1234, n_links)])):
        acc = zeros()
        near = np.empty(n_links, bool)
        received = 0
        for lo, hi in ranges:
            own = zeros()
            received += tally(lo, hi, *cols, *own, 0.01, 100.0, near)
            for a, o in zip(acc, own):
                a += o
        out.append((received, near, acc))
    for other in out[1:]:
        assert out[0][0] == other[0] > 0
        assert np.array_equal(out[0][1], other[1]) and out[0][1].any()
        for a, b in zip(out[0][2], other[2]):
            assert np.array_equal(a, b)


def test_pir_counts_receptions_just_beyond_its_range_as_heard() -> None:
    """A gap counts when both of its receptions are within 100 m; a reception at 103 m ends the
    previous gap (the pair heard each other) without one being counted."""
    rec = RadioRecorder(20.0, 500.0, 0, [100.0])
    rec._record_pir(np.array([1]), np.array([2]), np.array([100]), np.array([True]))
    rec._record_pir(np.array([1, 1]), np.array([2, 2]), np.array([200, 300]),
                    np.array([False, False]))  # heard at 103 m: no gap recorded, time kept
    rec._record_pir(np.array([1]), np.array([2]), np.array([400]), np.array([True]))
    assert rec.pir_hist.sum() == 0  # 300 (at 103 m) -> 400: not both within 100 m
    rec._record_pir(np.array([1, 1]), np.array([2, 2]), np.array([450, 460]),
                    np.array([True, False]))
    gaps = np.repeat(np.arange(rec.pir_hist.size), rec.pir_hist)
    assert gaps.tolist() == [50]  # 400 -> 450 counted; 450 -> 460 (the latter at 103 m) not


def test_pir_forgets_a_stale_pair_among_active_ones() -> None:
    """With many active pairs the stale entry stays in the table (no prune yet): the horizon
    alone must make its next reception start afresh."""
    from sim.metrics.radio_recorder import PIR_MAX_MS

    rec = RadioRecorder(20.0, 500.0, 0, [100.0])
    active = np.arange(10, 20)
    rec._record_pir(np.r_[1, active], np.r_[2, active + 100], np.full(11, 100))
    for k in range(1, 6):  # ten pairs keep receiving every PIR_MAX_MS / 4; pair 1 -> 2 is silent
        rec._record_pir(active, active + 100, np.full(10, 100 + k * PIR_MAX_MS // 4))
    assert 1 << 32 | 2 in rec._pir_key.tolist()  # still stored, but beyond the horizon
    before = int(rec.pir_hist.sum())
    rec._record_pir(np.array([1]), np.array([2]), np.array([100 + 5 * PIR_MAX_MS // 4 + 50]))
    assert rec.pir_hist.sum() == before  # forgotten: no gap of PIR_MAX_MS recorded
