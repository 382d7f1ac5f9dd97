"""Expectation grammar: the `expect:` mapping of a scenario, parsed and validated at load.

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

This module is part of the spec leaf (the schema validates `expect:` with it); evaluating the
expressions against a run's summary lives in `sim.metrics.expectations`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator

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
    "red_light_violations", "safety", "applications", "rsus", "signals", "traffic", "messages",
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
            return f"between {format_number(self.value)} and {format_number(self.upper)}"
        if self.tolerance is not None:
            return f"{self.op} {format_number(self.value)} ± {format_number(self.tolerance)}"
        return f"{self.op} {format_number(self.value)}"

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


def format_number(x: float | None) -> str:
    """A bound as a scenario author would write it: 5 not 5.0, None as '?'."""
    if x is None:
        return "?"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)
