"""Expectations: a scenario's own pass/fail checks on its results ("scenario files as tests").

A scenario may declare

    expect:
      prr.at_300m: ">= 0.90"
      latency.bsm.p99_ms: "<= 100"
      collisions: "== 0"

Keys are dotted paths into `summary.json`. A key is looked up first under the summary root, then
under `messages`, so `prr.at_300m` means `messages.prr.at_300m` and `collisions` means
`collisions`. Summary keys that themselves contain dots (`prr.range_at_0.9_m`) resolve too.
The nested YAML form (`expect: {prr: {at_300m: ">= 0.9"}}`) is the same thing: `flatten_expect`
turns it into dotted keys, and `--set expect.KEY=EXPR` (whose KEY contains dots) goes through
`apply_expect_override`, so a file and the command line always agree on one flat key. A null value
removes an expectation (e.g. one inherited from a base scenario).

Expressions, parsed by hand (never `eval`):

    <op> <number>                 op: >=  <=  >  <  ==  !=   (also ≥ ≤ ≠)
    == <number> ± <tolerance>     also +- or +/- ; inclusive
    between <low> and <high>      inclusive

Quote them in YAML: a plain scalar starting with `>` or `!` is YAML syntax, not text.

Evaluation never raises: a missing key, a null value (e.g. PRR with no samples at that distance)
or a non-number is a failed outcome with a reason.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator

if TYPE_CHECKING:
    from rich.table import Table

OPERATORS: tuple[str, ...] = (">=", "<=", ">", "<", "==", "!=")
_UNICODE_OPERATORS = {"≥": ">=", "≤": "<=", "≠": "!="}
_OPERATOR_HINTS = {"=>": ">=", "=<": "<=", "=": "==", "===": "==", "<>": "!=", "=!": "!="}

ALLOWED_FORMS = (
    "'<op> <number>' with <op> one of >=, <=, >, <, ==, !=; "
    "'== <number> ± <tolerance>' (or +-); 'between <low> and <high>'"
)

# Top-level sections of summary.json, and those under its `messages` (where short keys resolve).
# Used to reject a misspelt key at load time rather than after a long run; the tests compare these
# with a real summary, so a new section only needs adding here.
SUMMARY_SECTIONS: frozenset[str] = frozenset({
    "scenario", "seed", "interrupted", "sim_time_s", "vehicles", "collisions",
    "red_light_violations", "safety", "applications", "rsus", "signals", "messages",
    "edge", "roadside",  # roadside/edge network (roadside/network.py), when the scenario has one
})
MESSAGES_SECTIONS: frozenset[str] = frozenset({
    "bsm_generated", "bsm_transmitted", "bsm_dropped_vehicle_left", "bsm_receptions", "prr",
    "rsu_uplink_prr", "loss_breakdown", "latency", "pir", "cbr",
})
ALIAS_ROOTS: tuple[str, ...] = ("", "messages")  # lookup order: summary root, then messages

EXPECT_DESCRIPTION = (
    "Checks on the results, run at the end of `v2xsim run` (exit code 1 if any fails): "
    "dotted summary.json key (looked up at the root, then under `messages`, e.g. prr.at_300m, "
    "latency.bsm.p99_ms, collisions) -> quoted expression: '>= 0.9', '== 0', "
    "'== 5 ± 0.5', 'between 10 and 20'. Null removes an inherited expectation."
)


class ExpectationError(ValueError):
    """A bad expectation. `key` is the dotted metric key (may be empty), `problem` the reason."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


@dataclass(frozen=True)
class Expectation:
    """One parsed check. `op` is one of OPERATORS or "between" (then `upper` is set);
    `tolerance` is set only for `== value ± tolerance`."""

    key: str
    op: str
    value: float
    upper: float | None = None
    tolerance: float | None = None

    @property
    def expression(self) -> str:
        """Canonical text, e.g. '>= 0.9', '== 5 ± 0.5', 'between 1 and 2'."""
        if self.op == "between":
            return f"between {_num(self.value)} and {_num(self.upper)}"
        if self.tolerance is not None:
            return f"{self.op} {_num(self.value)} ± {_num(self.tolerance)}"
        return f"{self.op} {_num(self.value)}"

    def check(self, x: float) -> bool:
        """Whether the number `x` satisfies this expectation (NaN never does)."""
        if math.isnan(x):
            return False
        if self.op == "between":
            assert self.upper is not None
            return self.value <= x <= self.upper
        if self.tolerance is not None:
            return abs(x - self.value) <= self.tolerance
        v = self.value
        if self.op == ">=":
            return x >= v
        if self.op == "<=":
            return x <= v
        if self.op == ">":
            return x > v
        if self.op == "<":
            return x < v
        if self.op == "==":
            return x == v
        if self.op == "!=":
            return x != v
        raise AssertionError(f"unknown operator {self.op!r}")

    def __str__(self) -> str:
        return f"{self.key} {self.expression}"


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


