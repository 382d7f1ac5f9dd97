"""Expectations: parsing, key resolution, the nested form, evaluation, reporting, a real run."""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.metrics.expectations import (
    check,
    counts,
    evaluate,
    outcomes_json,
    outcomes_report,
    outcomes_table,
    resolve,
)
from sim.spec.expect import (
    MESSAGES_SECTIONS,
    OPERATORS,
    SUMMARY_SECTIONS,
    Expectation,
    ExpectationError,
    Expectations,
    apply_expect_override,
    coerce_expect,
    flatten_expect,
    parse_expectation,
    parse_expectations,
)
from tests.helpers.scenarios import tiny_scenario

SUMMARY: dict[str, Any] = {
    "scenario": "demo",
    "seed": 1,
    "interrupted": False,
    "sim_time_s": 4.0,
    "vehicles": {"simulated": 1401, "by_class": {"car": 1074, "bus": 61}, "mean_speed_kmh": 97.5},
    "collisions": 0,
    "signals": 0,
    "safety": {"near_misses": 0, "min_ttc_s": None},
    "messages": {
        "bsm_transmitted": 16090,
        "prr": {"at_100m": 0.983291, "at_300m": 0.950362, "range_at_0.9_m": 500.0,
                "range_at_0.95_m": 320.0},
        "rsu_uplink_prr": {"at_100m": None, "at_300m": None},
        "latency": {"bsm": {"p50_ms": 50.0, "p95_ms": 98.0, "p99_ms": 101.0}},
        "cbr": {"mean": 0.300774, "max_node": 0.56},
    },
}


# --- parsing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, op, value", [
    (">= 0.9", ">=", 0.9), ("<= 100", "<=", 100.0), ("> 3", ">", 3.0), ("< -2.5", "<", -2.5),
    ("== 0", "==", 0.0), ("!= 7", "!=", 7.0), ("≥ 1e-3", ">=", 0.001), ("≤ .5", "<=", 0.5),
    ("≠ +4", "!=", 4.0), (">= 1E3", ">=", 1000.0),
])
def test_every_operator_parses(text: str, op: str, value: float) -> None:
    e = parse_expectation("collisions", text)
    assert (e.key, e.op, e.value, e.upper, e.tolerance) == ("collisions", op, value, None, None)


@pytest.mark.parametrize("text", ["== 5 ± 0.5", "== 5 +- 0.5", "== 5 +/- 0.5", "==5±0.5",
                                  "  ==  5   +-   .5  ", "==5+-0.5"])
def test_tolerance_form(text: str) -> None:
    e = parse_expectation("sim_time_s", text)
    assert (e.op, e.value, e.tolerance) == ("==", 5.0, 0.5)
    assert e.expression == "== 5 ± 0.5"
    assert e.check(4.5) and e.check(5.5) and e.check(5.0)
    assert not e.check(4.49) and not e.check(5.51)


@pytest.mark.parametrize("text", ["between 3 and 5", "BETWEEN 3 AND 5", " between   3 and\t5 ",
                                  "between 3.0 and 5e0"])
def test_between_is_inclusive(text: str) -> None:
    e = parse_expectation("collisions", text)
    assert (e.op, e.value, e.upper) == ("between", 3.0, 5.0)
    assert e.expression == "between 3 and 5"
    assert e.check(3) and e.check(5) and e.check(4.2)
    assert not e.check(2.999) and not e.check(5.001)


@pytest.mark.parametrize("text", [">=0.9", ">= 0.9", "  >=\t0.9  ", "\n>= 0.9\n", ">=   0.90"])
def test_whitespace_does_not_matter(text: str) -> None:
    assert parse_expectation("prr.at_300m", text) == Expectation("prr.at_300m", ">=", 0.9)


