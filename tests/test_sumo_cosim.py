"""Co-simulation (#16): SUMO moves the vehicles through libsumo, v2xsim does radio and apps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.scenario.build import build_world
from sim.scenario.loader import load_scenario
from sim.sumo.tools import run_tool

pytest.importorskip("libsumo", reason="the v2xsim[sumo] extra is not installed")

TRIPS = """<routes>
  <vType id="car" vClass="passenger"/>
  <flow id="ew" type="car" begin="0" end="60" period="4" from="A0A1" to="A2B2"/>
  <flow id="ns" type="car" begin="0" end="60" period="5" from="A0B0" to="B1C1"/>
</routes>
"""


def _scenario(tmp_path: Path, **extra: object) -> Path:
    proc = run_tool("netgenerate", ["--grid", "--grid.number", "3", "--grid.length", "200",
                                    "--tls.guess", "true", "-o", str(tmp_path / "grid.net.xml")])
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "trips.rou.xml").write_text(TRIPS)
    data = {"name": "cosim", "duration_s": 90.0, "seed": 3,
            "network": {"sumo_net": "grid.net.xml"}, "traffic": {"sumo_routes": "trips.rou.xml"},
            "mobility": {"engine": "sumo"}, "rsus": {"positions_xy_m": [[200.0, 200.0]]},
            "applications": {"fcw": {"enabled": True}, "ebw": {"enabled": True}}, **extra}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_sumo_moves_the_vehicles_and_v2xsim_runs_the_radio(tmp_path: Path) -> None:
    path = _scenario(tmp_path)
    for out in ("a", "b"):
        assert main(["run", str(path), "--out", str(tmp_path / out), "--quiet"]) == 0
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["vehicles"]["simulated"] == 15 + 12  # the flows: every 4 s / 5 s up to 60 s
    assert summary["traffic"]["trips_completed"] > 0
    assert summary["messages"]["bsm_receptions"] > 0
    assert summary["messages"]["rsu_uplink_prr"]["at_100m"] > 0.9
    assert summary["collisions"] == 0
    # Deterministic: SUMO is seeded from the RNG tree.
    for name in ("summary.json", "trace.msgpack"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_braking_window_slows_the_vehicle_in_sumo(tmp_path: Path) -> None:
    """The loop closes: what an app writes to the vehicle table becomes a SUMO command."""
    world = build_world(load_scenario(str(_scenario(tmp_path)), []))
    mob = world.mobility
    try:
        for k in range(1, 101):
            mob.step(k * 100)
        t = mob.table
        fast = int(np.argmax(t["v_mps"]))
        v_before = float(t["v_mps"][fast])
        assert v_before > 5.0
        t["warn_start_ms"][fast], t["warn_end_ms"][fast] = 10_100, 12_100
        t["warn_decel_mps2"][fast] = 4.0
        vid = int(t["id"][fast])
        for k in range(101, 111):  # 1 s of the window
            mob.step(k * 100)
        row = int(np.flatnonzero(mob.table["id"] == vid)[0])
        assert mob.table["v_mps"][row] <= max(v_before - 3.0, 0.0)  # ~4 m/s2 for 1 s
    finally:
        mob.close()  # type: ignore[attr-defined]


def test_sumo_engine_needs_a_sumo_demand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "auto-city-loop", "--until", "1", "--out", str(tmp_path / "o"), "--quiet",
                 "--set", "mobility.engine=sumo"]) == 2
    err = capsys.readouterr().err
    assert "mobility.engine: sumo needs network.sumo_net" in err and "Traceback" not in err


def test_sumo_dying_mid_run_keeps_what_was_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """SUMO exiting mid-run (here: its step raising at t = 5 s, as libsumo does when SUMO hits a
    fatal error): one line, exit 2, and the outputs up to then are on disk, marked interrupted."""
    import libsumo

    from sim.io.trace import read_trace

    real_step = libsumo.simulationStep
    calls = {"n": 0}

    def dying_step(t: float = 0.0) -> None:
        calls["n"] += 1
        if calls["n"] > 50:
            raise libsumo.TraCIException("connection closed by SUMO")
        real_step(t)

    monkeypatch.setattr(libsumo, "simulationStep", dying_step)
    out = tmp_path / "run"
    code = main(["run", str(_scenario(tmp_path)), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "SUMO stopped at t = 5.1 s" in err
    manifest = json.loads((out / "manifest.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert manifest["interrupted"] is True and manifest["sim_time_s"] == pytest.approx(5.0, abs=0.1)
    assert "SUMO stopped" in summary["error"]
    _, reader = read_trace(out / "trace.msgpack")
    states = [fr for fr in reader if fr.kind == "state"]
    assert len(states) >= 40  # every step up to SUMO's end
    assert not libsumo.isLoaded()  # closed: the next run can start SUMO again


LINE_FLOW = """<routes>
  <vType id="car" vClass="passenger" sigma="0.5"/>
  <flow id="f" type="car" begin="0" end="120" period="1.6" from="A0B0" to="G0H0"
        departSpeed="max" departLane="best"/>
</routes>
"""


@pytest.mark.slow
def test_v2x_makes_a_difference_under_sumo_mobility(tmp_path: Path) -> None:
    """The with/without-V2X pair under SUMO: a 7 x 300 m road, a flow every 1.6 s, one vehicle
    braking at 8 m/s^2 at 50 s. EBW + FCW (60 % equipped) reach SUMO as slowDown commands, so
    fewer followers come within 1.5 s TTC; summed over four seeds, since one seed's count moves
    by ~10 either way (measured: 175 vs 215)."""
    proc = run_tool("netgenerate", ["--grid", "--grid.x-number", "8", "--grid.y-number", "1",
                                    "--grid.length", "300", "--grid.attach-length", "0",
                                    "-o", str(tmp_path / "line.net.xml")])
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "flow.rou.xml").write_text(LINE_FLOW)
    near: dict[bool, int] = {True: 0, False: 0}
    braked: dict[bool, int] = {True: 0, False: 0}
    for v2x in (True, False):
        data = {"name": "pair", "duration_s": 90.0, "network": {"sumo_net": "line.net.xml"},
                "traffic": {"sumo_routes": "flow.rou.xml"}, "mobility": {"engine": "sumo"},
                "incidents": [{"kind": "hard-braking", "at_s": 50, "route": "sumo:0",
                               "position_m": 1200, "lane": 0}],
                "applications": ({"ebw": {"enabled": True}, "fcw": {"enabled": True}}
                                 if v2x else {})}
        path = tmp_path / f"{v2x}.yaml"
        path.write_text(yaml.safe_dump(data))
        for seed in (1, 2, 3, 4):
            out = tmp_path / f"{v2x}-{seed}"
            assert main(["run", str(path), "--seed", str(seed), "--out", str(out), "--quiet"]) == 0
            summary = json.loads((out / "summary.json").read_text())
            near[v2x] += summary["safety"]["near_misses"]
            braked[v2x] += summary["safety"]["hard_braking_events"]
    assert near[True] < 0.9 * near[False]
    # The warned drivers brake early and firmly (EBW's precautionary braking counts as hard).
    assert braked[True] > 5 * braked[False]