# --- parsing -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPCHARS = re.compile(r"[<>=!≥≤≠]+")
_PLUS_MINUS = ("±", "+/-", "+-")


@dataclass(frozen=True)
class _Token:
    kind: str  # "op", "num", "word", "pm", "end"
    text: str
    value: float = 0.0


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        pm = next((p for p in _PLUS_MINUS if text.startswith(p, i)), None)
        if pm is not None:
            tokens.append(_Token("pm", pm))
            i += len(pm)
            continue
        m = _OPCHARS.match(text, i)
        if m:
            op = _UNICODE_OPERATORS.get(m.group(), m.group())
            if op not in OPERATORS:
                hint = _OPERATOR_HINTS.get(op)
                problem = f"{m.group()!r} is not an operator"
                raise ValueError(problem + (f" (did you mean {hint!r}?)" if hint else ""))
            tokens.append(_Token("op", op))
            i = m.end()
            continue
        m = _NUMBER.match(text, i)
        if m:
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] in "._"):
                bad = re.match(r"\S+", text[i:])
                raise ValueError(f"{bad.group() if bad else text[i:]!r} is not a number")
            tokens.append(_Token("num", m.group(), float(m.group())))
            i = end
            continue
        m = _WORD.match(text, i)
        if m:
            tokens.append(_Token("word", m.group().lower()))
            i = m.end()
            continue
        raise ValueError(f"unexpected character {c!r}")
    tokens.append(_Token("end", ""))
    return tokens


def _describe(tok: _Token) -> str:
    return "the end" if tok.kind == "end" else repr(tok.text)


def _expect_number(tokens: list[_Token], i: int, after: str) -> float:
    tok = tokens[i]
    if tok.kind != "num":
        raise ValueError(f"expected a number after {after!r}, got {_describe(tok)}")
    if not math.isfinite(tok.value):
        raise ValueError(f"{tok.text!r} is not a finite number")
    return tok.value


def _expect_end(tokens: list[_Token], i: int) -> None:
    if tokens[i].kind != "end":
        raise ValueError(f"unexpected {_describe(tokens[i])}")


def _parse(key: str, text: str) -> Expectation:
    """The grammar of the module docstring; raises ValueError (without the key) on bad text."""
    tokens = _tokenize(text)
    first = tokens[0]
    if first.kind == "end":
        raise ValueError("empty expression")
    if first.kind == "word" and first.text == "between":
        low = _expect_number(tokens, 1, "between")
        if tokens[2].kind != "word" or tokens[2].text != "and":
            raise ValueError(f"expected 'and' after 'between {tokens[1].text}', "
                             f"got {_describe(tokens[2])}")
        high = _expect_number(tokens, 3, "and")
        _expect_end(tokens, 4)
        if low > high:
            raise ValueError(f"'between {tokens[1].text} and {tokens[3].text}': "
                             "the low bound is above the high bound")
        return Expectation(key, "between", low, upper=high)
    if first.kind == "op":
        value = _expect_number(tokens, 1, first.text)
        if tokens[2].kind == "pm":
            if first.text != "==":
                raise ValueError(f"a tolerance ({tokens[2].text}) needs '==', not {first.text!r}")
            tol = _expect_number(tokens, 3, tokens[2].text)
            _expect_end(tokens, 4)
            if tol < 0:
                raise ValueError("the tolerance must not be negative")
            return Expectation(key, "==", value, tolerance=tol)
        _expect_end(tokens, 2)
        return Expectation(key, first.text, value)
    if first.kind == "num":
        raise ValueError(f"missing comparison operator before {first.text}, e.g. '>= {first.text}'")
    raise ValueError(f"unexpected {_describe(first)}")


def _problem_with_allowed(problem: str) -> str:
    return f"{problem}; allowed: {ALLOWED_FORMS}"


def _check_text(text: Any) -> str:
    """The stripped expression text; raises ValueError (no key) if it is not a string."""
    if isinstance(text, str):
        return text.strip()
    if isinstance(text, bool) or text is None:
        shown = repr(text)
    elif isinstance(text, (int, float)):
        shown = f"{text!r}; quote the whole comparison, e.g. '>= {text}'"
    else:
        shown = f"a {type(text).__name__}"
    raise ValueError(f"expected a quoted comparison (got {shown})")


