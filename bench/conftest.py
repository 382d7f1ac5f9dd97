"""Benchmarks: sized configurations on the real expressway geometry (run with `make bench`)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import numpy as np
import pytest

from sim.radio.medium import SidelinkMedium
from sim.radio.reference import reference_links
from sim.radio.sidelink import Nodes, Transmissions
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario

#: Rows of the scale benchmark, printed as one table at the end of the session.
RESULTS: list[dict[str, object]] = []


def place_on_expressway(n: int, seed: int = 0, overrides: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The expressway world and n random (route, s, lane) placements with their x, y, heading."""
    world = build_world(load_scenario("airport-expressway", overrides or []))
    rng = np.random.default_rng(seed)
    geo = world.geometry
    route = rng.integers(0, len(geo.routes), n)
    s = rng.uniform(0, geo.length_m[route])
    lane = rng.integers(0, geo.lanes[route])
    x, y, h = geo.positions(route, s, lane)
    return world, rng, route, s, lane, x, y, h


def expressway_batch(n_vehicles: int, seed: int = 0, n_subframes: int = 100):  # type: ignore[no-untyped-def]
    """N equipped vehicles spread over both directions of the airport expressway, and one 100 ms
    batch of their BSMs (10 Hz, random phases, random resources): the radio step's real input."""
    world, rng, _, _, _, x, y, h = place_on_expressway(n_vehicles, seed, ["rsus.geojson=null"])
    speed = rng.uniform(20, 33, n_vehicles)
    medium: SidelinkMedium = world.medium
    nodes = Nodes(
        key=np.arange(n_vehicles, dtype=np.uint64), xy_m=np.column_stack([x, y]),
        vel_mps=np.column_stack([speed * np.cos(h), speed * np.sin(h)]),
        height_m=np.full(n_vehicles, 1.5), tx_power_dbm=np.full(n_vehicles, 23.0),
        gain_dbi=np.full(n_vehicles, 3.0), noise_figure_db=np.full(n_vehicles, 9.0),
        is_vehicle=np.ones(n_vehicles, bool),
    )
    sf = np.sort(rng.integers(0, n_subframes, n_vehicles))
    nsub = np.full(n_vehicles, medium.bsm_subchannels)
    tx = Transmissions(
        node=rng.permutation(n_vehicles), subframe_ms=sf,
        subch_start=rng.integers(0, medium.cfg.n_subchannels - nsub + 1), n_subch=nsub,
        packet_id=np.arange(n_vehicles, dtype=np.uint64), gen_ms=sf - rng.uniform(1, 100, n_vehicles),
    )
    return nodes, tx, medium.cfg


def one_subframe(tx: Transmissions, sf: int) -> Transmissions:
    m = tx.subframe_ms == sf
    return Transmissions(tx.node[m], tx.subframe_ms[m], tx.subch_start[m], tx.n_subch[m],
                         tx.packet_id[m], tx.gen_ms[m])


@pytest.fixture(scope="session")
def batch_1000():  # type: ignore[no-untyped-def]
    return expressway_batch(1000)


@pytest.fixture(scope="session")
def reference_speed(batch_1000) -> float:  # type: ignore[no-untyped-def]
    """Link evaluations per second of the scalar reference, on the busiest subframe at N = 1,000
    (it is too slow for a whole batch); the baseline of every speedup reported in this session."""
    nodes, tx, cfg = batch_1000
    one = one_subframe(tx, int(np.bincount(tx.subframe_ms).argmax()))
    t = time.perf_counter()
    links = reference_links(nodes, one, 0, 100, cfg)
    return len(links) / (time.perf_counter() - t)


def reset_peak_rss() -> None:
    """Resets the kernel's peak-RSS mark of this process (Linux clear_refs 5), if possible."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """Peak resident set size since the last reset (VmHWM), in MB; NaN off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    # The tests import this file as `bench.conftest`; pytest may load it under another name.
    import bench.conftest as tests_view

    rows = tests_view.RESULTS
    if not rows:
        return
    cols = ["vehicles", "kernel", "link_range_m", "threads", "links_per_s_wall", "real_time_factor",
            "real_time_factor_cpu", "peak_traced_mb",
            "peak_rss_mb", "speedup_over_scalar_reference"]
    terminalreporter.write_sep("=", "radio scale (1 simulated second, full SPS + SINR)")
    terminalreporter.write_line(" | ".join(cols))
    for row in rows:
        terminalreporter.write_line(" | ".join(str(row[c]) for c in cols))
