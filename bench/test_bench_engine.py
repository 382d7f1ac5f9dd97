"""Engine benchmarks: the mobility step at ~1,000 and ~10,000 vehicles, ticks per second of short
runs, and trace writing throughput for 10,000-vehicle state frames.

Sized configurations on the real expressway geometry (2 x 4 lanes, ~19 km, so ~155 lane-km):
the vehicle count is set through the initial density, with a matching inflow so the count stays
about level while a benchmark steps the same world many times. At high density the initial
placement drops vehicles that would overlap, so ~10,000 vehicles need 74 veh/km/lane, not 65.
The numbers a reader wants (vehicle-steps/s, ticks/s, MB/s) are in `benchmark.extra_info`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.core.engine import Engine
from sim.core.world import World
from sim.io.trace import TraceWriter
from sim.scenario.build import build_world
from sim.scenario.loader import LoadedScenario, load_scenario

pytestmark = pytest.mark.benchmark

#: Initial density (veh/km/lane) placing about this many vehicles on the expressway at t = 0.
DENSITY_FOR = {1_000: 6.5, 10_000: 74.0}


def expressway_world(vehicles: int, *extra: str) -> World:
    """The airport expressway built with ~`vehicles` placed at t = 0 (no RSUs)."""
    return build_world(expressway_scenario(vehicles, *extra))


def expressway_scenario(vehicles: int, *extra: str) -> LoadedScenario:
    """The scenario of `expressway_world`, loaded (built afresh by each engine benchmark round)."""
    density = DENSITY_FOR[vehicles]
    flow = min(3000.0, density * 100.0)  # ~ density x 100 km/h keeps the count level
    overrides = ["rsus.geojson=null"] + [
        f"routes.{r}.{key}={value:g}" for r in (0, 1)
        for key, value in (("initial_density_veh_km_per_lane", density),
                           ("flow_veh_h_per_lane", flow))
    ]
    return load_scenario("airport-expressway", overrides + list(extra))


def _mean_s(benchmark: Any) -> float | None:
    stats = getattr(benchmark, "stats", None)
    return stats.stats.mean if stats is not None else None


@pytest.mark.parametrize("vehicles", [1_000, 10_000], ids=["n1000", "n10000"])
def test_mobility_step(benchmark: Any, vehicles: int) -> None:
    world = expressway_world(vehicles)
    mob = world.mobility
    mob.place_initial()
    mob.update_positions()
    clock = {"now_ms": 0}

    def step() -> None:
        clock["now_ms"] += world.step_ms
        mob.step(clock["now_ms"])

    for _ in range(5):  # past the first reaction delays
        step()
    alive_before = len(mob.table)
    benchmark.pedantic(step, rounds=60 if vehicles <= 1000 else 30, iterations=1,
                       warmup_rounds=2)
    alive = (alive_before + len(mob.table)) / 2
    mean = _mean_s(benchmark)
    benchmark.extra_info["vehicles"] = round(alive)
    if mean:
        benchmark.extra_info["step_ms"] = round(mean * 1e3, 3)
        benchmark.extra_info["vehicle_steps_per_s"] = round(alive / mean)
        benchmark.extra_info["us_per_vehicle_step"] = round(mean / alive * 1e6, 3)
        rtf = world.step_ms / 1e3 / mean
        benchmark.extra_info["real_time_factor_mobility_only"] = round(rtf, 1)
    assert 0.9 * vehicles <= alive <= 1.1 * vehicles


@pytest.mark.parametrize(
    "label, vehicles, until_ms, extra",
    [
        pytest.param("no_radio_n1000", 1_000, 10_000, ("fleet.v2x_penetration=0",),
                     id="no_radio_n1000"),
        pytest.param("radio_n1000_60pct", 1_000, 3_000, (), id="radio_n1000_60pct"),
    ],
)
def test_engine_ticks(benchmark: Any, label: str, vehicles: int, until_ms: int,
                      extra: tuple[str, ...]) -> None:
    """A short run from a fresh world each round; ticks/s = simulated steps per wall second.

    Without equipped vehicles the tick is simpy + mobility + observers' bookkeeping; with 60 %
    equipped it includes the batched radio step, which dominates."""
    loaded = expressway_scenario(vehicles, *extra)
    results: list[Any] = []

    def setup() -> tuple[tuple[Engine], dict[str, Any]]:
        return (Engine(build_world(loaded)),), {}

    def run(engine: Engine) -> None:
        results.append(engine.run(until_ms=until_ms))

    benchmark.pedantic(run, setup=setup, rounds=3, iterations=1)
    ticks = results[-1].ticks
    mean = _mean_s(benchmark)
    benchmark.extra_info["ticks_per_run"] = ticks
    benchmark.extra_info["simulated_s"] = until_ms / 1000
    if mean:
        benchmark.extra_info["ticks_per_s"] = round(ticks / mean, 1)
        benchmark.extra_info["real_time_factor"] = round(until_ms / 1000 / mean, 2)
    assert ticks >= until_ms // round(loaded.spec.step_s * 1000)


def _state_columns(world: World) -> dict[str, np.ndarray]:
    """Exactly the columns `TraceObserver.on_step` writes per state frame."""
    t = world.mobility.table
    f32 = np.float32
    return {
        "vehicle_id": t["id"], "cls": t["cls"], "automation": t["automation"],
        "equipped": t["equipped"], "route": t["route"], "lane": t["lane"],
        "x_m": t["x_m"].astype(f32), "y_m": t["y_m"].astype(f32),
        "heading_rad": t["heading_rad"].astype(f32), "v_mps": t["v_mps"].astype(f32),
        "a_mps2": t["a_mps2"].astype(f32),
    }


def test_trace_write_state_frames_n10000(benchmark: Any, tmp_path: Path) -> None:
    world = expressway_world(10_000)
    world.mobility.place_initial()
    world.mobility.update_positions()
    cols = _state_columns(world)
    n_vehicles = len(cols["vehicle_id"])
    frames = 50
    written: list[int] = []
    counter = {"i": 0}

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        counter["i"] += 1
        return (tmp_path / f"trace-{counter['i']}.msgpack",), {}

    def write(path: Path) -> None:
        with TraceWriter(path, {"bench": "state frames"}) as w:
            for k in range(frames):
                w.write("state", k * 0.1, **cols)
        written.append(path.stat().st_size)
        path.unlink()

    benchmark.pedantic(write, setup=setup, rounds=5, iterations=1)
    mean = _mean_s(benchmark)
    mb = written[-1] / 1e6
    benchmark.extra_info["vehicles_per_frame"] = n_vehicles
    benchmark.extra_info["frames"] = frames
    benchmark.extra_info["mb_per_frame"] = round(mb / frames, 3)
    if mean:
        benchmark.extra_info["mb_per_s"] = round(mb / mean, 1)
        benchmark.extra_info["frames_per_s"] = round(frames / mean, 1)
    assert 9_000 <= n_vehicles <= 11_000
