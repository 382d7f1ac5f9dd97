"""Full SPS + SINR radio on the expressway geometry at N = 1,000 / 5,000 / 10,000 vehicles.

Each round simulates 1 s of sidelink (50 batches of 20 ms, BSMs at 10 Hz, Mode 4 SPS with
sensing) for N equipped vehicles spread over both carriageways of the airport expressway, moving
at constant speed. Reported per size, radio kernel (numba fused kernel, numpy columns) and
thread count of the kernels: link evaluations per wall second, real-time factor (wall, and CPU
seconds of this process summed over its threads, which is steadier on a shared machine), peak
memory (tracemalloc: numpy buffers; and
the process's peak RSS over the measured second) and the speedup over the scalar reference
(`sim.radio.reference`, timed in the same session by `reference_speed`); "links" are the
links received one by one (with `radio.link_range_m` 500 the farther ones only interfere).
The numpy path at
10,000 takes ~1 min and ~1.2 GB per simulated second, so it is skipped there.
The table is printed at the end of `make bench` (bench/conftest.py).
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

from bench.conftest import RESULTS, peak_rss_mb, place_on_expressway, reset_peak_rss
from sim.radio import kernel, threads
from vehicles.obu import ObuFleet
from vehicles.table import VehicleTable

pytestmark = pytest.mark.benchmark


def expressway_fleet(n: int, seed: int = 0, kernel_name: str = "auto",  # type: ignore[no-untyped-def]
                     link_range_m: float | None = None):
    sets = ["rsus.geojson=null", f"radio.kernel={kernel_name}"]
    if link_range_m is not None:
        sets.append(f"radio.link_range_m={link_range_m}")
    world, rng, _, _, _, x, y, h = place_on_expressway(n, seed, sets)
    t = VehicleTable()
    t.append(n, equipped=True, x_m=x, y_m=y, heading_rad=h, v_mps=rng.uniform(20, 33, n),
             bsm_phase_ms=rng.integers(0, 100, n), spawn_ms=-10_000)
    return world, t


#: Simulated time reached per world, so that every call continues where the last one stopped (SPS
#: reservations and pending packets stay consistent from warm-up to measurement).
_CLOCK_MS: dict[int, int] = {}


def run_radio(world, table, seconds: float = 1.0) -> int:  # type: ignore[no-untyped-def]
    links = 0
    start = _CLOCK_MS.get(id(world), 0)
    end = start + int(seconds * 1000)
    world.medium.attach(ObuFleet(lambda: table, 4.0), world.rsus)
    for t0 in range(start, end, world.radio_batch_ms):
        b = world.medium.batch(t0, world.radio_batch_ms, state_ms=0)
        links += len(b.result.links.tx)
    _CLOCK_MS[id(world)] = end
    return links


@pytest.mark.parametrize("kernel_name, link_range_m, n_threads", [
    ("numba", None, 1), ("numba", None, 2), ("numba", 500.0, 1), ("numba", 500.0, 2),
    ("numpy", None, 1)])
@pytest.mark.parametrize("n", [1_000, 5_000, 10_000])
def test_sps_radio_scale(benchmark, reference_speed, n: int, kernel_name: str,  # type: ignore[no-untyped-def]
                         link_range_m: float | None, n_threads: int) -> None:
    """`link_range_m` 500: links beyond 500 m (of the 1500 m interference range) are one
    log-normal draw of interference each, not received (README: Benchmarks, fidelity).
    `n_threads`: the radio kernels' threads (`sim.radio.threads`; the default is every core)."""
    if kernel_name == "numba" and not kernel.HAVE_NUMBA:
        pytest.skip("numba not installed")
    if kernel_name == "numpy" and n > 5_000:
        pytest.skip("numpy path at 10,000: ~1 min and ~1.2 GB per simulated second")
    before = threads.threads()
    threads.set_threads(n_threads)
    try:
        _measure(benchmark, reference_speed, n, kernel_name, link_range_m, n_threads)
    finally:
        threads.set_threads(before)


def _measure(benchmark, reference_speed, n: int, kernel_name: str,  # type: ignore[no-untyped-def]
             link_range_m: float | None, n_threads: int) -> None:
    world, table = expressway_fleet(n, kernel_name=kernel_name, link_range_m=link_range_m)
    run_radio(world, table, 1.0)  # warm-up: the SPS sensing memory fills, reservations settle
    # Timed: wall and CPU seconds (the CPU figure is what this process got on a shared machine).
    cpu = time.process_time()
    links = benchmark.pedantic(run_radio, args=(world, table, 1.0), rounds=2 if n <= 1_000 else 1,
                               iterations=1)
    cpu_s = (time.process_time() - cpu) / (2 if n <= 1_000 else 1)
    wall_s = benchmark.stats.stats.mean
    # Memory, in a separate second (tracemalloc slows Python-side allocations).
    reset_peak_rss()
    tracemalloc.start()
    run_radio(world, table, 1.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = peak_rss_mb()
    row = dict(
        vehicles=n, kernel=kernel_name, link_range_m=link_range_m or "all", threads=n_threads,
        links_per_sim_s=links,
        links_per_s_wall=round(links / wall_s), real_time_factor=round(1.0 / wall_s, 3),
        real_time_factor_cpu=round(1.0 / cpu_s, 3), peak_traced_mb=round(peak / 2**20, 1),
        peak_rss_mb=round(rss, 1),
        speedup_over_scalar_reference=round(links / wall_s / reference_speed, 1),
    )
    benchmark.extra_info.update(row)
    RESULTS.append(row)
    assert links > 0
