"""Scenario loading: YAML (or a built-in name) -> overrides -> validated, frozen `ScenarioSpec`.

Every failure becomes a `ScenarioError` naming the file, the key path and what is allowed, so the
CLI can print one line. Built-in scenarios live in the `scenarios` package and are found by name
through importlib.resources, which also works from an installed wheel.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.core.errors import ScenarioError
from sim.core.input_file import MAX_YAML_BYTES, check_regular_file, path_exists, read_text
from sim.spec.expect import ExpectationError, apply_expect_override, flatten_expect
from sim.spec.schema import ScenarioSpec

SCENARIO_SUFFIXES = (".yaml", ".yml")
#: Bounds on a scenario file's YAML, aliases expanded: real scenarios nest ~6 deep and have a few
#: thousand values; "billion laughs" aliases and `[[[[...]]]]` are refused before anything walks
#: them (pydantic, deep_merge and the RecursionError a 3,000-deep list gives).
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 1_000_000
#: `base:` files chained (a -> b -> c ...), far more than any real hierarchy.
MAX_BASE_CHAIN = 16


@dataclass(frozen=True)
class LoadedScenario:
    """A validated spec plus where it came from (for path resolution and the manifest)."""

    spec: ScenarioSpec
    source: str
    search_dirs: tuple[Path, ...] = field(default_factory=tuple)
    overrides: tuple[str, ...] = ()  # the command line's --set/--seed/--until, for the manifest

    def resolve(self, relative: str) -> Path:
        """Finds a data file named in the scenario, relative to the scenario (then its bases)."""
        p = Path(relative)
        if p.is_absolute():
            return p
        for d in self.search_dirs:
            if path_exists(d / p):
                return d / p
        return (self.search_dirs[0] if self.search_dirs else Path.cwd()) / p

    def scenario_hash(self) -> str:
        """sha256 of the validated spec (canonical JSON); data files are hashed by the builder."""
        # `expect` only judges results, so changing a threshold keeps the hash (and sweep resumes);
        # `view` only places the viewer's camera.
        # `base` and data-file locations say where things are, not what they are (the manifest
        # hashes the data files' contents): a moved or resolved copy keeps the hash.
        dumped = self.spec.model_dump(mode="json", exclude={"expect", "base", "view"})
        for section, key in (("map", "geojson"), ("network", "sumo_net"), ("traffic", "sumo_routes")):
            if dumped.get(section) and dumped[section].get(key):
                dumped[section][key] = Path(dumped[section][key]).name
        if dumped["rsus"]["geojson"]:
            dumped["rsus"]["geojson"] = Path(dumped["rsus"]["geojson"]).name
        text = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _within(key_path: str, outer: str) -> bool:
    """key_path is outer or lies inside it ("a.b[2].c" is within "a.b", "a" and "", the root)."""
    return not outer or key_path == outer or key_path.startswith((outer + ".", outer + "["))


def _names(error: ScenarioError, key_path: str) -> bool:
    """The message of an error on an object names key_path (relative to the object), in full or
    by its last name ("radio.batch_ms (30) must divide step_s" names both keys)."""
    rel = re.sub(r"\[\d+\]", "", key_path[len(error.key_path):].lstrip("."))
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", error.message)
               for name in (rel, rel.split(".")[-1]))


def builtin_dir() -> Path:
    return Path(str(resources.files("scenarios")))


def builtin_names() -> list[str]:
    """Names of the shipped scenarios: YAML files under the `scenarios` package, without suffix."""
    root = builtin_dir()
    names = []
    for p in sorted(root.rglob("*")):
        if p.suffix in SCENARIO_SUFFIXES and p.is_file():
            names.append(p.relative_to(root).with_suffix("").as_posix())
    return sorted(names)


def find_scenario(name_or_path: str) -> Path:
    """A path to an existing file, or a built-in scenario name."""
    p = Path(name_or_path)
    if "\x00" in name_or_path:
        raise ScenarioError(repr(name_or_path), "", "the path contains a NUL byte")
    exists = path_exists(p)
    if p.suffix in SCENARIO_SUFFIXES or exists or "/" in name_or_path and p.suffix:
        if not exists:
            read_text(p, MAX_YAML_BYTES)  # says why: not found, name too long, permission
            raise ScenarioError(str(p), "", "file not found")
        if p.is_dir():
            raise ScenarioError(str(p), "", "is a directory, expected a scenario YAML file")
        return p
    root = builtin_dir()
    for suffix in SCENARIO_SUFFIXES:
        candidate = root / f"{name_or_path}{suffix}"
        if path_exists(candidate) and candidate.is_file():
            return candidate
    allowed = ", ".join(builtin_names())
    raise ScenarioError(
        name_or_path, "", f"no such file and no built-in scenario of that name; built-ins: {allowed}"
    )


def read_yaml(path: Path) -> dict[str, Any]:
    """A scenario file's top-level mapping: a regular UTF-8 (or UTF-16/32 with BOM) file within
    MAX_YAML_BYTES, YAML within MAX_YAML_DEPTH and MAX_YAML_NODES, keys plain and unique."""
    text = read_text(path, MAX_YAML_BYTES)
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKeyError as exc:
        raise ScenarioError(str(path), exc.key, f"duplicate key at line {exc.line}") from None
    except _BoundsError as exc:
        raise ScenarioError(str(path), "", f"line {exc.line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(str(path), "", f"YAML syntax error at {where}{problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(str(path), "", "expected a mapping of keys at the top level")
    return data


class _DuplicateKeyError(yaml.YAMLError):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


class _BoundsError(yaml.YAMLError):
    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, line


if yaml.__with_libyaml__:
    class _Events(yaml.cyaml.CParser):  # type: ignore[name-defined,misc]
        """libyaml's parser, ~6x faster than PyYAML's own: events only, composing stays in
        Python (below), where nesting is counted (libyaml's composer recurses in C)."""
else:  # pragma: no cover - PyYAML built without libyaml
    class _Events(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)


class _UniqueKeyLoader(yaml.composer.Composer, _Events, yaml.constructor.SafeConstructor,
                       yaml.resolver.Resolver):
    """A safe loader that rejects a key given twice in one mapping (YAML silently keeps the last),
    a key that is not a plain value (a list key is unhashable), nesting deeper than
    MAX_YAML_DEPTH and aliases that expand beyond MAX_YAML_NODES values or refer to themselves."""

    _depth = 0

    def __init__(self, stream: str) -> None:
        _Events.__init__(self, stream)  # type: ignore[call-arg]
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _BoundsError(f"nested deeper than {MAX_YAML_DEPTH} levels", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):  # type: ignore[no-untyped-def]
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {}, 1)
        return node

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                raise _BoundsError(f"a {kind} used as a mapping key (keys must be plain names)",
                                   key_node.start_mark.line + 1)
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int) -> int:
    """Values under `node` with every alias expanded (each shared node counted once per use, as
    pydantic and json would walk it); raises _BoundsError past the bounds or on a cycle."""
    if depth > MAX_YAML_DEPTH:
        raise _BoundsError(f"aliases nest deeper than {MAX_YAML_DEPTH} levels",
                           node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return 1
    known = memo.get(id(node))
    if known is not None:
        if known < 0:
            raise _BoundsError("an alias refers to a node that contains it",
                               node.start_mark.line + 1)
        return known
    memo[id(node)] = -1  # in progress: meeting it again below is a cycle
    children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                else list(node.value))
    total = 1
    for child in children:
        total += _expanded_size(child, memo, depth + 1)
        if total > MAX_YAML_NODES:
            raise _BoundsError(f"more than {MAX_YAML_NODES:,} values with aliases expanded "
                               "(alias bomb?)", node.start_mark.line + 1)
    memo[id(node)] = total
    return total


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) is replaced by the override."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _load_with_bases(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the reader names the problem
        resolved = path.absolute()
    if resolved in chain:
        raise ScenarioError(str(path), "base", "circular 'base' chain")
    if len(chain) >= MAX_BASE_CHAIN:
        raise ScenarioError(str(path), "base", f"more than {MAX_BASE_CHAIN} 'base' files chained")
    data = read_yaml(path)
    _flatten_expect(data, str(path))  # flat keys before merging, so a child overrides its base
    dirs = [path.parent]
    base = data.get("base")
    if base is None:
        return data, dirs
    if not isinstance(base, str):
        raise ScenarioError(str(path), "base", "expected a file name or built-in scenario name")
    if not base or "\x00" in base:
        raise ScenarioError(str(path), "base", "expected a file name or built-in scenario name")
    base_path = path.parent / base
    if not path_exists(base_path):
        try:
            base_path = find_scenario(base)
        except ScenarioError:
            raise ScenarioError(
                str(path), "base",
                f"base scenario {base!r} not found next to this file nor as a built-in; "
                f"built-ins: {', '.join(builtin_names())}",
            ) from None
    check_regular_file(base_path, MAX_YAML_BYTES, str(path), "base")  # named by this file
    base_data, base_dirs = _load_with_bases(base_path, chain + (resolved,))
    merged = deep_merge(base_data, {k: v for k, v in data.items() if k != "base"})
    merged["base"] = base
    return merged, dirs + base_dirs


