"""SUMO inputs (#16): a netgenerate grid and hand-written trips run as a scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.sumo.tools import run_tool

pytest.importorskip("sumo", reason="the v2xsim[sumo] extra is not installed")

TRIPS = """<routes>
  <vType id="car" vClass="passenger"/>
  <vType id="bus" vClass="bus"/>
  <trip id="t0" type="car" depart="0" from="A0A1" to="A2B2"/>
  <trip id="t1" type="bus" depart="2" from="A0B0" to="B1C1"/>
  <flow id="f" type="car" begin="0" end="20" period="5" from="A0A1" to="A1B1"/>
</routes>
"""


def _scenario(tmp_path: Path, **extra: object) -> Path:
    net = tmp_path / "grid.net.xml"
    proc = run_tool("netgenerate", ["--grid", "--grid.number", "3", "--grid.length", "200",
                                    "--tls.guess", "true", "-o", str(net)])
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "trips.rou.xml").write_text(TRIPS)
    data = {"name": "sumo-grid", "duration_s": 30.0, "seed": 3,
            "network": {"sumo_net": "grid.net.xml"}, "traffic": {"sumo_routes": "trips.rou.xml"},
            **extra}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_sumo_net_and_demand_run_as_a_scenario(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    # 2 trips + a flow of 4 (0, 5, 10, 15 s) depart within the 30 s run
    assert summary["vehicles"]["simulated"] == 6
    assert summary["vehicles"]["by_class"] == {"bus": 1, "car": 5}  # vClass bus -> our bus
    assert summary["messages"]["bsm_transmitted"] > 0


def test_unknown_edge_in_routes_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                 ) -> None:
    path = _scenario(tmp_path, routes=[{"id": "r", "roads": ["A0A1", "nope"]}])
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "routes[0].roads[1]" in err and "'nope'" in err and "Traceback" not in err


def test_rsus_in_net_xy_hear_the_sumo_traffic(tmp_path: Path) -> None:
    path = _scenario(tmp_path, rsus={"positions_xy_m": [[200.0, 200.0]]})
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rsus"] == 1
    assert summary["messages"]["rsu_uplink_prr"]["at_100m"] > 0.9  # it hears the grid's centre


def test_lonlat_rsus_on_a_net_without_geo_reference_are_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, rsus={"positions": [{"lat": 43.85, "lon": 125.23}]})
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "rsus.positions" in err and "no geo-reference" in err and "Traceback" not in err


def test_xy_rsus_need_a_sumo_net(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "auto-city-loop", "--until", "1", "--out", str(tmp_path / "o"), "--quiet",
                 "--set", "rsus.positions_xy_m=[[0, 0]]"]) == 2
    assert "positions_xy_m" in capsys.readouterr().err


def test_trips_are_counted_as_sumo_counts_them(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet", "--until", "120"]) == 0
    traffic = json.loads((tmp_path / "out" / "summary.json").read_text())["traffic"]
    assert traffic["trips_started"] == 6 and traffic["waiting_to_enter"] == 0
    assert traffic["trips_completed"] == 6  # routes of 200-600 m finish well within 120 s
    assert 15.0 < traffic["mean_trip_duration_s"] < 90.0


def test_the_resolved_scenario_of_a_sumo_run_repeats_it(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--quiet", "--until", "20"]) == 0
    resolved = yaml.safe_load((tmp_path / "a" / "scenario.resolved.yaml").read_text())
    assert resolved["vehicles"] == [] and resolved["routes"] == []  # SUMO's own, not copied in
    assert main(["run", str(tmp_path / "a" / "scenario.resolved.yaml"), "--out",
                 str(tmp_path / "b"), "--quiet"]) == 0
    assert ((tmp_path / "a" / "summary.json").read_bytes()
            == (tmp_path / "b" / "summary.json").read_bytes())


def test_a_run_exports_as_sumo_fcd_that_sumolib_reads(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import sumolib

    path = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--until", "10"]) == 0
    assert main(["export", "fcd", str(out)]) == 0
    steps = list(sumolib.xml.parse(str(out / "fcd.xml"), "timestep"))
    assert len(steps) >= 9  # state frames (output.trace.state_period_s, 1 s by default)
    vehicles = [v for st in steps for v in (st.vehicle or [])]
    assert vehicles and all(0.0 <= float(v.angle) < 360.0 for v in vehicles)
    assert {v.type for v in vehicles} <= {"car", "bus"}
    csv_lines = (out / "fcd.csv").read_text().splitlines()
    assert csv_lines[0].startswith("time_s,id,x_m,y_m") and len(csv_lines) == len(vehicles) + 1
    capsys.readouterr()
    assert main(["export", "fcd", str(tmp_path)]) == 2  # not a run directory
    assert "no trace.msgpack" in capsys.readouterr().err