@pytest.mark.parametrize("text, fragment", [
    (">= abc", "expected a number after '>='"),
    ("=> 1", "did you mean '>='"),
    ("=< 1", "did you mean '<='"),
    ("= 1", "did you mean '=='"),
    ("", "empty expression"),
    ("   ", "empty expression"),
    ("between 3", "expected 'and'"),
    ("between 3 and", "expected a number after 'and'"),
    ("between 5 and 3", "low bound is above the high bound"),
    ("0.9", "missing comparison operator"),
    (">= 0.9 1", "unexpected '1'"),
    (">= 1e", "'1e' is not a number"),
    (">= 0.9abc", "is not a number"),
    (">= inf", "expected a number"),
    (">= nan", "expected a number"),
    (">= 1e999", "not a finite number"),
    (">= 5 ± 1", "needs '=='"),
    ("== 5 ± -1", "must not be negative"),
    ("== 5 ±", "expected a number after '±'"),
    ("about 5", "unexpected 'about'"),
    (">= 90%", "unexpected character '%'"),
    ("eval('1')", "unexpected"),
])
def test_bad_expressions_name_the_key_and_the_allowed_forms(text: str, fragment: str) -> None:
    with pytest.raises(ExpectationError) as info:
        parse_expectation("prr.at_300m", text)
    msg = str(info.value)
    assert msg.startswith("prr.at_300m: ")
    assert fragment in msg
    assert "allowed:" in msg and "between <low> and <high>" in msg
    assert info.value.key == "prr.at_300m"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [0.9, 0, True, None, ["> 1"]])
def test_non_string_values_are_rejected_with_a_hint(value: Any) -> None:
    with pytest.raises(ExpectationError, match="expected a quoted comparison") as info:
        parse_expectation("collisions", value)
    assert info.value.key == "collisions"
    if value == 0.9:
        assert "'>= 0.9'" in str(info.value)


def test_parse_expectations_keeps_order_and_drops_nulls() -> None:
    got = parse_expectations({"prr.at_300m": ">= 0.9", "collisions": "== 0", "cbr.mean": None,
                              "latency": {"bsm": {"p99_ms": "<= 100"}}})
    assert [str(e) for e in got] == ["prr.at_300m >= 0.9", "collisions == 0",
                                    "latency.bsm.p99_ms <= 100"]
    assert parse_expectations({}) == [] and parse_expectations(None) == []
    with pytest.raises(ExpectationError, match=r"^collisions: '=> 0'"):
        parse_expectations({"prr.at_300m": ">= 0.9", "collisions": "=> 0"})


@pytest.mark.parametrize("key, fragment", [
    ("foo.bar", "unknown metric 'foo'"),
    ("prrr.at_300m", "did you mean 'prr'"),
    ("prr..at_300m", "no empty parts"),
    (".prr", "no empty parts"),
    ("prr.at 300m", "no empty parts or spaces"),
    ("", "empty key"),
])
def test_bad_keys(key: str, fragment: str) -> None:
    with pytest.raises(ExpectationError, match=fragment):
        parse_expectation(key, ">= 1")


def test_expectations_are_frozen_and_round_trip_through_their_expression() -> None:
    e = parse_expectation("prr.at_300m", ">= 0.95")
    with pytest.raises(AttributeError):
        e.value = 1.0  # type: ignore[misc]
    for text in (">= 0.95", "!= -3", "== 2.5 +- 0.25", "between 0.001 and 1e6", "< 1e-07"):
        e = parse_expectation("cbr.mean", text)
        assert parse_expectation("cbr.mean", e.expression) == e


# --- keys: aliases, dotted keys, the nested form -----------------------------------------------

