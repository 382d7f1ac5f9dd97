"""Runs one scenario into a run directory: build, attach observers, run, write the outputs.

Outputs are written whatever happens: on a normal end, on a stop request (Ctrl-C) and on a crash
the trace is closed at its last whole frame and `summary.json` is written from what was recorded
(marked `"interrupted": true`). `manifest.json` is written first with `"status": "running"` and
last with "complete", "interrupted" or "failed", so a run killed outright is never taken for done.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from sim import __version__
from sim.core.engine import Engine, Observer
from sim.core.world import World
from sim.io.edge_report import add_roadside_summary, write_roadside_outputs
from sim.io.rundir import STATUS_RUNNING, write_atomic, write_csv, write_json
from sim.io.summary_observer import SummaryObserver
from sim.io.trace_observer import TraceObserver
from sim.metrics.expectations import (
    Outcome,
    counts,
    evaluate,
    outcomes_report,
    parse_expectations,
)
from sim.scenario.build import build_world
from sim.scenario.loader import LoadedScenario


@dataclass
class RunOutcome:
    out_dir: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    world: World
    expectations: list[Outcome] = field(default_factory=list)  # empty if the scenario has none


def _versions() -> dict[str, str]:
    out = {"v2xsim": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "simpy", "msgpack", "pydantic", "pyyaml"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def run_scenario(
    loaded: LoadedScenario,
    out_dir: Path,
    *,
    extra_observers: Sequence[Observer] = (),
    on_progress: Callable[[Engine, float], None] | None = None,
    engine_hook: Callable[[Engine], None] | None = None,
) -> RunOutcome:
    """Runs `loaded` for its duration; `engine_hook` receives the engine (e.g. to request a stop)."""
    world = build_world(loaded)
    out_dir.mkdir(parents=True, exist_ok=True)
    spec = world.spec
    meta = {"scenario": spec.name, "seed": spec.seed, "scenario_hash": loaded.scenario_hash(),
            "v2xsim": __version__, "step_ms": world.step_ms}
    identity = {  # what the run is, known before it starts
        "scenario": spec.name,
        "scenario_file": Path(loaded.source).name,
        "scenario_hash": loaded.scenario_hash(),
        "data_hashes": world.data_hashes,
        "seed": spec.seed,
        "overrides": list(loaded.overrides),
        "versions": _versions(),
    }
    # Written before the trace is opened and replaced at the end: a run killed outright (SIGKILL,
    # power loss) leaves a manifest saying "running", never a stale "complete" one.
    write_json(out_dir / "manifest.json", {**identity, "status": STATUS_RUNNING})
    summary_obs = SummaryObserver(world)
    trace_obs = TraceObserver(out_dir / "trace.msgpack", meta, world)
    engine = Engine(world, [summary_obs, trace_obs, *extra_observers])
    if engine_hook:
        engine_hook(engine)
    t_wall = time.perf_counter()

    def progress(now_ms: int) -> None:
        if on_progress:
            on_progress(engine, time.perf_counter() - t_wall)

    error: BaseException | None = None
    try:
        engine.run(on_progress=progress)
    except BaseException as exc:  # a crash still leaves the outputs recorded so far
        error = exc
        summary_obs.on_end(world, engine.now_ms, True)
        trace_obs.on_end(world, engine.now_ms, True)
    finally:
        world.mobility.close()  # an external simulator (SUMO) stops here
    wall_s = time.perf_counter() - t_wall
    sim_s = engine.now_ms / 1000.0
    summary = summary_obs.summary(world)
    add_roadside_summary(summary, world, engine.now_ms)
    if error is not None:
        summary["error"] = f"{type(error).__name__}: {error}"
    outcomes = evaluate(parse_expectations(spec.expect), summary)
    if outcomes:
        summary["expectations"] = counts(outcomes)
    manifest = {
        **identity,
        "sim_time_s": sim_s,
        "wall_time_s": round(wall_s, 3),
        "real_time_factor": round(sim_s / wall_s, 3) if wall_s > 0 else None,
        "interrupted": summary["interrupted"],
        "status": "failed" if error is not None else
                  "interrupted" if summary["interrupted"] else "complete",
        "outputs": ["summary.json", "prr_vs_distance.csv", "cbr_vs_time.csv", "trace.msgpack",
                    "scenario.resolved.yaml"],
        "attribution": "Road geometry © OpenStreetMap contributors, ODbL 1.0",
    }
    write_json(out_dir / "summary.json", summary)
    # The fully resolved scenario (bases merged, overrides applied, defaults filled in, data files
    # as absolute paths): `v2xsim run RUN_DIR/scenario.resolved.yaml` repeats the run.
    # The scenario as the user wrote it (on a SUMO net the world's spec also lists what the SUMO
    # files added: routes, vehicles, signals; written here they would be added twice on re-run).
    resolved = loaded.spec.model_dump(mode="json", exclude={"base"})
    for section in ("map", "network", "view"):  # absent, not null: `map: null` is refused on load
        if resolved.get(section) is None:
            resolved.pop(section, None)
    for section, key in (("map", "geojson"), ("network", "sumo_net"), ("traffic", "sumo_routes")):
        if resolved.get(section) and resolved[section].get(key):
            resolved[section][key] = str(loaded.resolve(resolved[section][key]).resolve())
    if spec.rsus.geojson:
        resolved["rsus"]["geojson"] = str(loaded.resolve(spec.rsus.geojson).resolve())
    write_atomic(out_dir / "scenario.resolved.yaml",
                 yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False))
    write_csv(out_dir / "prr_vs_distance.csv", ["distance_m", "prr", "samples"],
              summary_obs.radio.prr_table())
    write_csv(out_dir / "cbr_vs_time.csv", ["t_s", "cbr_mean"], summary_obs.radio.cbr_rows())
    manifest["outputs"] += write_roadside_outputs(out_dir, world, summary)
    if outcomes:
        manifest["outputs"].append("expectations.json")
        write_json(out_dir / "expectations.json", outcomes_report(outcomes))
    write_json(out_dir / "manifest.json", manifest)
    if error is not None:
        raise error
    return RunOutcome(out_dir, summary, manifest, world, outcomes)
