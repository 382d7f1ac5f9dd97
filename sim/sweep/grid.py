"""Sweep points: `--grid dotted.key=v1,v2,...` parsing, the Cartesian product, stable point ids.

A point is an assignment {dotted key: value}. Its id names its run directory, so it must be the
same on every invocation (that is what lets a re-run skip finished work) and must not depend on
the order of the `--grid` flags: it is a short slug of the values, sorted by key, plus 8 hex digits
of a sha256 over the canonical JSON of the assignment. Values are kept both as typed values (for
the results table) and as the override text handed to the scenario loader, so a worker parses
exactly what the user typed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sim.core.errors import ScenarioError

_SLUG_MAX = 40
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_KEY = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


@dataclass(frozen=True)
class GridAxis:
    """One `--grid` flag: a dotted scenario key and the raw text of each value to try."""

    key: str
    raw_values: tuple[str, ...]

    def overrides(self) -> list[str]:
        return [f"{self.key}={raw}" for raw in self.raw_values]


@dataclass(frozen=True)
class SweepPoint:
    """One assignment of scenario keys; `labels` are extra columns (e.g. the benchmark's load)."""

    point_id: str
    assignment: tuple[tuple[str, Any], ...]
    overrides: tuple[str, ...]
    labels: tuple[tuple[str, Any], ...] = ()

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.assignment)


def parse_value(raw: str) -> Any:
    """The typed value of an override's text, parsed as the scenario loader parses it (YAML)."""
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def format_value(value: Any) -> str:
    """Override text for a typed value: JSON is valid YAML flow syntax and round-trips exactly."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def split_values(text: str) -> list[str]:
    """Splits on commas outside brackets, braces and quotes: `[100,300],[50]` is two values."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [v.strip() for v in out]


def parse_grid(specs: Sequence[str]) -> list[GridAxis]:
    """Parses every `--grid` text; raises `ScenarioError` (source `--grid`) naming the bad one."""
    axes: list[GridAxis] = []
    seen: set[str] = set()
    for text in specs:
        if "=" not in text:
            raise ScenarioError("--grid", text, "expected dotted.key=v1,v2,...")
        key, rest = (part.strip() for part in text.split("=", 1))
        if not _KEY.match(key):
            raise ScenarioError("--grid", text, "expected dotted.key=v1,v2,... "
                                "(key: names and list indices separated by dots)")
        if key == "seed":
            raise ScenarioError("--grid", key, "seeds are swept by --seeds N (seeds 1..N at every "
                                "point), not by the grid")
        if key in seen:
            raise ScenarioError("--grid", key, "key given twice; put all its values in one --grid")
        values = split_values(rest)
        if any(v == "" for v in values):
            raise ScenarioError("--grid", key, f"empty value in {rest!r}; "
                                "expected comma-separated values, e.g. key=1,2,3")
        typed = [format_value(parse_value(v)) for v in values]
        dupes = sorted({values[i] for i, t in enumerate(typed) if typed.count(t) > 1})
        if dupes:
            raise ScenarioError("--grid", key, f"value repeated: {', '.join(dupes)}")
        seen.add(key)
        axes.append(GridAxis(key, tuple(values)))
    return axes


def point_id(assignment: Mapping[str, Any]) -> str:
    """`<values slug>-<hash8>`, stable across runs and independent of key order."""
    items = sorted(assignment.items())
    canonical = json.dumps(items, ensure_ascii=False, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
    slug = "_".join(_UNSAFE.sub("-", format_value(v).strip('"')) for _, v in items)
    slug = slug.strip("-_.")[:_SLUG_MAX].rstrip("-_.") or "base"
    return f"{slug}-{digest}"


def make_point(assignment: Mapping[str, Any], overrides: Sequence[str] | None = None,
               labels: Mapping[str, Any] | None = None) -> SweepPoint:
    """A point from typed values; `overrides` defaults to their JSON/YAML text."""
    ov = list(overrides) if overrides is not None else [
        f"{k}={format_value(v)}" for k, v in assignment.items()
    ]
    return SweepPoint(point_id(assignment), tuple(assignment.items()), tuple(ov),
                      tuple((labels or {}).items()))


def expand_grid(axes: Sequence[GridAxis]) -> list[SweepPoint]:
    """The Cartesian product, first axis slowest; no axes gives the one base point."""
    points = []
    for combo in itertools.product(*(axis.raw_values for axis in axes)):
        assignment = {a.key: parse_value(raw) for a, raw in zip(axes, combo, strict=True)}
        overrides = [f"{a.key}={raw}" for a, raw in zip(axes, combo, strict=True)]
        points.append(make_point(assignment, overrides))
    check_unique_ids(points)
    return points


def check_unique_ids(points: Sequence[SweepPoint]) -> None:
    seen: dict[str, SweepPoint] = {}
    for p in points:
        if p.point_id in seen:
            other = seen[p.point_id].values
            raise ScenarioError("--grid", p.point_id,
                                f"two points share this id: {other} and {p.values}")
        seen[p.point_id] = p
