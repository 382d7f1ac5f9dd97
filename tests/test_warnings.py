"""Emergency brake warning closed loop: V2X warnings make a braking platoon safer."""

from __future__ import annotations

from pathlib import Path

from sim.runner import run_scenario
from sim.scenario.loader import load_scenario
from tests.helpers.platoon import PLATOON
from tests.helpers.scenarios import tiny_scenario


def test_ebw_warns_followers_and_raises_the_minimum_ttc(tmp_path: Path) -> None:
    """A human-driven platoon behind an 8 m/s2 emergency stop, with and without EBW."""
    path = tiny_scenario(tmp_path, duration_s=12, incidents=[
        {"kind": "hard-braking", "at_s": 4, "route": "east", "position_m": 1900, "lane": 0,
         "decel_mps2": 8}])
    off = run_scenario(load_scenario(str(path), PLATOON), tmp_path / "off").summary
    on = run_scenario(load_scenario(str(path), PLATOON + ["applications.ebw.enabled=true"]),
                      tmp_path / "on").summary
    assert off["applications"]["ebw"] is None
    ebw = on["applications"]["ebw"]
    assert ebw["warnings"] > 10 and 1.0 <= ebw["mean_latency_ms"] <= 101.0
    assert on["collisions"] <= off["collisions"]
    assert on["safety"]["min_ttc_s"] > off["safety"]["min_ttc_s"] + 0.2
    assert on["safety"]["near_misses"] < off["safety"]["near_misses"]
