"""Urban NLOS behind buildings: the geometric blocking test and the TR 37.885 NLOS loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.errors import ScenarioError
from sim.radio.buildings import NLOS_SHADOWING_DB, Buildings
from sim.radio.pathloss import tr37885_urban_nlos_db
from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers.scenarios import tiny_scenario

SQUARE = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])


def block() -> Buildings:
    return Buildings.from_polygons([SQUARE, SQUARE + 100.0], 5.9, key=7, coherence_ms=1000)


def test_segments_through_a_footprint_are_blocked_others_not() -> None:
    p = np.array([[-5.0, 5.0], [-5.0, 20.0], [-5.0, -4.0], [95.0, 105.0], [2.0, 3.0]])
    q = np.array([[15.0, 5.0], [15.0, 20.0], [15.0, 16.0], [115.0, 105.0], [-2.0, 3.0]])
    assert block().blocked(p, q).tolist() == [True, False, True, True, True]
    # Direction does not matter (reciprocity of the blocking test).
    assert block().blocked(q, p).tolist() == [True, False, True, True, True]


def test_blocked_links_take_the_urban_nlos_loss_reciprocally() -> None:
    b = block()
    p = np.array([[-5.0, 5.0], [-5.0, 20.0]])
    q = np.array([[15.0, 5.0], [15.0, 20.0]])
    los = np.array([70.0, 71.0])
    h = np.full(2, 1.5)
    ka, kb = np.array([1, 2], np.uint64), np.array([3, 4], np.uint64)
    sf = np.array([0, 0])
    out = b.apply(los, p, q, h, h, ka, kb, sf)
    assert out[1] == 71.0  # line of sight: untouched
    nlos = float(tr37885_urban_nlos_db(np.array([20.0]), 5.9)[0])
    assert abs(out[0] - nlos) < 5 * NLOS_SHADOWING_DB and out[0] != nlos
    assert b.apply(los, q, p, h, h, kb, ka, sf)[0] == out[0]  # reciprocal draw
    # 4 dB shadowing: over many links the spread matches.
    n = 4000
    pp, qq = np.tile(p[:1], (n, 1)), np.tile(q[:1], (n, 1))
    keys = np.arange(n, dtype=np.uint64)
    many = b.apply(np.zeros(n), pp, qq, np.full(n, 1.5), np.full(n, 1.5), keys, keys + n,
                   np.zeros(n, np.int64))
    assert np.mean(many) == pytest.approx(nlos, abs=0.3)
    assert np.std(many) == pytest.approx(NLOS_SHADOWING_DB, rel=0.08)


def test_nlos_scenario_loses_links_that_line_of_sight_keeps(tmp_path: Path) -> None:
    prr, far = {}, {}
    for nlos in ("true", "false"):
        loaded = load_scenario("auto-city-intersection-nlos",
                               [f"map.buildings_nlos={nlos}", "output.trace.states=false"])
        prr[nlos] = run_scenario(loaded, tmp_path / nlos).summary["messages"]["prr"]
        curve = np.genfromtxt(tmp_path / nlos / "prr_vs_distance.csv", delimiter=",", names=True)
        beyond = curve["distance_m"] >= 200.0  # behind the corner buildings
        far[nlos] = float((np.nan_to_num(curve["prr"][beyond]) * curve["samples"][beyond]).sum()
                          / curve["samples"][beyond].sum())
    # A few links, each keeping its NLOS shadowing draw for a coherence second: judge the share
    # of all receptions beyond 200 m, not one 20 m bin (one bin is one or two draws).
    assert far["false"] == 1.0 and far["true"] < 0.5
    assert prr["true"]["at_100m"] >= 0.9
    assert prr["false"]["range_at_0.9_m"] == 500.0  # never fell below: the whole range


def test_buildings_nlos_needs_building_polygons(tmp_path: Path) -> None:
    path = tiny_scenario(tmp_path, map={"geojson": "road.geojson", "buildings_nlos": True})
    with pytest.raises(ScenarioError, match=r"map\.buildings_nlos"):
        from sim.scenario.build import build_world
        build_world(load_scenario(str(path)))
