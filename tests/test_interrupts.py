"""Interrupts, kills and output safety of `v2xsim run`: what survives, what the exit code is.

Each signal test starts a real `v2xsim run` in a subprocess, waits until its trace is growing and
signals it, so the handlers, the exit codes and the on-disk state are the ones a user gets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.io.rundir import check_output_dir, is_run_dir
from sim.io.trace import TraceReader
from sim.scenario.loader import load_scenario
from sim.sweep.tasks import RunTask, finished_record

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def _start(out: Path, until: float = 600.0) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", "airport-expressway", "--until", f"{until:g}",
         "--out", str(out), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_trace(proc: subprocess.Popen[bytes], out: Path, size: int = 300_000) -> None:
    trace = out / "trace.msgpack"
    deadline = time.time() + 60
    while not trace.exists() or trace.stat().st_size < size:
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.time() < deadline, "the trace did not grow"
        time.sleep(0.02)


def _complete_frames(trace: Path) -> tuple[int, int]:
    """(frames, bytes of whole frames); raises if the trace is unreadable before its tail."""
    with TraceReader(trace) as reader:
        n = sum(1 for _ in reader)
        return n, reader.offset


@pytest.mark.parametrize(("signals", "code", "status"), [
    ((signal.SIGINT,), 130, "interrupted"),
    ((signal.SIGINT, signal.SIGINT), 130, "interrupted"),
    ((signal.SIGTERM,), 143, "interrupted"),
    ((signal.SIGKILL,), -signal.SIGKILL, "running"),
], ids=["sigint", "double-sigint", "sigterm", "sigkill"])
def test_signals_mid_run(tmp_path: Path, signals: tuple[int, ...], code: int, status: str) -> None:
    out = tmp_path / "run"
    proc = _start(out)
    _wait_for_trace(proc, out)
    for sig in signals:
        proc.send_signal(sig)
        time.sleep(0.01)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == code, text
    assert "Traceback" not in text and len(text.splitlines()) <= 3, text
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == status and manifest["scenario"] == "airport-expressway"
    if status == "interrupted":
        assert manifest["interrupted"] is True
        assert json.loads((out / "summary.json").read_text())["interrupted"] is True
    frames, _ = _complete_frames(out / "trace.msgpack")
    assert frames > 5
    assert is_run_dir(out)  # a rerun may write into it without --force


def test_killed_run_is_a_prefix_of_the_full_run_and_a_rerun_repeats_it(tmp_path: Path) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    assert main(["run", "airport-expressway", "--until", "4", "--out", str(full), "--quiet"]) == 0
    proc = _start(cut, until=4)
    _wait_for_trace(proc, cut)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    whole = (full / "trace.msgpack").read_bytes()
    frames, good = _complete_frames(cut / "trace.msgpack")
    assert frames > 5 and 0 < good < len(whole)
    assert (cut / "trace.msgpack").read_bytes()[:good] == whole[:good]
    # from scratch into the same directory (it is a run directory: no --force needed)
    assert main(["run", "airport-expressway", "--until", "4", "--out", str(cut), "--quiet"]) == 0
    assert (cut / "trace.msgpack").read_bytes() == whole
    for name in ("summary.json", "prr_vs_distance.csv", "cbr_vs_time.csv"):
        assert (cut / name).read_bytes() == (full / name).read_bytes(), name
    assert json.loads((cut / "manifest.json").read_text())["status"] == "complete"


def test_out_onto_a_users_directory_is_refused_and_force_keeps_their_files(
        tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    (mine / "summary.json").write_text("{\"my\": \"notes\"}")
    assert main(["run", str(tiny), "--out", str(mine), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("v2xsim: error: --out ") and "--force" in err and err.count("\n") == 1
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.tex", "summary.json"]
    assert (mine / "summary.json").read_text() == "{\"my\": \"notes\"}"
    assert main(["run", str(tiny), "--out", str(mine), "--quiet", "--force"]) == 0
    assert (mine / "chapter1.tex").read_text() == "precious"  # nothing of theirs deleted
    assert is_run_dir(mine)


def test_out_rules(tiny: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output_dir(empty)  # empty: fine
    check_output_dir(tmp_path / "new")  # missing: fine
    run = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(run), "--quiet"]) == 0
    check_output_dir(run)  # our own run directory: fine, a rerun replaces it
    (run / "manifest.json").write_text("garbage")  # no longer recognisable as ours
    from sim.io.rundir import OutputDirError

    with pytest.raises(OutputDirError, match="not a v2xsim run directory"):
        check_output_dir(run)
    with pytest.raises(OutputDirError, match="not a v2xsim sweep directory"):
        check_output_dir(run, "sweep")
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(OutputDirError, match="not a directory"):
        check_output_dir(file, force=True)


def test_a_running_manifest_is_never_a_finished_sweep_run(tiny: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(run), "--quiet"]) == 0
    loaded = load_scenario(str(tiny))
    task = RunTask(str(tiny), (), loaded.spec.seed, None, str(run), "p")
    assert finished_record(task, loaded.scenario_hash()) is not None
    manifest = json.loads((run / "manifest.json").read_text())
    # a rerun killed outright: the old summary stays, the manifest says "running"
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    assert finished_record(task, loaded.scenario_hash()) is None
