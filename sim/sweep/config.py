"""Benchmark configurations (`sim/sweep/configs/*.yaml`): which scenario keys move the load, how far.

Configurations are data, like scenarios, so a new load benchmark (e.g. Auto City at rush hour) is a
new YAML file, not new code. The format:

    name: expressway-load                 # default: the file name
    description: free flow to capacity
    scenario: airport-expressway          # the scenario the keys were written for
    load_label: traffic density (veh/km/lane)   # the plots' x axis, with its unit
    set:                                  # optional: overrides applied to every point
      output.trace.states: false
    points:                               # required: one entry per load level
      - load: 3                           # required number: the x value
        series: light traffic             # optional: plot series name
        routes.0.flow_veh_h_per_lane: 330 # any other key is a dotted scenario override
    cross:                                # optional: repeat every point for each value;
      - key: fleet.v2x_penetration        #   each value becomes its own plot series
        values: [0.3, 0.6, 1.0]
        label: "{value:.0%} V2X"          #   series name, a format string of {value}

Problems are reported as `SweepError` naming the file and the entry, e.g.
`configs/x.yaml: points[2].load: expected a number`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.errors import ScenarioError
from sim.scenario.loader import read_yaml
from sim.sweep.errors import SweepError
from sim.sweep.grid import SweepPoint, check_unique_ids, format_value, make_point

_TOP_KEYS = {"name", "description", "scenario", "load_label", "set", "points", "cross"}
_CROSS_KEYS = {"key", "values", "label"}


def configs_dir() -> Path:
    """The shipped configurations (package data, so they work from an installed wheel too)."""
    return Path(__file__).resolve().parent / "configs"


def config_names() -> list[str]:
    d = configs_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


@dataclass(frozen=True)
class BenchConfig:
    name: str
    source: str
    description: str
    scenario: str | None
    load_label: str
    fixed_overrides: tuple[str, ...]
    points: tuple[SweepPoint, ...]


def find_config(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise SweepError(f"--config {name_or_path}: file not found")
        return p
    candidate = configs_dir() / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(config_names()) or f"none in {configs_dir()}"
    raise SweepError(f"--config {name_or_path}: no such file and no shipped configuration of that "
                     f"name; shipped: {known}")


def _fail(source: str, where: str, message: str) -> SweepError:
    return SweepError(f"{source}: {where}: {message}" if where else f"{source}: {message}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _overrides(source: str, where: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise _fail(source, where, "expected a mapping of dotted.key: value")
    for k in data:
        if not isinstance(k, str) or not k or any(not part for part in k.split(".")):
            raise _fail(source, f"{where}.{k}", "expected a dotted scenario key")
    return dict(data)


def _cross_axes(source: str, data: Any) -> list[tuple[str, list[Any], str | None]]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise _fail(source, "cross", "expected a list of {key, values, label}")
    axes = []
    for i, axis in enumerate(data):
        where = f"cross[{i}]"
        if not isinstance(axis, Mapping):
            raise _fail(source, where, "expected a mapping with key, values and label")
        unknown = sorted(set(axis) - _CROSS_KEYS)
        if unknown:
            allowed = ", ".join(sorted(_CROSS_KEYS))
            raise _fail(source, f"{where}.{unknown[0]}", f"unknown key; allowed: {allowed}")
        key, values, label = axis.get("key"), axis.get("values"), axis.get("label")
        if not isinstance(key, str) or not key:
            raise _fail(source, f"{where}.key", "expected a dotted scenario key")
        if not isinstance(values, list) or not values:
            raise _fail(source, f"{where}.values", "expected a non-empty list")
        if label is not None:
            if not isinstance(label, str):
                raise _fail(source, f"{where}.label",
                            "expected a format string such as '{value} Hz'")
            try:
                label.format(value=values[0])
            except (KeyError, IndexError, ValueError) as exc:
                raise _fail(source, f"{where}.label", f"bad format string ({exc})") from None
        axes.append((key, values, label))
    return axes


def _series_name(key: str, value: Any, label: str | None) -> str:
    return label.format(value=value) if label else f"{key.rsplit('.', 1)[-1]}={format_value(value)}"


def parse_config(data: Any, source: str, default_name: str) -> BenchConfig:
    if not isinstance(data, Mapping):
        raise _fail(source, "", "expected a mapping with at least `points`")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(source, unknown[0], f"unknown key; allowed: {', '.join(sorted(_TOP_KEYS))}")
    raw_points = data.get("points")
    if not isinstance(raw_points, list) or not raw_points:
        raise _fail(source, "points", "expected a non-empty list of load levels")
    fixed = _overrides(source, "set", data.get("set") or {})
    axes = _cross_axes(source, data.get("cross"))
    points = []
    for i, entry in enumerate(raw_points):
        where = f"points[{i}]"
        if not isinstance(entry, Mapping):
            raise _fail(source, where, "expected a mapping with `load` and dotted overrides")
        load = entry.get("load")
        if not _is_number(load):
            raise _fail(source, f"{where}.load", f"expected a number (got {load!r})")
        series = entry.get("series")
        if series is not None and not isinstance(series, str):
            raise _fail(source, f"{where}.series", "expected a text label")
        base = _overrides(source, where,
                          {k: v for k, v in entry.items() if k not in ("load", "series")})
        for combo in itertools.product(*(values for _, values, _ in axes)):
            assignment = dict(base)
            names = [series] if series else []
            for (key, _, label), value in zip(axes, combo, strict=True):
                assignment[key] = value
                names.append(_series_name(key, value, label))
            labels = {"series": ", ".join(names) if names else "", "load": load}
            points.append(make_point(assignment, labels=labels))
    try:
        check_unique_ids(points)
    except ScenarioError:
        raise _fail(source, "points", "two points have the same overrides") from None
    name = data.get("name", default_name)
    return BenchConfig(
        name=str(name), source=source, description=str(data.get("description", "")).strip(),
        scenario=data.get("scenario"), load_label=str(data.get("load_label", "load")),
        fixed_overrides=tuple(f"{k}={format_value(v)}" for k, v in fixed.items()),
        points=tuple(points),
    )


def load_config(name_or_path: str) -> BenchConfig:
    """Reads and checks a configuration by shipped name or path. Raises `SweepError`."""
    path = find_config(name_or_path)
    # The scenario loader's reader: regular files within a size cap, checked encoding, bounded
    # nesting and alias expansion, plain unique keys (a sweep file is as hostile as a scenario).
    data = read_yaml(path)
    return parse_config(data, str(path), path.stem)
