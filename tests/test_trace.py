"""Tests for sim.io.trace: round trip, determinism, crash tolerance, live reading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.io.trace import Frame, TraceFormatError, TraceReader, TraceWriter, load_columns, read_trace

REPO = Path(__file__).resolve().parents[1]
META = {"scenario": "changchun_demo", "seed": 42, "tags": ["a", "b"]}


def _write_sample(path: Path) -> TraceWriter:
    with TraceWriter(path, META) as w:
        w.write("tx", 0.1, veh=np.array([1, 2, 3], dtype=np.int64),
                power=np.array([20.0, 23.0, -1.5]), ok=np.array([True, False, True]))
        w.write("rx", 0.1, rb=np.array([7, 9], dtype=np.uint32),
                pos=np.arange(4, dtype=np.float32).reshape(2, 2))
        w.write("tx", 0.2, veh=np.array([], dtype=np.int64),
                power=np.array([], dtype=np.float64), ok=np.array([], dtype=bool))
        w.write("tx", 0.3, veh=np.array([4], dtype=">i8"),  # big-endian in, little-endian out
                power=np.array([1.25]), ok=np.array([False]))
        w.write("empty", 0.4)
    return w


def test_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "run.trace"
    w = _write_sample(p)
    assert w.frames_written == 5 and w.bytes_written == p.stat().st_size and w.closed
    meta, frames = read_trace(p)
    got = list(frames)
    assert meta == META and frames.truncated is False
    assert [f.kind for f in got] == ["tx", "rx", "tx", "tx", "empty"]
    assert [f.t_s for f in got] == [0.1, 0.1, 0.2, 0.3, 0.4]
    assert [f.n for f in got] == [3, 2, 0, 1, 0]
    f0, f1, f2, f3, f4 = got
    assert list(f0.cols) == ["veh", "power", "ok"]
    np.testing.assert_array_equal(f0.cols["veh"], [1, 2, 3])
    np.testing.assert_array_equal(f0.cols["power"], [20.0, 23.0, -1.5])
    np.testing.assert_array_equal(f0.cols["ok"], [True, False, True])
    assert f0.cols["ok"].dtype.str == "|b1" and f0.cols["veh"].dtype.str == "<i8"
    assert f1.cols["rb"].dtype.str == "<u4" and f1.cols["pos"].dtype.str == "<f4"
    assert f1.cols["pos"].shape == (2, 2)
    np.testing.assert_array_equal(f1.cols["pos"], [[0, 1], [2, 3]])
    assert f2.cols["power"].shape == (0,) and f2.cols["power"].dtype == np.float64
    assert f3.cols["veh"].dtype.str == "<i8" and f3.cols["veh"][0] == 4
    assert f4.cols == {}
    assert not f0.cols["power"].flags.writeable  # documented: read-only views
    with pytest.raises(AttributeError):
        f0.kind = "x"  # type: ignore[misc]


def test_raw_layout(tmp_path: Path) -> None:
    p = tmp_path / "run.trace"
    _write_sample(p)
    with open(p, "rb") as f:
        objs = list(msgpack.Unpacker(f, raw=False))
    assert objs[0] == {"format": "v2xsim-trace", "version": 1, "meta": META}
    assert list(objs[1]) == ["kind", "t_s", "n", "cols"]
    assert objs[1]["n"] == 3
    assert objs[1]["cols"]["veh"] == {"dtype": "<i8", "shape": [3],
                                      "data": np.array([1, 2, 3], "<i8").tobytes()}


def test_load_columns(tmp_path: Path) -> None:
    p = tmp_path / "run.trace"
    _write_sample(p)
    tx = load_columns(p, "tx")
    assert list(tx) == ["t_s", "veh", "power", "ok"]
    np.testing.assert_array_equal(tx["t_s"], [0.1, 0.1, 0.1, 0.3])
    np.testing.assert_array_equal(tx["veh"], [1, 2, 3, 4])
    np.testing.assert_array_equal(tx["ok"], [True, False, True, False])
    assert load_columns(p, "rx")["pos"].shape == (2, 2)
    none = load_columns(p, "nope")
    assert list(none) == ["t_s"] and none["t_s"].size == 0


def test_deterministic_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.trace", tmp_path / "b.trace"
    _write_sample(a)
    _write_sample(b)
    assert a.read_bytes() == b.read_bytes()


def _ten_frames(path: Path) -> int:
    """Write 10 frames; return the file size after the first 9."""
    with TraceWriter(path, {"seed": 1}) as w:
        for i in range(10):
            if i == 9:
                size9 = w.bytes_written
            w.write("tick", i * 0.5, i=np.array([i, i + 1], dtype=np.int64),
                    x=np.array([i / 3.0, -i]))
    return size9


def test_truncated_last_frame_every_offset(tmp_path: Path) -> None:
    full = tmp_path / "full.trace"
    size9 = _ten_frames(full)
    data = full.read_bytes()
    assert len(data) > size9 + 10
    cut = tmp_path / "cut.trace"
    for off in range(size9, len(data) + 1):
        cut.write_bytes(data[:off])
        meta, frames = read_trace(cut)
        got = list(frames)
        assert meta == {"seed": 1}
        assert len(got) == (10 if off == len(data) else 9)
        assert frames.truncated is (size9 < off < len(data))
        for i, fr in enumerate(got):
            assert fr.t_s == i * 0.5
            np.testing.assert_array_equal(fr.cols["i"], [i, i + 1])


def test_truncated_header(tmp_path: Path) -> None:
    full = tmp_path / "full.trace"
    _ten_frames(full)
    data = full.read_bytes()
    cut = tmp_path / "cut.trace"
    for off in (0, 1, 5, 20):
        cut.write_bytes(data[:off])
        with pytest.raises(TraceFormatError):
            TraceReader(cut)


def test_readable_while_written(tmp_path: Path) -> None:
    p = tmp_path / "live.trace"
    with TraceWriter(p, {"live": True}) as w:
        for i in range(3):
            w.write("k", float(i), v=np.arange(i + 1))
        w.flush()
        meta, frames = read_trace(p)
        assert meta == {"live": True}
        assert [f.n for f in frames] == [1, 2, 3] and frames.truncated is False
        w.write("k", 3.0, v=np.arange(4))
        assert len(list(TraceReader(p))) == 4


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_killed_writer(tmp_path: Path) -> None:
    p = tmp_path / "killed.trace"
    code = (
        "import sys, numpy as np\n"
        "from sim.io.trace import TraceWriter\n"
        "w = TraceWriter(sys.argv[1], {'pid': 'child'})\n"
        "i = 0\n"
        "while True:\n"
        "    w.write('tick', i * 0.01, i=np.full(2000, i, dtype=np.int64),\n"
        "            x=np.arange(2000, dtype=np.float64) * i)\n"
        "    w.flush()\n"
        "    i += 1\n"
        "    if i == 20:\n"
        "        print('ready', flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    meta, frames = read_trace(p)
    got = list(frames)
    assert meta == {"pid": "child"} and len(got) >= 20
    for i, fr in enumerate(got):
        assert fr.kind == "tick" and fr.t_s == i * 0.01 and fr.n == 2000
        assert (fr.cols["i"] == i).all()
        np.testing.assert_array_equal(fr.cols["x"], np.arange(2000, dtype=np.float64) * i)


def test_errors(tmp_path: Path) -> None:
    p = tmp_path / "e.trace"
    with TraceWriter(p, {}) as w:
        with pytest.raises(ValueError, match="records"):
            w.write("k", 0.0, a=np.zeros(3), b=np.zeros(4))
        with pytest.raises(TypeError):
            w.write("k", 0.0, a=np.array([1, "x", None], dtype=object))
        assert w.frames_written == 0
    with pytest.raises(ValueError):
        w.write("k", 0.0, a=np.zeros(1))  # closed
    bad = tmp_path / "bad.trace"
    bad.write_bytes(msgpack.packb({"format": "other", "version": 1, "meta": {}}))
    with pytest.raises(TraceFormatError):
        read_trace(bad)
    bad.write_bytes(msgpack.packb({"format": "v2xsim-trace", "version": 99, "meta": {}}))
    with pytest.raises(TraceFormatError, match="version"):
        read_trace(bad)
    bad.write_bytes(b"not msgpack at all \xc1\xc1")
    with pytest.raises(TraceFormatError):
        read_trace(bad)
    assert issubclass(TraceFormatError, ValueError)


_arrays = hnp.arrays(
    dtype=st.sampled_from([np.dtype("<i8"), np.dtype("<f8")]),
    shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=6),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_arrays, max_size=8))
def test_property_round_trip(arrays: list[np.ndarray]) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "h.trace"
        with TraceWriter(p, {"n": len(arrays)}) as w:
            for i, a in enumerate(arrays):
                w.write(f"k{i % 2}", i * 0.25, a=a)
        meta, frames = read_trace(p)
        got: list[Frame] = list(frames)
    assert meta == {"n": len(arrays)} and not frames.truncated
    assert len(got) == len(arrays)
    for i, (a, fr) in enumerate(zip(arrays, got)):
        b = fr.cols["a"]
        assert fr.kind == f"k{i % 2}" and fr.t_s == i * 0.25
        assert b.dtype == a.dtype and b.shape == a.shape
        assert b.tobytes() == a.tobytes()  # exact, NaN payloads and -0.0 included