def _flatten_expect(data: dict[str, Any], source: str) -> None:
    """`expect: {prr: {at_300m: x}}` -> `expect: {prr.at_300m: x}` (the keys are dotted paths)."""
    if "expect" in data:
        try:
            data["expect"] = flatten_expect(data["expect"])
        except ExpectationError as exc:
            raise ScenarioError(source, _expect_path(exc), exc.problem) from None


def _expect_path(exc: ExpectationError) -> str:
    return f"expect.{exc.key}" if exc.key else "expect"


def parse_override(text: str) -> tuple[list[str], Any]:
    """`dotted.key=value` -> (["dotted", "key"], parsed YAML value)."""
    if "=" not in text:
        raise ScenarioError("--set", text, "expected dotted.key=value")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".")]
    if not key.strip() or any(not p for p in parts):
        raise ScenarioError("--set", key, "expected dotted.key=value")
    try:
        value = yaml.load(raw, Loader=_UniqueKeyLoader) if raw.strip() else ""  # noqa: S506
    except (_BoundsError, _DuplicateKeyError) as exc:
        raise ScenarioError("--set", key, str(exc)) from None
    except yaml.YAMLError:
        value = raw
    return parts, value


def apply_override(data: dict[str, Any], parts: list[str], value: Any) -> None:
    """Sets a dotted key in the raw scenario dict; list items are addressed by index."""
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        path = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError("--set", path, f"list index out of range (0..{len(node) - 1})")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError("--set", path, "cannot set a key inside a scalar value")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Walks the model along an error location to list the keys allowed at its parent."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        f = current.model_fields.get(str(part))
        if f is None:
            return None
        current = _model_in(f.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_error_to_scenario_error(source: str, exc: ValidationError) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if p not in ("function-after", "[key]"))
    key = _format_loc(loc)
    kind = err["type"]
    if kind in ("model_type", "dict_type"):
        return ScenarioError(source, key, f"expected a mapping of keys (got {err.get('input')!r})")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(ScenarioSpec, loc)
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return ScenarioError(source, key, f"unknown key{hint}")
    if kind == "missing":
        return ScenarioError(source, key, "required key is missing")
    msg = err["msg"]
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", msg)
        return ScenarioError(source, key, f"{err.get('input')!r} is not allowed; expected {expected}")
    if "input" in err and kind not in ("value_error",) and not isinstance(err["input"], dict):
        return ScenarioError(source, key, f"{msg} (got {err['input']!r})")
    return ScenarioError(source, key, msg.removeprefix("Value error, "))


