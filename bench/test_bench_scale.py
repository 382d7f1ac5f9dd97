"""Full SPS + SINR radio on the expressway geometry at N = 1,000 / 5,000 / 10,000 vehicles.

Each round simulates 1 s of sidelink (50 batches of 20 ms, BSMs at 10 Hz, Mode 4 SPS with
sensing) for N equipped vehicles spread over both carriageways of the airport expressway, moving
at constant speed. Reported per size: real-time factor, link evaluations per second and the peak
memory the radio allocates (tracemalloc sees numpy's buffers).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from bench.conftest import place_on_expressway
from vehicles.table import VehicleTable

pytestmark = pytest.mark.benchmark


def expressway_fleet(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    world, rng, _, _, _, x, y, h = place_on_expressway(n, seed, ["rsus.geojson=null"])
    t = VehicleTable()
    t.append(n, equipped=True, x_m=x, y_m=y, heading_rad=h, v_mps=rng.uniform(20, 33, n),
             bsm_phase_ms=rng.integers(0, 100, n), spawn_ms=-10_000)
    return world, t


def run_radio(world, table, seconds: float = 1.0) -> int:  # type: ignore[no-untyped-def]
    links = 0
    for t0 in range(0, int(seconds * 1000), world.radio_batch_ms):
        b = world.medium.batch(t0, world.radio_batch_ms, table, world.rsus, state_ms=0)
        links += len(b.result.links.tx)
    return links


@pytest.mark.parametrize("n", [1_000, 5_000, 10_000])
def test_sps_radio_scale(benchmark, n: int) -> None:  # type: ignore[no-untyped-def]
    world, table = expressway_fleet(n)
    run_radio(world, table, 1.0)  # warm-up: the SPS sensing memory fills, reservations settle
    tracemalloc.start()
    t = time.perf_counter()
    links = run_radio(world, table, 1.0)
    wall = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    benchmark.pedantic(run_radio, args=(world, table, 1.0), rounds=2, iterations=1)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        vehicles=n, links_per_s_sim=links, links_per_s_wall=round(links / mean),
        real_time_factor=round(1.0 / mean, 3), peak_traced_mb=round(peak / 2**20, 1),
        first_round_wall_s=round(wall, 3),
    )
    assert links > 0