@pytest.mark.parametrize("key, path, value", [
    ("prr.at_300m", "messages.prr.at_300m", 0.950362),
    ("messages.prr.at_300m", "messages.prr.at_300m", 0.950362),
    ("latency.bsm.p99_ms", "messages.latency.bsm.p99_ms", 101.0),
    ("cbr.mean", "messages.cbr.mean", 0.300774),
    ("bsm_transmitted", "messages.bsm_transmitted", 16090),
    ("vehicles.simulated", "vehicles.simulated", 1401),
    ("vehicles.by_class.car", "vehicles.by_class.car", 1074),
    ("collisions", "collisions", 0),
    ("prr.range_at_0.9_m", "messages.prr.range_at_0.9_m", 500.0),  # a key with a dot in it
    ("prr.range_at_0.95_m", "messages.prr.range_at_0.95_m", 320.0),
    ("safety.min_ttc_s", "safety.min_ttc_s", None),
])
def test_alias_resolution(key: str, path: str, value: Any) -> None:
    assert resolve(SUMMARY, key) == (path, value, "")


def test_the_root_wins_over_messages() -> None:
    summary = {"signals": 3, "messages": {"signals": 99}}
    assert resolve(summary, "signals") == ("signals", 3, "")


def test_unresolvable_keys_explain_themselves() -> None:
    path, value, problem = resolve(SUMMARY, "prr.at_250m")
    assert path is None and value is None
    assert problem.startswith("no value: messages.prr has no 'at_250m'") and "at_300m" in problem
    _, _, problem = resolve(SUMMARY, "foo.bar")
    assert problem.startswith("unknown key: 'foo'") and "summary.messages" in problem
    _, _, problem = resolve(SUMMARY, "collisions.total")
    assert problem == "no value: collisions is a number, not a section"


def test_flatten_expect_nested_and_flat_forms_agree() -> None:
    flat = {"prr.at_300m": ">= 0.9", "latency.bsm.p99_ms": "<= 100", "collisions": "== 0"}
    nested = {"prr": {"at_300m": ">= 0.9"}, "latency": {"bsm": {"p99_ms": "<= 100"}},
              "collisions": "== 0"}
    mixed = {"prr.at_300m": ">= 0.9", "latency.bsm": {"p99_ms": "<= 100"}, "collisions": "== 0"}
    assert flatten_expect(flat) == flat
    assert flatten_expect(nested) == flat
    assert flatten_expect(mixed) == flat
    assert flatten_expect(flatten_expect(nested)) == flat  # idempotent
    assert flatten_expect(None) == {} and flatten_expect({}) == {}
    assert flatten_expect({"cbr": {"mean": None}}) == {"cbr.mean": None}  # nulls survive
    with pytest.raises(ExpectationError, match="given twice"):
        flatten_expect({"prr.at_300m": ">= 0.9", "prr": {"at_300m": ">= 0.8"}})
    with pytest.raises(ExpectationError, match="expected a mapping"):
        flatten_expect(">= 0.9")


def test_set_overrides_with_dotted_keys() -> None:
    from sim.scenario.loader import apply_override, parse_override

    # What `--set expect.prr.at_300m=">= 0.95"` reaches the loader as (the shell drops the quotes).
    data: dict[str, Any] = {"name": "x", "expect": {"prr": {"at_300m": ">= 0.90"},
                                                    "collisions": "== 0"}}
    parts, value = parse_override("expect.prr.at_300m=>= 0.95")
    assert parts == ["expect", "prr", "at_300m"] and value == ">= 0.95"
    assert apply_expect_override(data, parts, value)
    assert data["expect"] == {"prr.at_300m": ">= 0.95", "collisions": "== 0"}
    assert apply_expect_override(data, *parse_override("expect.cbr.mean=<= 0.6"))
    assert apply_expect_override(data, *parse_override("expect.collisions=null"))
    assert coerce_expect(data["expect"]) == {"prr.at_300m": ">= 0.95", "cbr.mean": "<= 0.6"}
    assert apply_expect_override(data, *parse_override("expect={}"))
    assert data["expect"] == {}
    # Other keys are left to the ordinary override.
    assert not apply_expect_override(data, ["seed"], 3) and "seed" not in data
    apply_override(data, ["seed"], 3)
    assert data["seed"] == 3
    # Why the special case exists: the ordinary override nests, and would then clash.
    plain: dict[str, Any] = {"expect": {"prr.at_300m": ">= 0.90"}}
    apply_override(plain, ["expect", "prr", "at_300m"], ">= 0.95")
    with pytest.raises(ExpectationError, match="given twice"):
        flatten_expect(plain["expect"])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    expect: Expectations = Field(default_factory=dict)