def parse_expectation(key: str, text: Any) -> Expectation:
    """One `key: text` pair -> Expectation. Raises ExpectationError naming the key and the forms."""
    try:
        check_key(key)
        return _parse(key, _check_text(text))
    except ExpectationError:
        raise
    except ValueError as exc:
        shown = f"{text.strip()!r}: " if isinstance(text, str) and text.strip() else ""
        raise ExpectationError(key, _problem_with_allowed(f"{shown}{exc}")) from None


def parse_expectations(mapping: Mapping[str, Any] | None) -> list[Expectation]:
    """`{dotted key: expression}` (nested mappings allowed) -> Expectations in key order.
    Null values are dropped. Raises ExpectationError (a ValueError) naming the first bad key."""
    flat = flatten_expect(mapping)
    return [parse_expectation(k, v) for k, v in flat.items() if v is not None]


# --- keys and the nested form ------------------------------------------------------------------

def check_key(key: str) -> None:
    """Rejects malformed keys and keys whose first part is no section of summary.json (either at
    the root or under `messages`). Raises ExpectationError."""
    if not isinstance(key, str) or not key.strip():
        raise ExpectationError(str(key), "empty key; expected a dotted summary key, "
                                         "e.g. prr.at_300m")
    parts = key.split(".")
    if any(not p or p != p.strip() or any(c.isspace() for c in p) for p in parts):
        raise ExpectationError(key, "expected a dotted summary key, e.g. prr.at_300m "
                                    "(no empty parts or spaces)")
    if parts[0] not in SUMMARY_SECTIONS and parts[0] not in MESSAGES_SECTIONS:
        close = difflib.get_close_matches(parts[0], _known_sections(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExpectationError(key, f"unknown metric {parts[0]!r}{hint}; keys start with one of: "
                                    f"{', '.join(_known_sections())}")


def _known_sections() -> list[str]:
    return sorted(SUMMARY_SECTIONS) + sorted(MESSAGES_SECTIONS - SUMMARY_SECTIONS)


def flatten_expect(value: Any) -> dict[str, Any]:
    """The `expect` mapping with nested mappings turned into dotted keys:
    {prr: {at_300m: x}} -> {"prr.at_300m": x}. Values (including None) are kept as they are.
    Raises ExpectationError for a key given both ways in one mapping or failing `check_key`.
    Idempotent."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ExpectationError("", "expected a mapping of summary key: 'expression', "
                                   "e.g. prr.at_300m: '>= 0.9'")
    out: dict[str, Any] = {}

    def walk(prefix: str, node: Mapping[Any, Any]) -> None:
        for k, v in node.items():
            full = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping):
                walk(full, v)
            elif full in out:
                raise ExpectationError(full, "given twice (as a dotted key and as nested keys)")
            else:
                check_key(full)
                out[full] = v

    walk("", value)
    return out


def apply_expect_override(data: dict[str, Any], parts: Sequence[str], value: Any) -> bool:
    """Applies one `--set` override if it addresses `expect` and returns True (else False and
    `data` is untouched). `expect.prr.at_300m=EXPR` sets the flat key `prr.at_300m` (null removes
    it at validation); `expect=...` replaces the whole mapping. Raises ExpectationError."""
    if not parts or parts[0] != "expect":
        return False
    if len(parts) == 1:
        data["expect"] = flatten_expect(value)
        return True
    current = flatten_expect(data.get("expect"))
    current.update(flatten_expect({".".join(parts[1:]): value}))
    data["expect"] = current
    return True


# --- pydantic helpers --------------------------------------------------------------------------

def coerce_expect(value: Any) -> Any:
    """Before-validator for the whole `expect` field: flattens nested mappings (checking the keys)
    and drops nulls. Raises ValueError whose message starts with the key."""
    return {k: v for k, v in flatten_expect(value).items() if v is not None}


def check_expression(value: Any) -> str:
    """Before-validator for one `expect` value (pydantic puts the key in the error location):
    returns the stripped text; raises ValueError naming the problem and the allowed forms."""
    try:
        text = _check_text(value)
        _parse("", text)
    except ValueError as exc:
        shown = f"{value.strip()!r}: " if isinstance(value, str) and value.strip() else ""
        raise ValueError(_problem_with_allowed(f"{shown}{exc}")) from None
    return text


ExpressionStr = Annotated[str, BeforeValidator(check_expression)]
"""One expectation expression, validated at load (for `dict[str, ExpressionStr]`)."""

Expectations = Annotated[dict[str, ExpressionStr], BeforeValidator(coerce_expect)]
"""The `expect` field type: `expect: Expectations = Field(default_factory=dict, ...)`."""


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


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)
