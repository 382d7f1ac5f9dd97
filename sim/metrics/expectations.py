"""Expectations evaluated: a scenario's own pass/fail checks held against its `summary.json`.

The grammar (keys, operators, the nested form, `--set expect.KEY=EXPR`) is parsed at load by
`sim.spec.expect`; this module resolves each key in a finished run's summary and gives a verdict.
Evaluation never raises: a missing key, a null value (e.g. PRR with no samples at that distance)
or a non-number is a failed outcome with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.spec.expect import ALIAS_ROOTS, Expectation, parse_expectations

if TYPE_CHECKING:
    from rich.table import Table


@dataclass(frozen=True)
class Outcome:
    """The verdict on one expectation. `actual` is the summary value (None if there was none);
    `reason` says why it failed ("" when it passed); `path` is where the key resolved to."""

    key: str
    expression: str
    actual: Any
    passed: bool
    reason: str
    path: str | None = None


# --- evaluation --------------------------------------------------------------------------------

_MISSING = object()


def _lookup(node: Any, parts: Sequence[str]) -> tuple[list[str], Any] | None:
    """Walks `parts` through nested mappings, letting a dict key span several parts (for keys
    with dots such as `range_at_0.9_m`); longest key first. (path keys, value) or None."""
    if not parts:
        return [], node
    if not isinstance(node, Mapping):
        return None
    for i in range(len(parts), 0, -1):
        k = ".".join(parts[:i])
        if k in node:
            found = _lookup(node[k], parts[i:])
            if found is not None:
                return [k, *found[0]], found[1]
    return None


def _deepest(node: Any, parts: Sequence[str]) -> tuple[list[str], Any, list[str]]:
    """The longest existing prefix of `parts`: (keys matched, node there, parts left)."""
    matched: list[str] = []
    rest = list(parts)
    while rest and isinstance(node, Mapping):
        for i in range(len(rest), 0, -1):
            k = ".".join(rest[:i])
            if k in node:
                matched.append(k)
                node = node[k]
                rest = rest[i:]
                break
        else:
            break
    return matched, node, rest


def _join(root: str, keys: Sequence[str]) -> str:
    return ".".join([root, *keys] if root else keys)


def resolve(summary: Mapping[str, Any], key: str) -> tuple[str | None, Any, str]:
    """Finds `key` in the summary: (resolved dotted path or None, value or None, problem or "").
    The problem is "" when a value (possibly null) was found."""
    parts = key.split(".")
    roots: list[tuple[str, Any]] = []
    for name in ALIAS_ROOTS:
        node = summary if not name else summary.get(name)
        if isinstance(node, Mapping):
            roots.append((name, node))
    for name, node in roots:
        found = _lookup(node, parts)
        if found is not None:
            return _join(name, found[0]), found[1], ""
    # Not found: explain from the root where the key gets furthest.
    best: tuple[str, list[str], Any, list[str]] | None = None
    for name, node in roots:
        matched, at, rest = _deepest(node, parts)
        if matched and (best is None or len(matched) > len(best[1])):
            best = (name, matched, at, rest)
    if best is None:
        where = " or ".join(f"summary.{n}" if n else "summary.json" for n, _ in roots)
        return None, None, f"unknown key: {parts[0]!r} is not in {where}"
    name, matched, at, rest = best
    path = _join(name, matched)
    if isinstance(at, Mapping):
        has = ", ".join(map(str, at)) or "nothing"
        return None, None, f"no value: {path} has no {rest[0]!r} (has: {has})"
    return None, None, f"no value: {path} is a number, not a section"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _show(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return f"{x:.1f}"
    return str(x)


def evaluate(expectations: Iterable[Expectation], summary: Mapping[str, Any]) -> list[Outcome]:
    """Checks each expectation against a summary dict (as in summary.json). Never raises: a missing
    key, a null or a non-number is a failed outcome whose reason says so."""
    outcomes = []
    for e in expectations:
        path, value, problem = resolve(summary, e.key)
        expr = e.expression
        if problem:
            outcomes.append(Outcome(e.key, expr, None, False, problem, path))
        elif value is None or (isinstance(value, float) and math.isnan(value)):
            outcomes.append(Outcome(e.key, expr, None, False,
                                    f"no value ({path} is null, e.g. no samples)", path))
        elif isinstance(value, Mapping):
            keys = ", ".join(map(str, value))
            outcomes.append(Outcome(e.key, expr, None, False,
                                    f"not a number: {path} is a section (has: {keys})", path))
        elif not _is_number(value):
            shown = value if isinstance(value, (str, bool)) else None
            outcomes.append(Outcome(e.key, expr, shown, False,
                                    f"not a number: {path} is {value!r}", path))
        else:
            ok = e.check(value)
            reason = "" if ok else f"{_show(value)} is not {expr}"
            outcomes.append(Outcome(e.key, expr, value, ok, reason, path))
    return outcomes


def check(mapping: Mapping[str, Any] | None, summary: Mapping[str, Any]) -> list[Outcome]:
    """parse_expectations + evaluate."""
    return evaluate(parse_expectations(mapping), summary)


# --- reporting ---------------------------------------------------------------------------------

def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """{"passed": n, "failed": m}, for `summary.json`."""
    passed = sum(1 for o in outcomes if o.passed)
    return {"passed": passed, "failed": len(outcomes) - passed}


def all_passed(outcomes: Sequence[Outcome]) -> bool:
    return all(o.passed for o in outcomes)


def outcomes_json(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """JSON-ready rows: key, path, expected, actual, passed, reason."""
    return [
        {"key": o.key, "path": o.path, "expected": o.expression, "actual": o.actual,
         "passed": o.passed, "reason": o.reason}
        for o in outcomes
    ]


def outcomes_report(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The content of `expectations.json`: counts plus one row per expectation."""
    return {**counts(outcomes), "outcomes": outcomes_json(outcomes)}


def outcomes_table(outcomes: Sequence[Outcome]) -> Table:
    """A rich table: key, expected, actual, result (green PASS / red FAIL), and a note column with
    the reason when something had no value or was not a number."""
    from rich.table import Table
    from rich.text import Text

    c = counts(outcomes)
    style = "green" if c["failed"] == 0 else "red"
    t = Table(title=Text(f"expectations: {c['passed']} passed, {c['failed']} failed", style=style))
    t.add_column("key")
    t.add_column("expected")
    t.add_column("actual", justify="right")
    t.add_column("result")
    notes = [o.reason if not o.passed and not _is_number(o.actual) else "" for o in outcomes]
    if any(notes):
        t.add_column("note", style="dim")
    for o, note in zip(outcomes, notes):
        result = Text("PASS", style="bold green") if o.passed else Text("FAIL", style="bold red")
        row = [Text(o.key), Text(o.expression), Text(_show(o.actual)), result]
        if any(notes):
            row.append(Text(note))
        t.add_row(*row)
    return t
