"""End-to-end runs: determinism, outputs, the CLI, interruption."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.io.trace import load_columns, read_trace
from sim.runner import run_scenario
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_same_seed_gives_byte_identical_summary_and_trace(tiny: Path, tmp_path: Path) -> None:
    a = run_scenario(load_scenario(str(tiny)), tmp_path / "a")
    b = run_scenario(load_scenario(str(tiny)), tmp_path / "b")
    for name in ("summary.json", "trace.msgpack", "prr_vs_distance.csv", "cbr_vs_time.csv"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert a.summary["messages"]["bsm_transmitted"] > 0


def test_another_seed_gives_another_run(tiny: Path, tmp_path: Path) -> None:
    a = run_scenario(load_scenario(str(tiny)), tmp_path / "a")
    b = run_scenario(load_scenario(str(tiny), seed=4), tmp_path / "b")
    assert (a.out_dir / "trace.msgpack").read_bytes() != (b.out_dir / "trace.msgpack").read_bytes()


def test_outputs_are_complete_and_consistent(tiny: Path, tmp_path: Path) -> None:
    out = run_scenario(load_scenario(str(tiny)), tmp_path / "run")
    d = out.out_dir
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["seed"] == 3 and len(manifest["scenario_hash"]) == 64
    assert manifest["wall_time_s"] > 0 and manifest["real_time_factor"] > 0
    with (d / "prr_vs_distance.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["distance_m", "prr", "samples"]
    assert [float(r["distance_m"]) for r in rows[:3]] == [0.0, 20.0, 40.0]
    assert len(rows) == 25  # 0-500 m in 20 m bins
    prr = [float(r["prr"]) for r in rows if r["prr"]]
    assert all(0.0 <= p <= 1.0 for p in prr) and prr[0] > prr[-1]
    # The trace holds every transmission the summary counted (plus those before warm-up).
    tx = load_columns(d / "trace.msgpack", "tx")
    s = out.summary["messages"]
    assert len(tx["packet_id"]) >= s["bsm_transmitted"] > 0
    assert np.all(np.diff(tx["packet_id"]) != 0)
    state = load_columns(d / "trace.msgpack", "state")
    assert set(np.unique(state["t_s"]).round(3)) >= {0.0, 1.0, 2.9}
    # Latency of a fresh packet with T1=1, T2=100 lies within [1, 101] ms.
    lat = s["latency"]["bsm"]
    assert 1.0 <= lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"] <= 101.0


def test_vehicles_enter_by_flow_and_leave_at_the_route_end(tmp_path: Path) -> None:
    from tests.helpers.scenarios import tiny_scenario

    path = tiny_scenario(tmp_path, duration_s=120)
    out = run_scenario(load_scenario(str(path), ["routes.1.initial_density_veh_km_per_lane=0",
                                                "routes.0.initial_density_veh_km_per_lane=0",
                                                "output.trace.states=false"]), tmp_path / "r")
    v = out.summary["vehicles"]
    # 600 veh/h/lane x 2 lanes x 120 s = 40 expected arrivals on the eastbound route (Poisson).
    assert 20 <= v["simulated"] <= 60
    # A 2 km road at up to 100 km/h takes >= 72 s: the earliest entrants have left.
    assert v["exited"] >= 1
    assert out.summary["collisions"] == 0


def test_cli_run_of_builtin_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "airport-expressway", "--until", "3", "--out", str(tmp_path / "r"),
                 "--quiet", "--set", "metrics.warmup_s=1"])
    assert code == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["sim_time_s"] == 3.0
    assert summary["vehicles"]["simulated"] > 500 and summary["rsus"] == 25
    assert summary["messages"]["prr"]["at_100m"] > summary["messages"]["prr"]["at_300m"] > 0.3
    out = capsys.readouterr().out
    assert "PRR at 300m" in out
    # The loss shares printed are summary.json's, and they add up to 1 - PRR over all bins.
    shares = summary["messages"]["loss_breakdown"]
    printed = " / ".join(f"{shares[k]:.3f}" for k in ("half_duplex", "below_sensitivity",
                                                      "propagation", "collision"))
    assert printed in out and "inter-reception time p99 / max" in out


def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing.yaml" in err and "Traceback" not in err
    assert main(["validate", "airport-expressway", "--set", "radio.bandwith_mhz=20"]) == 2
    err = capsys.readouterr().err.strip()
    assert "radio.bandwith_mhz" in err and "bandwidth_mhz" in err


def test_cli_list_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert "airport-expressway" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "ScenarioSpec" and schema["required"] == ["name"]
    # roads come from a GeoJSON map or a SUMO net, routes from `routes:` or the SUMO demand
    assert {"map", "network", "routes", "traffic", "mobility"} <= set(schema["properties"])


def test_ctrl_c_leaves_a_readable_trace_and_partial_summary(tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", "airport-expressway", "--until", "600",
         "--out", str(out), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    trace = out / "trace.msgpack"
    deadline = time.time() + 120
    while time.time() < deadline and (not trace.exists() or trace.stat().st_size < 2_000_000):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and 0 < summary["sim_time_s"] < 600
    meta, frames = read_trace(trace)
    kinds = {f.kind for f in frames}
    assert meta["scenario"] == "airport-expressway" and {"state", "tx"} <= kinds
    assert not frames.truncated


def test_resolved_scenario_in_the_run_dir_repeats_the_run(tmp_path: Path) -> None:
    a = tmp_path / "a"
    assert main(["run", "airport-expressway", "--until", "2.5", "--set",
                 "fleet.v2x_penetration=0.3", "--out", str(a), "--quiet"]) == 0
    manifest = json.loads((a / "manifest.json").read_text())
    assert "fleet.v2x_penetration=0.3" in manifest["overrides"]
    b = tmp_path / "b"
    assert main(["run", str(a / "scenario.resolved.yaml"), "--out", str(b), "--quiet"]) == 0
    for name in ("summary.json", "trace.msgpack"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_cli_out_that_is_a_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["run", "airport-expressway", "--until", "1", "--out", str(f)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_cli_names_the_command_line_for_bad_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "airport-expressway", "--set", "routes.0.lanes=true"]) == 2
    err = capsys.readouterr().err
    assert "command line" in err and "routes[0].lanes" in err and "integer" in err


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text("name: a\nseed: 1\nseed: 2\n", encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    assert "seed: duplicate key at line 3" in capsys.readouterr().err
