"""Benchmarks: sized configurations on the real expressway geometry (run with `make bench`)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.radio.medium import SidelinkMedium
from sim.radio.sidelink import Nodes, Transmissions
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario


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


@pytest.fixture(scope="session")
def batch_1000():  # type: ignore[no-untyped-def]
    return expressway_batch(1000)
