"""Internal mobility against SUMO itself (#16): the same net and demand, trips completed and mean
trip duration within 15 % of SUMO's tripinfo, on netgenerate grid, spider and random nets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.sumo.compare import AGREEMENT_TOLERANCE
from sim.sumo.tools import run_script, run_tool, sumo_home

pytest.importorskip("sumo", reason="the v2xsim[sumo] extra is not installed")

NETS = {
    "grid": ["--grid", "--grid.number", "3", "--grid.length", "200"],
    "spider": ["--spider", "--spider.arm-number", "5", "--spider.circle-number", "3",
               "--spider.space-radius", "100", "--spider.omit-center", "true"],
    "random": ["--rand", "--rand.iterations", "40", "--seed", "5"],
}


def _net_and_trips(tmp_path: Path, kind: str) -> None:
    proc = run_tool("netgenerate", [*NETS[kind], "--tls.guess", "true", "-o",
                                    str(tmp_path / "net.net.xml")])
    assert proc.returncode == 0, proc.stderr
    _random_trips(tmp_path, "net.net.xml", "-e", "200", "-p", "4", "--seed", "11")


def _random_trips(tmp_path: Path, net: str, *args: str) -> None:
    """trips.rou.xml in tmp_path from SUMO's randomTrips.py (validated: every trip routable)."""
    proc = run_script("randomTrips.py", ["-n", net, "-o", "trips.rou.xml", *args, "--validate"],
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def _run_against_sumo(tmp_path: Path, name: str, net: str, duration_s: float) -> Path:
    """Runs the net + trips.rou.xml with radio off and --against-sumo; the run directory."""
    scenario = {"name": name, "duration_s": duration_s, "seed": 2,
                "network": {"sumo_net": net}, "traffic": {"sumo_routes": "trips.rou.xml"},
                "fleet": {"v2x_penetration": 0.0}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet", "--against-sumo"]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(NETS))
def test_internal_mobility_agrees_with_sumo(tmp_path: Path, kind: str) -> None:
    _net_and_trips(tmp_path, kind)
    out = _run_against_sumo(tmp_path, f"agree-{kind}", "net.net.xml", 400.0)
    cmp = json.loads((out / "sumo_compare.json").read_text())
    assert cmp["sumo"]["trips_completed"] >= 40  # a real sample: all 50 trips depart by 200 s
    assert cmp["relative_difference"]["trips_completed"] <= AGREEMENT_TOLERANCE, cmp
    assert cmp["relative_difference"]["mean_trip_duration_s"] <= AGREEMENT_TOLERANCE, cmp
    assert cmp["agree"] is True
    summary = json.loads((out / "summary.json").read_text())
    assert summary["traffic"]["trips_completed"] == cmp["v2xsim"]["trips_completed"]


@pytest.mark.slow
def test_internal_mobility_agrees_with_sumo_on_a_real_osm_net(tmp_path: Path) -> None:
    """The OSM-derived Berlin net that ships in the eclipse-sumo wheel (tools/game/DRT: actuated
    traffic lights, priority junctions, 1-3 lanes), with random trips of at least 500 m."""
    net = sumo_home() / "tools" / "game" / "DRT" / "osm.net.xml"
    if not net.is_file():
        pytest.skip("this eclipse-sumo wheel has no tools/game/DRT/osm.net.xml")
    _random_trips(tmp_path, str(net), "-e", "120", "-p", "3", "--seed", "7", "--fringe-factor", "5",
                  "--min-distance", "500")
    out = _run_against_sumo(tmp_path, "agree-osm", str(net), 450.0)
    cmp = json.loads((out / "sumo_compare.json").read_text())
    assert cmp["sumo"]["programs_made_static"] > 0  # its actuated lights ran fixed-time in SUMO
    assert cmp["sumo"]["trips_completed"] >= 30
    assert cmp["relative_difference"]["trips_completed"] <= AGREEMENT_TOLERANCE, cmp
    assert cmp["relative_difference"]["mean_trip_duration_s"] <= AGREEMENT_TOLERANCE, cmp


def test_against_sumo_needs_a_sumo_demand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "auto-city-loop", "--until", "1", "--out", str(tmp_path / "o"), "--quiet",
                 "--against-sumo"]) == 2
    err = capsys.readouterr().err
    assert "--against-sumo needs network.sumo_net" in err and "Traceback" not in err
