"""What a Dask worker executes for one (point, seed), and how a finished run is read back.

A task carries only names, paths and override strings (small, picklable, meaningful on any
machine that shares the file system); the worker loads and validates the scenario itself, builds
the world and calls the ordinary `run_scenario`, so a sweep run is byte-for-byte a normal run.
`run_point` never raises: an exception becomes a `failed` record (its traceback goes to
`error.txt` in the run directory), so one bad point cannot take the other results with it.

Peak memory: `resource.getrusage(...).ru_maxrss` is the process high-water mark and never goes
down, so on a long-lived worker it would report the largest run so far. On Linux the worker resets
the kernel's high-water mark (`/proc/self/clear_refs` = 5) before the run and reads `VmHWM` after
it, which is this run's peak; elsewhere it falls back to `ru_maxrss` (`rss_method` says which).
"""

from __future__ import annotations

import gc
import os
import resource
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.io.rundir import read_json, write_atomic, write_json
from sim.sweep.kpis import extract_kpis

if TYPE_CHECKING:
    from sim.core.world import World
    from sim.radio.medium import RadioBatch

SUMMARY, MANIFEST, COST = "summary.json", "manifest.json", "sweep_cost.json"

STATUS_OK, STATUS_FAILED = "ok", "failed"


@dataclass(frozen=True)
class RunTask:
    """One (point, seed) run: everything a worker needs, as plain data."""

    scenario: str  # built-in name or absolute path
    overrides: tuple[str, ...]  # fixed `--set` overrides first, then the point's own
    seed: int
    until_s: float | None
    out_dir: str  # absolute run directory
    point_id: str


@dataclass(frozen=True)
class RunRecord:
    """The outcome of one (point, seed): status, KPIs, and whether it was reused from disk."""

    point_id: str
    seed: int
    status: str
    out_dir: str
    kpis: dict[str, float | int | None] = field(default_factory=dict)
    error: str | None = None
    skipped: bool = False
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


class LinkCounter:
    """Observer counting radio link evaluations (transmission x receiver pairs in range)."""

    def __init__(self) -> None:
        self.links = 0

    def on_start(self, world: World) -> None:
        pass

    def on_radio_batch(self, world: World, batch: RadioBatch) -> None:
        self.links += len(batch.result.links.tx)

    def on_step(self, world: World, now_ms: int) -> None:
        pass

    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None:
        pass


def _release_free_heap() -> None:
    """Hands freed heap back to the OS (glibc), so the next run's peak starts from a low floor."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak_rss() -> bool:
    gc.collect()
    _release_free_heap()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _proc_status_mb(field_name: str) -> float | None:
    """`VmHWM` (peak RSS since the last reset) or `VmRSS` from /proc/self/status, in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def _ru_maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_point(task: RunTask) -> RunRecord:
    """Loads the scenario in this process, runs it into `task.out_dir`, returns its KPIs."""
    from sim.runner import run_scenario
    from sim.scenario.loader import load_scenario

    out = Path(task.out_dir)
    (out / "error.txt").unlink(missing_ok=True)  # from an earlier failed attempt
    try:
        loaded = load_scenario(task.scenario, list(task.overrides), seed=task.seed,
                               duration_s=task.until_s)
        counter = LinkCounter()
        reset = _reset_peak_rss()
        rss_before = _proc_status_mb("VmRSS")
        process_peak_before = _ru_maxrss_mb()
        t0 = time.perf_counter()
        outcome = run_scenario(loaded, out, extra_observers=[counter])
        wall_s = time.perf_counter() - t0
        hwm = _proc_status_mb("VmHWM") if reset else None
        process_peak = _ru_maxrss_mb()
        wall_manifest = outcome.manifest.get("wall_time_s") or wall_s
        worker = _worker_name()
        cost: dict[str, Any] = {
            "peak_rss_mb": round(hwm if hwm is not None else process_peak, 1),
            "rss_method": "VmHWM after clear_refs" if hwm is not None else "ru_maxrss (process)",
            "rss_before_mb": None if rss_before is None else round(rss_before, 1),
            "process_peak_rss_mb_before": round(process_peak_before, 1),
            "link_evaluations": counter.links,
            "link_evals_per_s": round(counter.links / wall_manifest, 1) if wall_manifest else None,
            "task_wall_time_s": round(wall_s, 3),
            "worker": worker,
            "point_id": task.point_id,
            "overrides": list(task.overrides),
        }
        write_json(out / COST, cost)
    except Exception as exc:  # noqa: BLE001 - a failed point is a result, not a crash
        try:
            out.mkdir(parents=True, exist_ok=True)
            write_atomic(out / "error.txt", traceback.format_exc())
        except OSError:
            pass
        return RunRecord(task.point_id, task.seed, STATUS_FAILED, str(out), error=_one_line(exc),
                         worker=_worker_name())
    if outcome.summary.get("interrupted"):
        return RunRecord(task.point_id, task.seed, STATUS_FAILED, str(out),
                         extract_kpis(outcome.summary, outcome.manifest, cost),
                         error="run interrupted", worker=worker)
    return RunRecord(task.point_id, task.seed, STATUS_OK, str(out),
                     extract_kpis(outcome.summary, outcome.manifest, cost), worker=worker)


def finished_record(task: RunTask, expected_scenario_hash: str | None) -> RunRecord | None:
    """The record of a run already on disk, or None if it must (re)run.

    A run counts as finished when its `summary.json` and `manifest.json` exist, it was not
    interrupted, its manifest does not say it is still running (a killed rerun leaves an older
    run's summary beside a "running" manifest), and (when given) its manifest's scenario hash
    matches the scenario this task would run now, so changing `--until` or `--set` re-runs
    instead of reusing stale results.
    """
    out = Path(task.out_dir)
    summary, manifest = read_json(out / SUMMARY), read_json(out / MANIFEST)
    if summary is None or manifest is None or summary.get("interrupted", True):
        return None
    if manifest.get("status", "complete") != "complete":  # e.g. "running": killed mid-run
        return None
    expected = expected_scenario_hash
    if expected is not None and manifest.get("scenario_hash") != expected:
        return None
    cost = read_json(out / COST)
    return RunRecord(task.point_id, task.seed, STATUS_OK, str(out),
                     extract_kpis(summary, manifest, cost), skipped=True,
                     worker=(cost or {}).get("worker"))


def failed_record(task: RunTask, exc: BaseException) -> RunRecord:
    """A record for a task whose worker died or whose result never came back."""
    return RunRecord(task.point_id, task.seed, STATUS_FAILED, task.out_dir, error=_one_line(exc))
