"""The sweep under faults: Ctrl-C, dead or hostile schedulers, a user's --out, network exposure."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ["sweep", "airport-expressway", "--grid", "radio.tx_power_dbm=20,23", "--seeds", "3",
         "--until", "1", "--workers", "2", "--quiet"]


def _finished(out: Path) -> list[Path]:
    """Summaries of complete runs (the manifest is the last file a run writes)."""
    done = []
    for s in out.glob("points/*/seed-*/summary.json"):
        try:
            if json.loads((s.parent / "manifest.json").read_text())["status"] == "complete":
                done.append(s)
        except (OSError, ValueError, KeyError):
            pass  # being written
    return done


@pytest.mark.skipif(os.name != "posix", reason="POSIX process groups")
def test_ctrl_c_during_a_sweep_is_one_line_keeps_finished_runs_and_a_rerun_skips_them(
        tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *SWEEP, "--out", str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 90
    while not _finished(out):
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.time() < deadline, "no run finished"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text
    lines = text.strip().splitlines()
    assert lines[0].startswith("sweep: 2 points x 3 seeds") and len(lines) <= 3, text
    assert lines[-1].startswith("interrupted: "), text  # the header (it may wrap), then one line
    kept = {p: p.stat().st_mtime_ns for p in _finished(out)}
    assert 1 <= len(kept) < 6
    rerun = subprocess.run([sys.executable, "-m", "sim.cli", *SWEEP, "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert f"reused {len(kept)} finished run" in rerun.stderr.decode()
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # not run again


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def not_dask() -> Iterator[str]:
    """A TCP server that answers like a web server: Dask reads "HTTP/1.1" as a 3 EiB frame."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                time.sleep(0.1)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        t.join(timeout=5)
        srv.close()


def test_dead_scheduler_fails_within_seconds_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    t0 = time.perf_counter()
    code = main([*SWEEP[:-3], "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--out", str(out)])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("v2xsim: error: --scheduler ") and err.count("\n") == 1
    assert elapsed < 9, elapsed
    assert not out.exists()


def test_a_scheduler_address_that_is_not_dask_is_one_line(
        not_dask: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    assert main([*SWEEP[:-3], "--scheduler", not_dask, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"v2xsim: error: --scheduler {not_dask}: cannot connect")
    assert err.count("\n") == 1 and not out.exists()


def test_sweep_out_onto_a_users_directory_is_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "results.csv").write_text("mine\n")
    assert main([*SWEEP, "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "not a v2xsim sweep directory" in err and "--force" in err and err.count("\n") == 1
    assert [p.name for p in mine.iterdir()] == ["results.csv"]
    assert (mine / "results.csv").read_text() == "mine\n"


def test_local_cluster_listens_on_loopback_only() -> None:
    import psutil

    from sim.sweep.cluster import open_client

    with open_client(None, 1) as client:
        client.submit(sum, [1, 2]).result()  # workers up and serving
        procs = [psutil.Process(), *psutil.Process().children(recursive=True)]
        listening = [c.laddr for p in procs for c in p.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN]
        addresses = [client.scheduler_info()["address"], *client.scheduler_info()["workers"]]
    assert len(listening) >= 3  # scheduler, worker, nanny at least
    assert {a.ip for a in listening} == {"127.0.0.1"}, listening
    assert all(a.startswith("tcp://127.0.0.1:") for a in addresses), addresses
