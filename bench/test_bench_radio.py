"""The radio step at N = 1,000 on the expressway: vectorized kernel vs the scalar reference.

All run on the same input; the reference is timed on a single subframe of the batch (it is too
slow for the whole 100 ms), and the comparison is in link evaluations per second (the reference's
speed is measured once per session by the `reference_speed` fixture).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.conftest import one_subframe
from sim.radio.reference import reference_links
from sim.radio.sidelink import evaluate_batch

pytestmark = pytest.mark.benchmark


@pytest.mark.parametrize("kernel_name", ["numba", "numpy"])
def test_radio_step_vectorized_n1000(benchmark, batch_1000, reference_speed,
                                     kernel_name: str) -> None:  # type: ignore[no-untyped-def]
    nodes, tx, cfg = batch_1000
    cfg = dataclasses.replace(cfg, kernel=kernel_name)
    evaluate_batch(nodes, tx, 0, 100, cfg)  # numba: load the compiled kernel before timing
    result = benchmark(evaluate_batch, nodes, tx, 0, 100, cfg)
    links = len(result.links.tx)
    speed = links / benchmark.stats.stats.mean
    benchmark.extra_info["links_per_batch"] = links
    benchmark.extra_info["links_per_s"] = speed
    benchmark.extra_info["real_time_factor_radio_only"] = 0.1 / benchmark.stats.stats.mean
    benchmark.extra_info["speedup_over_scalar_reference"] = speed / reference_speed
    assert links > 100_000


def test_radio_step_scalar_reference_n1000_one_subframe(benchmark, batch_1000) -> None:  # type: ignore[no-untyped-def]
    nodes, tx, cfg = batch_1000
    busiest = int(np.bincount(tx.subframe_ms).argmax())
    one = one_subframe(tx, busiest)
    links = benchmark.pedantic(reference_links, args=(nodes, one, 0, 100, cfg), rounds=1,
                               iterations=1)
    benchmark.extra_info["links_per_batch"] = len(links)
    benchmark.extra_info["links_per_s"] = len(links) / benchmark.stats.stats.mean
    fast = evaluate_batch(nodes, one, 0, 100, cfg)
    assert len(fast.links.tx) == len(links)


def test_sps_reselection_100_ues(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Steps 1-6 of Mode 4 selection for 100 UEs at once, with a full 1 s sensing memory."""
    from sim.radio.sps import SpsParams, SpsScheduler

    rng = np.random.default_rng(0)
    sps = SpsScheduler(SpsParams(n_subchannels=5), np.random.default_rng(1), capacity=1000)
    slots = sps.sync(np.arange(1000))
    # Sensing memory as after 1 s on a busy road: an SCI in most cells, S-RSSI everywhere.
    n = 40_000
    sps.record_sci(rng.integers(0, 1000, n), rng.integers(1000, 2000, n), rng.integers(0, 4, n),
                   np.full(n, 2), rng.uniform(-125, -70, n))
    sps.record_rssi(slots, 1900, rng.uniform(1e-12, 1e-8, (100, 5, 1000)), np.zeros((100, 1000), bool))
    ues = np.arange(0, 1000, 10)
    sf, x = benchmark(sps.select, ues, np.full(100, 2000), np.full(100, 2))
    benchmark.extra_info["reselections_per_s"] = 100 / benchmark.stats.stats.mean
    assert np.all((sf > 2000) & (sf <= 2100)) and np.all(x % 2 == 0)
