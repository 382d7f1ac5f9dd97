"""Sweeps and the latency benchmark: statistics, grid parsing, and real runs on a 2-worker Dask
cluster checked against a serial run of the same points."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.core.errors import ScenarioError
from sim.sweep.cli import main
from sim.sweep.config import load_config, parse_config
from sim.sweep.grid import expand_grid, parse_grid, point_id, split_values
from sim.sweep.latency import plan_latency
from sim.sweep.stats import mean_ci, t_quantile
from sim.sweep.sweep import execute, plan_sweep
from tests.helpers.scenarios import tiny_scenario

# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize("p, df, expected", [
    (0.975, 1, 12.7062), (0.975, 2, 4.3027), (0.975, 3, 3.1824), (0.975, 4, 2.7764),
    (0.975, 9, 2.2622), (0.975, 30, 2.0423), (0.975, 120, 1.9799), (0.95, 10, 1.8125),
    (0.995, 5, 4.0321), (0.975, 5000, 1.9604),
])
def test_t_quantile_matches_published_tables(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-4)


def test_t_quantile_is_symmetric_and_tends_to_the_normal() -> None:
    assert t_quantile(0.025, 4) == pytest.approx(-t_quantile(0.975, 4), abs=1e-12)
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.975, math.inf) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError):
        t_quantile(0.975, 0)


def test_mean_ci_of_known_data() -> None:
    # 1..5: mean 3, s = sqrt(2.5), half-width = t(0.975, 4) * s / sqrt(5) = 1.9632
    ci = mean_ci([1, 2, 3, 4, 5])
    assert ci.mean == 3.0 and ci.n == 5
    assert ci.half_width == pytest.approx(2.7764451 * math.sqrt(2.5) / math.sqrt(5), rel=1e-7)
    assert ci.half_width == pytest.approx(1.9632, abs=1e-4)


def test_mean_ci_leaves_out_missing_values_and_needs_two_for_a_width() -> None:
    assert mean_ci([2.0, None, float("nan"), 4.0]) == mean_ci([2.0, 4.0])
    assert mean_ci([2.0, 4.0]).half_width == pytest.approx(12.7062047 * 1.0, rel=1e-7)
    one = mean_ci([7.0])
    assert (one.mean, one.half_width, one.n) == (7.0, None, 1)
    assert mean_ci([]).mean is None


# ------------------------------------------------------------------ grid


def test_values_split_on_commas_outside_brackets() -> None:
    assert split_values("20, 23") == ["20", "23"]
    assert split_values("[100,300],[50, 100]") == ["[100,300]", "[50, 100]"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]


def test_grid_is_a_cartesian_product_with_stable_order_independent_ids() -> None:
    points = expand_grid(parse_grid(["radio.tx_power_dbm=20,23", "fleet.v2x_penetration=0.5,1"]))
    assert [p.values for p in points] == [
        {"radio.tx_power_dbm": 20, "fleet.v2x_penetration": 0.5},
        {"radio.tx_power_dbm": 20, "fleet.v2x_penetration": 1},
        {"radio.tx_power_dbm": 23, "fleet.v2x_penetration": 0.5},
        {"radio.tx_power_dbm": 23, "fleet.v2x_penetration": 1},
    ]
    assert points[0].overrides == ("radio.tx_power_dbm=20", "fleet.v2x_penetration=0.5")
    swapped = expand_grid(parse_grid(["fleet.v2x_penetration=0.5,1", "radio.tx_power_dbm=20,23"]))
    assert {p.point_id for p in points} == {p.point_id for p in swapped}
    assert point_id({"a.b": 1}) == point_id({"a.b": 1}) != point_id({"a.b": 2})
    assert len(points[0].point_id) <= 49 and "/" not in points[0].point_id


@pytest.mark.parametrize("bad", ["radio.tx_power_dbm", "=1,2", "radio..x=1",
                                 "radio.tx_power_dbm=20,,23", "radio.tx_power_dbm=20,20",
                                 "seed=1,2"])
def test_bad_grid_syntax_is_a_scenario_error(bad: str) -> None:
    with pytest.raises(ScenarioError, match="--grid"):
        parse_grid([bad])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("v2xsim: error: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("grid, named", [
    ("radio.tx_power_dbm", "radio.tx_power_dbm"),  # no values
    ("radio.tx_pwr_dbm=20,23", "radio.tx_pwr_dbm"),  # unknown key
    ("radio.tx_power_dbm=20,99", "radio.tx_power_dbm"),  # value out of range
    ("routes.7.flow_veh_h_per_lane=100", "routes.7"),  # no such route
])
def test_sweep_bad_grid_exits_2_naming_the_key_before_any_run(
        grid: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path, duration_s=2)
    out = tmp_path / "sweep"
    assert main(["sweep", str(scenario), "--grid", grid, "--seeds", "2", "--out", str(out)]) == 2
    assert named in _one_line_error(capsys)
    assert not out.exists()


def test_sweep_bad_seeds_and_scenario_exit_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path)
    out = str(tmp_path / "o")
    assert main(["sweep", str(scenario), "--seeds", "0", "--out", out]) == 2
    assert "--seeds" in _one_line_error(capsys)
    assert main(["sweep", str(tmp_path / "nope.yaml"), "--seeds", "1", "--out", out]) == 2
    assert "nope.yaml" in _one_line_error(capsys)


# ------------------------------------------------------------------ configurations


def test_shipped_bench_configs_are_valid_for_the_expressway(tmp_path: Path) -> None:
    for name, n_points in (("expressway-load", 15), ("message-rate", 6)):
        config = load_config(name)
        plan = plan_latency("airport-expressway", config, 2, 6.0, tmp_path / name)
        assert len(plan.points) == n_points and plan.seeds == (1, 2)
        assert all(isinstance(dict(p.labels)["load"], (int, float)) for p in plan.points)


def test_bench_config_errors_name_the_file_and_entry(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from sim.sweep.errors import SweepError

    with pytest.raises(SweepError, match=r"x.yaml: points\[1\].load: expected a number"):
        parse_config({"points": [{"load": 1}, {"load": "high"}]}, "x.yaml", "x")
    scenario = tiny_scenario(tmp_path)
    cfg = tmp_path / "typo.yaml"
    cfg.write_text(yaml.safe_dump({"points": [{"load": 1, "radio.tx_pwr_dbm": 20}]}))
    assert main(["bench", "latency", str(scenario), "--config", str(cfg), "--out",
                 str(tmp_path / "b")]) == 2
    err = _one_line_error(capsys)
    assert "typo.yaml" in err and "radio.tx_pwr_dbm" in err
    assert main(["bench", "latency", str(scenario), "--config", "no-such-config", "--out",
                 str(tmp_path / "b")]) == 2
    assert "expressway-load" in _one_line_error(capsys)


# ------------------------------------------------------------------ real sweeps on Dask


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local cluster of two single-threaded worker processes, shared by this module's tests."""
    import logging
    import os
    import warnings

    import dask
    from distributed import LocalCluster

    from sim.sweep.cluster import TRIM_KEY

    # Workers without Dask's MALLOC_TRIM_THRESHOLD_ (see sim.sweep.cluster: ~3x faster runs).
    inherited = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with warnings.catch_warnings(), dask.config.set({TRIM_KEY: None}):
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
    if inherited is not None:
        os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_sweep_on_two_workers_equals_serial_runs_resumes_and_survives_a_failing_point(
        scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path, duration_s=2)
    out = tmp_path / "sweep"
    # A 1400 B BSM passes validation (size <= 1500) but does not fit the 10 MHz channel at MCS 7:
    # only the world builder, in the worker, finds out. Those runs fail; the others must not.
    argv = ["sweep", str(scenario), "--grid", "radio.tx_power_dbm=20,23",
            "--grid", "messages.bsm.size_bytes=190,1400", "--seeds", "2", "--out", str(out),
            "--scheduler", scheduler, "--quiet", "--set", "output.trace.states=false"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("failed point") == 4 and "size_bytes" in err

    runs = _rows(out / "runs.csv")
    assert len(runs) == 8
    ok = [r for r in runs if r["status"] == "ok"]
    failed = [r for r in runs if r["status"] == "failed"]
    assert len(ok) == 4 and all(r["messages.bsm.size_bytes"] == "190" for r in ok)
    assert len(failed) == 4 and all("subchannels" in r["error"] for r in failed)
    assert all(float(r["prr_100m"]) > 0 and float(r["peak_rss_mb"]) > 20 for r in ok)

    results = _rows(out / "results.csv")
    assert len(results) == 4
    by_status = {r["status"] for r in results}
    assert by_status == {"ok", "failed"}
    good = [r for r in results if r["status"] == "ok"]
    assert all(r["n_seeds"] == "2" and r["latency_p95_ms_ci95"] != "" for r in good)

    # The same points run serially in this process give byte-identical summaries.
    axes = parse_grid(["radio.tx_power_dbm=20,23", "messages.bsm.size_bytes=190"])
    plan = plan_sweep(str(scenario), expand_grid(axes), 2, None, tmp_path / "serial",
                      ["output.trace.states=false"])
    serial = execute(plan, client=None)
    assert len(serial) == 4 and all(r.ok for r in serial)
    for r in serial:
        rel = Path(r.out_dir).relative_to(tmp_path / "serial")
        serial_bytes = (Path(r.out_dir) / "summary.json").read_bytes()
        assert (out / rel / "summary.json").read_bytes() == serial_bytes

    # Re-running skips the finished runs (files untouched) and retries only the failed ones.
    mtimes = {r["run_dir"]: (out / r["run_dir"] / "summary.json").stat().st_mtime_ns for r in ok}
    assert main(argv) == 1
    capsys.readouterr()
    again = _rows(out / "runs.csv")
    assert sorted(r["reused"] for r in again) == ["false"] * 4 + ["true"] * 4
    assert all((out / d / "summary.json").stat().st_mtime_ns == t for d, t in mtimes.items())

    # Another duration is another scenario: nothing is reused.
    argv_short = ["sweep", str(scenario), "--grid", "radio.tx_power_dbm=20", "--seeds", "1",
                  "--out", str(out), "--scheduler", scheduler, "--quiet", "--until", "1.5",
                  "--set", "output.trace.states=false", "--grid", "messages.bsm.size_bytes=190"]
    assert main(argv_short) == 0
    capsys.readouterr()
    rerun = _rows(out / "runs.csv")
    assert [r["reused"] for r in rerun] == ["false"]
    summary = json.loads((out / rerun[0]["run_dir"] / "summary.json").read_text())
    assert summary["sim_time_s"] == 1.5


def test_bench_latency_writes_the_table_and_plots(scheduler: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tiny_scenario(tmp_path, duration_s=2)
    config: dict[str, Any] = {
        "name": "tiny-load", "scenario": "tiny", "load_label": "inflow (veh/h/lane)",
        "set": {"output.trace.states": False},
        "cross": [{"key": "fleet.v2x_penetration", "values": [0.5, 1.0],
                   "label": "{value:.0%} V2X"}],
        "points": [
            {"load": 300, "routes.0.flow_veh_h_per_lane": 300,
             "routes.0.initial_density_veh_km_per_lane": 5},
            {"load": 1200, "routes.0.flow_veh_h_per_lane": 1200,
             "routes.0.initial_density_veh_km_per_lane": 20},
        ],
    }
    cfg = tmp_path / "tiny-load.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    out = tmp_path / "bench"
    assert main(["bench", "latency", str(scenario), "--config", str(cfg), "--out", str(out),
                 "--seeds", "2", "--scheduler", scheduler, "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "50% V2X" in printed and "p95 ms" in printed

    rows = _rows(out / "latency_vs_load.csv")
    assert [(r["series"], r["load"]) for r in rows] == [
        ("50% V2X", "300"), ("50% V2X", "1200"), ("100% V2X", "300"), ("100% V2X", "1200")]
    for r in rows:
        assert r["n_seeds"] == "2"
        for kpi in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "prr_100m", "prr_300m",
                    "cbr_mean", "real_time_factor", "wall_time_s", "peak_rss_mb"):
            assert r[f"{kpi}_mean"] != "" and r[f"{kpi}_ci95"] != "", kpi
    # More equipped vehicles, busier channel.
    cbr = {(r["series"], r["load"]): float(r["cbr_mean_mean"]) for r in rows}
    assert cbr[("100% V2X", "1200")] > cbr[("50% V2X", "300")]
    for name in ("latency_vs_load", "prr_vs_load", "cbr_vs_load", "cost_vs_load"):
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000, name
    assert (out / "results.csv").exists() and (out / "runs.csv").exists()


def test_sweep_workers_run_without_dasks_malloc_trim_threshold(scheduler: str) -> None:
    from distributed import Client

    from sim.sweep.cluster import worker_warnings

    with Client(scheduler) as client:
        assert worker_warnings(client) == []


def test_local_sweep_workers_share_the_cores_for_radio_threads(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each local worker's radio kernels get the cores left per worker (V2XSIM_THREADS handed
    to the nannies, so a restarted worker keeps it), not every core each."""
    import os

    from sim.sweep.cluster import default_workers, open_client

    monkeypatch.delenv("V2XSIM_THREADS", raising=False)
    with open_client(workers=2) as client:
        # A lambda travels by value and reads the worker's environment (os.environ.get would
        # carry this process's environment along).
        seen = set(client.run(lambda: __import__("os").environ.get("V2XSIM_THREADS")).values())
    assert seen == {str(max(1, default_workers() // 2))}
    assert "V2XSIM_THREADS" not in os.environ  # the caller's environment is left alone


def test_a_hostile_latency_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                               ) -> None:
    """Sweep configurations go through the scenario loader's YAML reader: an alias bomb is
    refused with one line (it was expanded by yaml.safe_load)."""
    from sim.cli import main

    rows = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcdef", "bcdefg"):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code = main(["bench", "latency", "airport-expressway", "--config", str(bomb), "--seeds", "1",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "alias" in err[0]