def test_pydantic_field_type_validates_at_load() -> None:
    assert _Model().expect == {}
    m = _Model(expect={"prr": {"at_300m": " >= 0.9 "}, "collisions": "== 0", "cbr.mean": None})
    assert m.expect == {"prr.at_300m": ">= 0.9", "collisions": "== 0"}
    with pytest.raises(ValidationError) as info:
        _Model(expect={"prr": {"at_300m": ">= abc"}})
    err = info.value.errors()[0]
    assert err["loc"] == ("expect", "prr.at_300m")
    assert "expected a number after '>='" in err["msg"] and "allowed:" in err["msg"]
    with pytest.raises(ValidationError) as info:
        _Model(expect={"colisions": "== 0"})
    err = info.value.errors()[0]
    assert err["loc"] == ("expect",) and "colisions: unknown metric" in err["msg"]
    assert "did you mean 'collisions'" in err["msg"]
    schema = _Model.model_json_schema()["properties"]["expect"]
    assert schema["type"] == "object" and schema["additionalProperties"] == {"type": "string"}


# --- evaluation --------------------------------------------------------------------------------

def test_evaluation_pass_fail_and_no_value() -> None:
    out = check({
        "prr.at_300m": ">= 0.90",          # pass
        "latency.bsm.p99_ms": "<= 100",    # fail: 101
        "collisions": "== 0",              # pass
        "rsu_uplink_prr.at_300m": ">= 0.9",  # null: no samples
        "prr.at_250m": ">= 0.9",           # not reported
        "vehicles.by_class": "> 0",        # a section, not a number
        "scenario": "== 1",                # a string
        "cbr.mean": "between 0.2 and 0.4",  # pass
        "vehicles.simulated": "== 1400 ± 1",  # pass
    }, SUMMARY)
    by_key = {o.key: o for o in out}
    assert [o.key for o in out][:3] == ["prr.at_300m", "latency.bsm.p99_ms", "collisions"]
    assert by_key["prr.at_300m"].passed and by_key["prr.at_300m"].reason == ""
    assert by_key["prr.at_300m"].actual == 0.950362
    assert by_key["prr.at_300m"].path == "messages.prr.at_300m"
    lat = by_key["latency.bsm.p99_ms"]
    assert not lat.passed and lat.actual == 101.0 and lat.reason == "101.0 is not <= 100"
    assert by_key["collisions"].passed
    null = by_key["rsu_uplink_prr.at_300m"]
    assert not null.passed and null.actual is None and null.reason.startswith("no value")
    missing = by_key["prr.at_250m"]
    assert not missing.passed and missing.reason.startswith("no value") and missing.path is None
    assert not by_key["vehicles.by_class"].passed
    assert by_key["vehicles.by_class"].reason.startswith("not a number")
    assert not by_key["scenario"].passed and by_key["scenario"].actual == "demo"
    assert by_key["cbr.mean"].passed and by_key["vehicles.simulated"].passed
    assert counts(out) == {"passed": 4, "failed": 5}


def test_unknown_section_is_reported_not_raised() -> None:
    # Expectation objects built directly skip the load-time key check; evaluate still copes.
    out = evaluate([Expectation("nonsense.metric", ">=", 1.0)], SUMMARY)
    assert not out[0].passed and out[0].reason.startswith("unknown key: 'nonsense'")
    assert evaluate([Expectation("collisions", "==", 0.0)], {})[0].reason.startswith("unknown key")


