"""The issue's bad-input list, end to end through the CLI: each is one line naming the key path,
exit code 2 (`v2xsim validate` builds the world, so builder errors count too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from tests.helpers.scenarios import tiny_scenario

FAR = "{lat: 44.5, lon: 125.5}"


@pytest.mark.parametrize("scenario, overrides, key", [
    ("airport-expressway", ["routes.0.roads=[东风大街 Dongfeng Street, 皓月大路 Haoyue Avenue]"],
     "routes[0].roads[1]"),  # routes that do not connect
    ("tiny", [f"signals=[{{id: s, position: {FAR}}}]"], "signals[0].position"),  # signal off-road
    ("tiny", ["bus_lines=[{id: b, route: east, stops: [{position_m: 5000}]}]"],
     "bus_lines[0].stops[0].position_m"),  # bus stop off its line
    ("tiny", [f"bus_lines=[{{id: b, route: east, stops: [{{position: {FAR}}}]}}]"],
     "bus_lines[0].stops[0].position"),
    ("tiny", [f"rsus.positions=[{FAR}]"], "rsus.positions[0]"),  # RSU outside the map
    ("tiny", ["routes.0.lanes=0"], "routes[0].lanes"),  # lanes < 1
    ("tiny", ["routes.0.ramps=[{kind: on-ramp, position_m: 1990}]"], "routes[0].ramps[0]"),
    ("tiny", ["vehicles=[{route: nowhere}]"], "vehicles[0].route"),
    # per-priority X is NR Mode 2 only, and takes the 3GPP values
    ("tiny", ["radio.scheduler.candidate_fraction_by_priority=[0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2]"],
     "radio.scheduler"),
    ("tiny", ["radio.scheduler.kind=sps-nr",
              "radio.scheduler.candidate_fraction_by_priority=[0.2,0.3,0.2,0.2,0.2,0.2,0.2,0.2]"],
     "radio.scheduler.candidate_fraction_by_priority[1]"),
])
def test_bad_input_is_one_line_with_key_path_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scenario: str, overrides: list[str],
    key: str,
) -> None:
    name = str(tiny_scenario(tmp_path)) if scenario == "tiny" else scenario
    args = ["validate", name]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err, err


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_thread_count_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str,
) -> None:
    from sim.radio import threads

    monkeypatch.setenv("V2XSIM_THREADS", value)
    monkeypatch.setitem(threads._state, "threads", None)  # read the environment again
    assert main(["list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "V2XSIM_THREADS must be a positive integer" in err, err
    monkeypatch.setitem(threads._state, "threads", None)


@pytest.mark.parametrize("override, named", [
    ("radio.link_range_m=2000", "link_range_m (2000 m) must not exceed"),  # rule on `radio`
    ("radio.batch_ms=30", "radio.batch_ms (30) must divide"),  # rule on the whole scenario
    ("radio.scheduler.candidate_fraction_by_priority=[0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2]",
     "NR Mode 2 only"),  # rule on `radio.scheduler`
])
def test_cross_key_errors_from_set_name_the_command_line(
    capsys: pytest.CaptureFixture[str], override: str, named: str,
) -> None:
    """A rule spanning several keys that fails because of a --set value blames the command
    line, not the scenario file the other keys came from."""
    assert main(["validate", "airport-expressway", "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "(command line)" in err and named in err, err
    assert "airport-expressway.yaml" not in err


def test_file_error_stays_on_the_file_despite_an_unrelated_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A cross-key rule broken by the file is blamed on the file even when --set changed another
    key of the same object."""
    path = tiny_scenario(tmp_path, radio={"link_range_m": 2000.0})
    assert main(["validate", str(path), "--set", "radio.tx_power_dbm=20"]) == 2
    err = capsys.readouterr().err.strip()
    assert "(command line)" not in err and str(path) in err and "link_range_m" in err, err
