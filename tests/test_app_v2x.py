"""With vs without V2X, end to end at small scale: the applications make driving safer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers.platoon import PLATOON
from tests.helpers.scenarios import tiny_scenario

QUIET = ["output.trace.states=false", "output.trace.transmissions=false"]


@pytest.mark.slow
def test_fcw_alone_raises_the_minimum_ttc_behind_an_emergency_stop(tmp_path: Path) -> None:
    """The EBW platoon (1.0 s human reaction, 1.4 s gap, an 8 m/s2 stop) with FCW only."""
    path = tiny_scenario(tmp_path, duration_s=12, incidents=[
        {"kind": "hard-braking", "at_s": 4, "route": "east", "position_m": 1900, "lane": 0,
         "decel_mps2": 8}])
    off = run_scenario(load_scenario(str(path), PLATOON), tmp_path / "off").summary
    on = run_scenario(load_scenario(str(path), PLATOON + ["applications.fcw.enabled=true"]),
                      tmp_path / "on").summary
    fcw = on["applications"]["fcw"]
    assert off["applications"]["fcw"] is None and fcw["warnings"] >= 1
    assert 0.0 < fcw["lead_time_s"]["min"] <= 3.0  # FCW warns below its 3 s TTC threshold
    assert on["collisions"] <= off["collisions"]
    assert on["safety"]["min_ttc_s"] > off["safety"]["min_ttc_s"]


@pytest.mark.slow
def test_icw_reduces_crossing_collisions_at_the_auto_city_left_turn(tmp_path: Path) -> None:
    """auto-city-intersection with and without ICW, the whole 90 s (crossing collisions are
    bodies that touch: a few per run without ICW): fewer with it, and the warnings come seconds
    before the would-be conflict."""
    short = QUIET
    off = run_scenario(load_scenario("auto-city-intersection-no-v2x", short), tmp_path / "off")
    on = run_scenario(load_scenario("auto-city-intersection-v2x", short), tmp_path / "on")
    c_off = off.summary["applications"]["crossing"]
    c_on = on.summary["applications"]["crossing"]
    icw = on.summary["applications"]["icw"]
    assert c_off["conflict_points"] == c_on["conflict_points"] == 1
    assert c_off["collisions"] >= 2
    assert c_on["collisions"] < c_off["collisions"]
    assert icw["warnings"] > 0 and icw["lead_time_s"]["mean"] > 2.0
    # Each collision is listed: when, where (at the one conflict point), who.
    events = c_off["collision_events"]
    assert len(events) == c_off["collisions"]
    xy = np.array([[e["x_m"], e["y_m"]] for e in events])
    assert np.ptp(xy, axis=0).max() < 20.0
    assert all(len(e["vehicle_ids"]) == 2 and e["vehicle_ids"][0] != e["vehicle_ids"][1]
               and len(e["equipped"]) == 2 for e in events)
    assert [e["t_s"] for e in events] == sorted(e["t_s"] for e in events)


@pytest.mark.slow
def test_with_and_without_v2x_runs_meet_the_same_fleet(tmp_path: Path) -> None:
    """Common random numbers: switching the applications on changes driving, and so when each
    vehicle can enter, but not which vehicles arrive (per-lane arrival and attribute streams)."""
    from sim.runner import run_scenario

    fleets = []
    for name in ("auto-city-smart-services", "auto-city-smart-services-v2x"):
        loaded = load_scenario(name, ["output.trace.states=false"], duration_s=25.0)
        run_scenario(loaded, tmp_path / name)
        v = json.loads((tmp_path / name / "summary.json").read_text())["vehicles"]
        fleets.append((v["by_class"], v["v2x_equipped_share"], v["automated_share"]))
    assert fleets[0] == fleets[1]