def test_nan_and_bool_values_fail() -> None:
    summary = {"collisions": float("nan"), "interrupted": False}
    out = evaluate([Expectation("collisions", "!=", 1.0), Expectation("interrupted", "==", 0.0)],
                   summary)
    assert [o.passed for o in out] == [False, False]
    assert out[0].reason.startswith("no value") and out[1].reason.startswith("not a number")


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(x=finite, t=finite)
def test_at_least_passes_iff_x_at_least_t(x: float, t: float) -> None:
    out = check({"collisions": f">= {t!r}"}, {"collisions": x})
    assert out[0].passed == (x >= t)


PY_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
          "==": operator.eq, "!=": operator.ne}


@given(x=finite | st.integers(-10**6, 10**6), t=finite, op=st.sampled_from(OPERATORS))
def test_every_operator_agrees_with_python(x: float, t: float, op: str) -> None:
    [o] = check({"cbr.mean": f"{op} {t!r}"}, {"messages": {"cbr": {"mean": x}}})
    assert o.passed == PY_OPS[op](x, t)
    assert (o.reason == "") == o.passed
    assert o.passed or o.reason.endswith(f" is not {o.expression}")


@given(x=finite, a=finite, b=finite)
def test_between_agrees_with_chained_comparison(x: float, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    [o] = check({"seed": f"between {lo!r} and {hi!r}"}, {"seed": x})
    assert o.passed == (lo <= x <= hi)


# --- reporting ---------------------------------------------------------------------------------

def _render(table: Any) -> str:
    from rich.console import Console

    console = Console(record=True, width=160, color_system=None)
    console.print(table)
    return console.export_text()


def test_table_and_json() -> None:
    out = check({"prr.at_300m": ">= 0.9", "latency.bsm.p99_ms": "<= 100",
                 "rsu_uplink_prr.at_100m": ">= 0.9"}, SUMMARY)
    table = outcomes_table(out)
    assert [c.header for c in table.columns] == ["key", "expected", "actual", "result", "note"]
    result_cells = list(table.columns[3].cells)
    assert [c.plain for c in result_cells] == ["PASS", "FAIL", "FAIL"]
    assert "green" in str(result_cells[0].style) and "red" in str(result_cells[1].style)
    text = _render(table)
    assert "1 passed, 2 failed" in text and "0.950362" in text and "no value" in text
    # No note column when every failure is a plain comparison.
    assert [c.header for c in outcomes_table(out[:2]).columns][-1] == "result"
    rows = outcomes_json(out)
    assert rows[0] == {"key": "prr.at_300m", "path": "messages.prr.at_300m",
                       "expected": ">= 0.9", "actual": 0.950362, "passed": True, "reason": ""}
    assert rows[2]["actual"] is None and rows[2]["passed"] is False
    report = outcomes_report(out)
    assert report["passed"] == 1 and report["failed"] == 2 and len(report["outcomes"]) == 3
    json.dumps(report, allow_nan=False)  # writable by sim.io.rundir.write_json


# --- a real run --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from sim.runner import run_scenario
    from sim.scenario.loader import load_scenario

    d: Path = tmp_path_factory.mktemp("expect")
    loaded = load_scenario(str(tiny_scenario(d)), ["duration_s=2"])
    return run_scenario(loaded, d / "run").summary


def test_sections_match_a_real_summary(real_summary: dict[str, Any]) -> None:
    # If this fails, summary.json gained or lost a section: update SUMMARY_SECTIONS /
    # MESSAGES_SECTIONS in sim/spec/expect.py (they reject misspelt keys at load time).
    assert set(real_summary) - {"error", "expectations"} == SUMMARY_SECTIONS
    assert set(real_summary["messages"]) == MESSAGES_SECTIONS


def test_end_to_end_on_a_real_run(real_summary: dict[str, Any]) -> None:
    out = check({
        "vehicles.simulated": "> 0",
        "collisions": "== 0",
        "sim_time_s": "== 2 ± 0.001",
        "prr.at_100m": "between 0 and 1",
        "prr.range_at_0.9_m": ">= 0",
        "latency.bsm": {"p99_ms": "<= 101", "p50_ms": ">= 1"},
        "bsm_transmitted": "< 0",  # deliberately fails
    }, real_summary)
    by_key = {o.key: o for o in out}
    assert by_key["bsm_transmitted"].passed is False
    assert by_key["bsm_transmitted"].actual == real_summary["messages"]["bsm_transmitted"] > 0
    passing = [o for o in out if o.key != "bsm_transmitted"]
    assert all(o.passed for o in passing), [o for o in passing if not o.passed]
    assert by_key["prr.at_100m"].actual == real_summary["messages"]["prr"]["at_100m"]
    assert by_key["latency.bsm.p99_ms"].path == "messages.latency.bsm.p99_ms"
    assert counts(out) == {"passed": 7, "failed": 1}
    assert "7 passed, 1 failed" in _render(outcomes_table(out))


# --- integration (active once ScenarioSpec has `expect`; see sim/metrics/expectations.py) ------

def _integrated() -> bool:
    from sim.spec.schema import ScenarioSpec

    return "expect" in ScenarioSpec.model_fields


integrated = pytest.mark.skipif(not _integrated(), reason="ScenarioSpec has no `expect` field yet")


@integrated
def test_loader_flattens_files_bases_and_overrides(tmp_path: Path) -> None:
    from sim.core.errors import ScenarioError
    from sim.scenario.loader import load_scenario

    tiny_scenario(tmp_path, expect={"prr": {"at_100m": ">= 0.5"}, "collisions": "== 0"})
    child = tmp_path / "child.yaml"
    child.write_text('base: tiny.yaml\nname: child\nexpect:\n  prr.at_100m: ">= 0.99"\n'
                     '  collisions: null\n  cbr: {mean: "<= 1"}\n', encoding="utf-8")
    assert load_scenario(str(tmp_path / "tiny.yaml")).spec.expect == {
        "prr.at_100m": ">= 0.5", "collisions": "== 0"}
    assert load_scenario(str(child)).spec.expect == {"prr.at_100m": ">= 0.99", "cbr.mean": "<= 1"}
    spec = load_scenario(str(child), ["expect.prr.at_100m=>= 0.9", "expect.collisions=== 1"]).spec
    assert spec.expect == {"prr.at_100m": ">= 0.9", "cbr.mean": "<= 1", "collisions": "== 1"}
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(child), ["expect.prr.at_100m=>= x"])
    assert info.value.key_path == "expect.prr.at_100m" and "allowed:" in info.value.message
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(child), ["expect.colisions=== 0"])
    assert info.value.key_path == "expect.colisions" and "did you mean" in info.value.message


