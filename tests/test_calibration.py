"""Calibration against GM-2019: the packet-level SPS simulation vs the analytical model.

Tolerances are the paper's own: its analytical model and its packet-level simulation differ by a
mean absolute deviation of 0.005-0.025 over 0-500 m in 11 of its 12 configurations
(docs/radio-model.md §3.1), and the half-duplex loss at 10 Hz lies in 0.006-0.012.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.calibration.layouts import gm2019_world, tr36885_highway_world
from sim.calibration.run import gm2019_analytical, simulate
from sim.cli import main


@pytest.mark.parametrize("beta", [0.1, 0.2])
def test_gm2019_simulation_agrees_with_the_analytical_model(beta: float) -> None:
    result = simulate(gm2019_world(beta, 10.0, 20.0, 4, seed=1), duration_s=10.0)
    ana = gm2019_analytical(beta, 10.0, 20.0, 4, result.distance_m)
    dev = np.abs(result.prr - ana)
    assert dev.mean() <= 0.025
    assert dev.max() <= 0.06
    hd = float(np.mean(result.loss["half_duplex"]))
    assert 0.006 <= hd <= 0.012
    # Beyond ~350 m losses are dominated by the -90.5 dBm sensing floor, as in the paper.
    far = result.distance_m > 450
    assert np.all(result.loss["below_sensitivity"][far] > result.loss["collision"][far])


@pytest.mark.slow
def test_gm2019_densest_10hz_case_agrees_with_the_analytical_model() -> None:
    """beta = 0.3 veh/m at 10 Hz (CBR ~0.7): still within the paper's 11-of-12 deviation."""
    result = simulate(gm2019_world(0.3, 10.0, 20.0, 4, seed=1), duration_s=6.0)
    ana = gm2019_analytical(0.3, 10.0, 20.0, 4, result.distance_m)
    dev = np.abs(result.prr - ana)
    assert dev.mean() <= 0.025
    assert dev.max() <= 0.06
    assert 0.006 <= float(np.mean(result.loss["half_duplex"])) <= 0.012


def test_sps_beats_random_selection_on_the_same_layout() -> None:
    """Sensing is what Mode 4 is for: random resource choice collides far more."""
    world = gm2019_world(0.2, 10.0, 20.0, 4, seed=2)
    sps = simulate(world, duration_s=4.0)
    from sim.radio.scheduler import RandomScheduler

    world = gm2019_world(0.2, 10.0, 20.0, 4, seed=2)
    world.medium.scheduler = RandomScheduler(1, 100, world.medium.cfg.n_subchannels,
                                             np.random.default_rng(0))
    rnd = simulate(world, duration_s=4.0)
    band = (sps.distance_m > 100) & (sps.distance_m < 300)
    assert sps.loss["collision"][band].mean() < 0.7 * rnd.loss["collision"][band].mean()


def test_3gpp_highway_layout_density_and_prr_shape() -> None:
    world = tr36885_highway_world(seed=3)
    # 2.5 s x 140 km/h = 97.2 m mean spacing: ~20.6 vehicles per lane on 2 km, 6 lanes.
    assert 90 <= len(world.table) <= 160
    result = simulate(world, duration_s=5.0)
    assert result.prr[0] > 0.9 and result.prr[0] > result.prr[-1]


def test_calibrate_cli_writes_csv_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    code = main(["calibrate", "gm2019", "--beta", "0.1", "--rate-hz", "10", "--tx-power-dbm", "20",
                 "--subchannels", "4", "--out", str(out), "--duration-s", "4"])
    assert code == 0
    header = (out / "prr_vs_distance.csv").read_text().splitlines()[0]
    assert header == "distance_m,prr,prr_analytical,samples"
    assert len((out / "prr_vs_distance.csv").read_text().splitlines()) == 26
    assert (out / "prr_vs_distance.png").stat().st_size > 10_000
    assert json.loads((out / "summary.json").read_text())["max_abs_deviation"] < 0.1


@pytest.mark.parametrize("args, flag", [
    (["gm2019", "--seed", "-1"], "--seed"),
    (["gm2019", "--duration-s", "nan"], "--duration-s"),
    (["gm2019", "--duration-s", "inf"], "--duration-s"),
    (["gm2019", "--beta", "0.9"], "--beta"),
    (["3gpp-highway", "--speed-kmh", "0"], "--speed-kmh"),
    (["3gpp-highway", "--speed-kmh", "-10"], "--speed-kmh"),
    (["3gpp-highway", "--out", "FILE"], "--out"),
])
def test_calibrate_bad_arguments_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], flag: str,
) -> None:
    """Checked before any simulation: one line naming the flag, exit 2, nothing written."""
    existing = tmp_path / "a-file"
    existing.write_text("x")
    argv = ["calibrate", *[str(existing) if a == "FILE" else a for a in args]]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err, err
    assert not (tmp_path / "out" / "prr_vs_distance.csv").exists()