def load_scenario(
    name_or_path: str,
    overrides: list[str] | None = None,
    *,
    seed: int | None = None,
    duration_s: float | None = None,
) -> LoadedScenario:
    """Loads, merges bases, applies `--set` overrides, validates. Raises `ScenarioError`."""
    path = find_scenario(name_or_path)
    data, dirs = _load_with_bases(path)
    for text in overrides or []:
        parts, value = parse_override(text)
        try:
            # expect.KEY has dots in KEY: set it as one flat key instead of nesting
            if apply_expect_override(data, parts, value):
                continue
        except ExpectationError as exc:
            raise ScenarioError("--set", _expect_path(exc), exc.problem) from None
        apply_override(data, parts, value)
    if seed is not None:
        data["seed"] = seed
    if duration_s is not None:
        data["duration_s"] = duration_s
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        error = validation_error_to_scenario_error(str(path), exc)
        # Name the command line, not the file, when the bad key came from --set/--seed/--until.
        from_cli = [_format_loc(tuple(int(p) if p.isdigit() else p for p in parse_override(o)[0]))
                    for o in overrides or []]
        from_cli += ["seed"] if seed is not None else []
        from_cli += ["duration_s"] if duration_s is not None else []
        # Also when a rule spanning several keys (reported on their object, or on the whole
        # scenario) failed and names a key the command line set.
        if any(_within(error.key_path, k) or (_within(k, error.key_path) and _names(error, k))
               for k in from_cli):
            error = ScenarioError("--set/--seed/--until (command line)", error.key_path,
                                  error.message)
        raise error from None
    cli = tuple(overrides or ()) + ((f"seed={seed}",) if seed is not None else ()) + (
        (f"duration_s={duration_s}",) if duration_s is not None else ()
    )
    return LoadedScenario(spec=spec, source=str(path), search_dirs=tuple(dirs), overrides=cli)