@integrated
def test_cli_exit_codes_and_outputs(tmp_path: Path) -> None:
    from sim.cli import main

    scenario = str(tiny_scenario(tmp_path, duration_s=1))
    ok = ["--set", "expect.collisions=== 0", "--set", "expect.vehicles.simulated=> 0"]
    assert main(["run", scenario, "--quiet", "--out", str(tmp_path / "ok"), *ok]) == 0
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text())
    assert summary["expectations"] == {"passed": 2, "failed": 0}
    report = json.loads((tmp_path / "ok" / "expectations.json").read_text())
    assert [r["passed"] for r in report["outcomes"]] == [True, True]
    bad = [*ok, "--set", "expect.bsm_transmitted=< 0"]
    assert main(["run", scenario, "--quiet", "--out", str(tmp_path / "bad"), *bad]) == 1
    assert json.loads((tmp_path / "bad" / "expectations.json").read_text())["failed"] == 1
    typo = ["--set", "expect.collisions=>= abc"]
    assert main(["run", scenario, "--quiet", "--out", str(tmp_path / "typo"), *typo]) == 2
    # Without expectations nothing changes.
    assert main(["run", scenario, "--quiet", "--out", str(tmp_path / "none")]) == 0
    assert not (tmp_path / "none" / "expectations.json").exists()
    assert "expectations" not in json.loads((tmp_path / "none" / "summary.json").read_text())
