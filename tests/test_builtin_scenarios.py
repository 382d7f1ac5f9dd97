"""Every built-in scenario runs briefly and meets the expectations it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario.loader import builtin_names, load_scenario

#: Long enough for the warm-up, the scripted events and stable statistics; short for the suite.
BRIEF_S = {
    "airport-expressway-hazard": 9.0, "airport-expressway-peak": 4.0,
    "airport-expressway-interchange": 8.0,  # exits near the route end, merges at its start
    "auto-city-smart-services": 40.0,  # first kerb-side stops, VRU arrivals at 8 crosswalks
    "auto-city-smart-services-v2x": 40.0,  # as its base; the ambulance enters at 20 s
    "auto-city-intersection-nlos": 26.0,  # the whole approach (two vehicles: cheap)
    "calibration/3gpp-urban-grid": 3.0,  # 800 vehicles: warm-up plus 1 s of statistics
    "auto-city-grid": 45.0,  # SUMO inserts the demand; the first bus stop is ~300 m in
    "auto-city-grid-peak": 45.0,
    "auto-city-grid-services": 150.0,  # the first buses clear the busy entries and stop
    "auto-city-grid-intersection-v2x": 45.0,  # the grid filled: ICW warnings at many junctions
    "auto-city-grid-intersection-no-v2x": 45.0,
    "auto-city-grid-intersection-nlos": 120.0,  # ICW warnings round the blind corners
}


@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_meets_its_expectations(name: str, tmp_path: Path) -> None:
    loaded = load_scenario(name, ["output.trace.states=false"], duration_s=BRIEF_S.get(name, 5.0))
    assert loaded.spec.expect, f"{name} declares no expectations"
    assert loaded.spec.description
    out = run_scenario(loaded, tmp_path / "run")
    failed = [f"{o.key} {o.expression}: {o.actual} ({o.reason})" for o in out.expectations
              if not o.passed]
    assert not failed, failed
