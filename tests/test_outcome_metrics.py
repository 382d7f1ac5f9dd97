"""Safety and service outcomes as numbers a design study can compare (#18)."""

from __future__ import annotations

import numpy as np
import pytest

from vehicles.apps.base import LEAD_BIN_S, AppStats


def test_lead_time_quantiles_are_those_of_the_warnings() -> None:
    stats = AppStats()
    lead = np.arange(1, 21, dtype=float)  # 1..20 s, one warning each
    stats.record(np.full(10, 50.0), lead[:10])
    stats.record(np.full(10, 50.0), np.append(lead[10:], np.inf)[:10])  # inf: no conflict ahead
    out = stats.summary()["lead_time_s"]
    assert isinstance(out, dict)
    assert out["min"] == 1.0 and out["mean"] == pytest.approx(10.5)
    assert out["p50"] == pytest.approx(10.0, abs=LEAD_BIN_S)
    assert out["p5"] == pytest.approx(1.0, abs=LEAD_BIN_S)


def test_no_warnings_no_quantiles() -> None:
    out = AppStats().summary()["lead_time_s"]
    assert out == {"mean": None, "min": None, "p5": None, "p50": None}


def test_tables_carry_outcomes_only_for_what_the_runs_have() -> None:
    from sim.sweep.kpis import KPI_BY_NAME, table_kpis

    names = [k.name for k in table_kpis([{"applications.ebw.warnings": 3}, {}])]
    assert "applications.ebw.warnings" in names and "applications.icw.warnings" not in names
    assert {"collisions", "safety.min_ttc_s", "safety.near_misses"} <= set(names)
    assert "applications.fcw.lead_time_s.p50" in KPI_BY_NAME


def test_app_names_of_the_tables_are_the_applications() -> None:
    from sim.sweep.kpis import APP_NAMES
    from vehicles.apps.manager import APP_NAMES as RUNNING

    assert APP_NAMES == RUNNING


def test_metrics_names_are_checked_with_the_closest_offered() -> None:
    from sim.core.errors import V2xSimError
    from sim.sweep.cli import parse_metrics

    assert parse_metrics("collisions, safety.min_ttc_s") == ["collisions", "safety.min_ttc_s"]
    assert parse_metrics(None) is None
    with pytest.raises(V2xSimError, match="closest: safety.min_ttc_s"):
        parse_metrics("safety.min_tc_s")
    with pytest.raises(V2xSimError, match="one or more"):
        parse_metrics(" , ")


def test_a_sweep_tabulates_the_safety_outcomes_of_its_apps(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import csv

    from sim.cli import main
    from tests.helpers.scenarios import tiny_scenario

    scenario = tiny_scenario(tmp_path, duration_s=3, applications={"ebw": {"enabled": True}})
    out = tmp_path / "sweep"
    assert main(["sweep", str(scenario), "--seeds", "2", "--out", str(out), "--workers", "1",
                 "--quiet", "--set", "output.trace.states=false", "--metrics", "bogus"]) == 2
    assert "bogus" in capsys.readouterr().err and not out.exists()
    assert main(["sweep", str(scenario), "--seeds", "2", "--out", str(out), "--workers", "1",
                 "--quiet", "--set", "output.trace.states=false",
                 "--grid", "fleet.v2x_penetration=0.5,1.0"]) == 0
    printed = capsys.readouterr().out
    assert "EBW warnings" in printed and "min TTC s" in printed and "ICW" not in printed
    with (out / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for col in ("collisions_mean", "safety.min_ttc_s_mean", "applications.ebw.warnings_mean",
                "applications.ebw.warnings_ci95"):
        assert col in rows[0]
    assert "applications.icw.warnings_mean" not in rows[0]
    with (out / "runs.csv").open(newline="") as f:
        runs = list(csv.DictReader(f))
    assert {r["applications.ebw.warnings"] for r in runs} != {""}


def _fake_run(d, seed: int, collisions: int, min_ttc: float) -> None:  # type: ignore[no-untyped-def]
    import json

    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({
        "seed": seed, "collisions": collisions,
        "safety": {"min_ttc_s": min_ttc, "near_misses": 0, "hard_braking_events": 0},
        "applications": {"ebw": None}}), encoding="utf-8")


def test_compare_pairs_common_seeds_and_says_what_is_significant(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from sim.cli import main
    from sim.sweep.compare import compare, load_side
    from sim.sweep.stats import t_quantile

    for seed, (ca, cb) in enumerate([(3, 1), (4, 1), (5, 2)], start=1):
        _fake_run(tmp_path / "A" / f"seed-{seed}", seed, ca, 0.5)
        _fake_run(tmp_path / "B" / f"seed-{seed}", seed, cb, 0.5 + seed)
    rows = {r.kpi.name: r for r in compare(load_side(tmp_path / "A"), load_side(tmp_path / "B"))}
    c = rows["collisions"]
    assert c.paired and c.n_a == c.n_b == 3
    assert c.diff == pytest.approx(-8 / 3)
    d = np.array([-2.0, -3.0, -3.0])
    assert c.diff_ci == pytest.approx(t_quantile(0.975, 2) * d.std(ddof=1) / np.sqrt(3))
    assert c.significant is True
    assert rows["safety.min_ttc_s"].diff == pytest.approx(2.0)
    assert rows["safety.near_misses"].diff_ci == 0.0 and rows["safety.near_misses"].significant \
        is False
    assert "applications.ebw.warnings" not in rows  # disabled on both sides: no row
    # Different seeds: Welch's interval.
    for seed in (7, 8):
        _fake_run(tmp_path / "C" / f"seed-{seed}", seed, 1 + seed % 2, 0.5)
    w = {r.kpi.name: r for r in compare(load_side(tmp_path / "A"), load_side(tmp_path / "C"))}
    assert not w["collisions"].paired and w["collisions"].diff_ci is not None
    # The CLI prints the table and writes JSON.
    assert main(["compare", str(tmp_path / "A"), str(tmp_path / "B"), "--metrics",
                 "collisions", "--json", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    assert "collisions" in out and "yes" in out and "paired" in out
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["rows"][0]["kpi"] == "collisions" and doc["rows"][0]["significant"] is True


def test_compare_bad_sides_are_one_line_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sim.cli import main

    _fake_run(tmp_path / "run", 1, 0, 1.0)
    for k in ("p1", "p2"):
        _fake_run(tmp_path / "sweep" / "points" / k / "seed-1", 1, 0, 1.0)
    (tmp_path / "empty").mkdir()
    for a, words in ((tmp_path / "nope", "not a directory"), (tmp_path / "empty", "not a run"),
                     (tmp_path / "sweep", "a sweep of 2 points")):
        assert main(["compare", str(a), str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and "\n" not in err
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "run"), "--metrics", "x"]) == 2
    assert "no such KPI" in capsys.readouterr().err
    # A one-point sweep is that point.
    assert main(["compare", str(tmp_path / "run"), str(tmp_path / "sweep" / "points" / "p1")]) == 0
