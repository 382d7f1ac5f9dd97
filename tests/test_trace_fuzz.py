"""Fuzzing the trace reader and its users (replay, `export fcd`) with damaged and hostile traces.

The property: a trace truncated anywhere reads as exactly the frames written before the cut; any
other damage (bit flips, msgpack headers declaring 4 GB strings/arrays/maps, deep nesting, frames
with fields of the wrong type) is either read as well-formed frames or refused with one
`TraceFormatError` line, never another exception, a hang or a large allocation. Budgets come from
tests/helpers/fuzz.py (`pytest --fuzz-long` for a long random run); every input that once failed
is kept in tests/data/fuzz_regressions/trace_* and replayed by `test_regressions`.
"""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import event as _event
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from sim.io.trace import Frame, TraceFormatError, TraceReader, TraceWriter
from sim.viz.replay import ReplayError, ReplaySource
from tests.helpers.fuzz import MAX_GROWTH_KB, assert_clean, budget, run_cli, time_limit

REGRESSIONS = Path(__file__).parent / "data" / "fuzz_regressions"


def _write_sample(path: Path) -> list[int]:
    """A small trace shaped like a real run's (the columns TraceObserver writes); returns the
    offset at which each frame ends (the header first)."""
    ends: list[int] = []
    with TraceWriter(path, {"scenario": "fuzz", "seed": 1, "step_ms": 100}) as w:
        ends.append(w.bytes_written)

        def write(kind: str, t_s: float, **cols: Any) -> None:
            w.write(kind, t_s, **cols)
            ends.append(w.bytes_written)

        write("rsus", 0.0, x_m=np.array([50.0]), y_m=np.array([5.0]))
        write("route", 0.0, x_m=np.array([0.0, 100.0, 200.0]), y_m=np.zeros(3),
              route=np.zeros(3, np.int64), lanes=np.full(3, 2, np.int64),
              lane_width_m=np.full(3, 3.5))
        for k in range(3):
            t = k * 0.1
            ids = np.arange(4, dtype=np.int64) + k
            write("tx", t, packet_id=ids * 10, vehicle_id=ids, gen_ms=np.full(4, k * 100.0),
                  subframe_ms=np.full(4, k * 100, np.int64), subch_start=np.zeros(4, np.int64),
                  n_subch=np.ones(4, np.int64), msg_type=np.zeros(4, np.int8),
                  rsu=np.full(4, -1, np.int64))
            write("rx", t, packet_id=ids[:2] * 10, rx_vehicle_id=ids[2:], rx_rsu=np.full(2, -1),
                  distance_m=np.array([10.0, 20.0], np.float32),
                  sinr_db=np.array([5.0, 1.0], np.float32), reason=np.zeros(2, np.int8))
            f32 = np.float32
            write("state", t, vehicle_id=ids, cls=np.zeros(4, np.int8),
                  automation=np.zeros(4, np.int8), equipped=np.ones(4, bool),
                  route=np.zeros(4, np.int64), lane=np.array([0, 1, 0, 1], np.int64),
                  x_m=(ids * 20.0).astype(f32), y_m=np.zeros(4, f32),
                  heading_rad=np.zeros(4, f32), v_mps=np.full(4, 20, f32),
                  a_mps2=np.zeros(4, f32), warned=np.zeros(4, bool))
        write("other", 0.3, grid=np.arange(8, dtype=">i4").reshape(4, 2),  # kinds of no reader
              label=np.array([b"ab", b"c", b"", b"d"]))
    return ends


_TMP = Path(tempfile.mkdtemp(prefix="v2xsim-trace-fuzz-"))
_ENDS = _write_sample(_TMP / "sample.msgpack")
BASE = (_TMP / "sample.msgpack").read_bytes()
assert _ENDS[-1] == len(BASE)


def event(name: str) -> None:
    """Outcome counts for `--hypothesis-show-statistics`; no-op in the plain regression test."""
    if currently_in_test_context():
        _event(name)


def _read(path: Path) -> tuple[list[Frame], bool]:
    """All frames and `truncated`, or the one allowed exception, checked to be one clean line."""
    try:
        with time_limit(20), TraceReader(path) as reader:
            frames = list(reader)
            return frames, reader.truncated
    except TraceFormatError as exc:
        text = str(exc)
        assert "\n" not in text and len(text) < 600 and str(path) in text, text
        raise


def _frame_ok(fr: Frame) -> None:
    assert isinstance(fr.kind, str) and np.isfinite(fr.t_s)
    for col in fr.cols.values():
        assert col.ndim >= 1 and col.shape[0] == fr.n and not col.flags.writeable


_REFERENCE, _ = _read(_TMP / "sample.msgpack")


def _same(a: Frame, b: Frame) -> bool:
    return (a.kind, a.t_s, list(a.cols)) == (b.kind, b.t_s, list(b.cols)) and all(
        a.cols[k].dtype == b.cols[k].dtype and a.cols[k].tobytes() == b.cols[k].tobytes()
        for k in a.cols)


def _check_damaged(data: bytes, intact_until: int) -> None:
    """Damage at or after byte `intact_until`: the frames ending before it come back unchanged,
    the rest are well formed, or the whole is one TraceFormatError."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "trace.msgpack"
        p.write_bytes(data)
        try:
            frames, _ = _read(p)
        except TraceFormatError:
            event("clean error")
            return
    event("read")
    intact = sum(1 for end in _ENDS[1:] if end <= intact_until)
    for got, ref in zip(frames[:intact], _REFERENCE[:intact]):
        assert _same(got, ref)
    for fr in frames:
        _frame_ok(fr)


@budget(60)
@given(st.integers(0, len(BASE)))
def test_truncated_anywhere_reads_every_frame_before_the_cut(cut: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "trace.msgpack"
        p.write_bytes(BASE[:cut])
        if cut < _ENDS[0]:
            with pytest.raises(TraceFormatError, match="header"):
                _read(p)
            return
        frames, truncated = _read(p)
    whole = sum(1 for end in _ENDS[1:] if end <= cut)
    assert len(frames) == whole and all(map(_same, frames, _REFERENCE))
    assert truncated is (cut not in _ENDS)


@budget(120)
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 7)), min_size=1,
                max_size=8))
def test_bit_flips(flips: list[tuple[int, int]]) -> None:
    data = bytearray(BASE)
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    _check_damaged(bytes(data), min(pos for pos, _ in flips))


#: msgpack headers declaring far more than the file holds, or nesting far deeper than any trace.
HOSTILE = [
    b"\xdb\xff\xff\xff\xff",  # str32 of 4 GiB
    b"\xc6\xff\xff\xff\xff",  # bin32 of 4 GiB
    b"\xdd\xff\xff\xff\xff",  # array32 of 4 G items
    b"\xdf\xff\xff\xff\xff",  # map32 of 4 G pairs
    b"\xc9\xff\xff\xff\xff\x01",  # ext32 of 4 GiB
    b"\xdd\x7f\xff\xff\xff",  # array32 of 2 G items
    b"\xc6\x1f\x40\x00\x00",  # bin32 of 500 MiB (under the frame cap, never arrives)
    b"\xc6\x21\x00\x00\x00",  # bin32 of 528 MiB (over the frame cap)
    b"\x84\xa4kind\xa1x\xa3t_s\x00\xa1n\x00\xa4cols\x81\xa1a\x83\xa5dtype\xa3<i8\xa5shape"
    b"\x91\xce\xff\xff\xff\xff\xa4data\xc4\x00",  # a frame declaring a 4 G-record column
    b"\x84\xa4kind\xa1x\xa3t_s\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00\xa1n\xcb\x7f\xf0\x00\x00\x00"
    b"\x00\x00\x00\xa4cols\x80",  # t_s NaN, n inf
    b"\x91" * 100_000,  # arrays nested 100,000 deep
    b"\x81\xa1k" * 100_000,  # maps nested 100,000 deep
    b"\xc1",  # the one byte msgpack never uses
]


@budget(60)
@given(st.sampled_from(HOSTILE), st.integers(0, len(_ENDS) - 1), st.binary(max_size=64))
def test_hostile_headers_fail_fast_in_bounded_memory(hostile: bytes, frame: int,
                                                     tail: bytes) -> None:
    at = _ENDS[frame]  # after the header or a frame: the reader meets it as the next object
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _check_damaged(BASE[:at] + hostile + tail + BASE[at:], at)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MAX_GROWTH_KB, f"peak memory grew by {grown / 1024:.0f} MB"


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=8) | st.binary(max_size=24),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)
_FIELDS = ["kind", "t_s", "n", "cols", "dtype", "shape", "data", "new"]


def _frames_as_objects() -> list[dict[str, Any]]:
    up = msgpack.Unpacker(raw=False)
    up.feed(BASE)
    return list(up)[1:]


@budget(150)
@given(st.integers(0, len(_ENDS) - 2), st.sampled_from(_FIELDS), _values)
def test_frames_with_fields_of_any_type(frame: int, field: str, value: Any) -> None:
    obj = _frames_as_objects()[frame]
    if field in ("kind", "t_s", "n", "cols", "new"):
        obj[field] = value
    elif obj["cols"]:
        obj["cols"][next(iter(obj["cols"]))][field] = value
    data = BASE[:_ENDS[frame]] + msgpack.packb(obj, use_bin_type=True) + BASE[_ENDS[frame + 1]:]
    _check_damaged(data, _ENDS[frame])


def _replay_and_export(data: bytes) -> None:
    """The trace's users on a run directory holding `data`: one clean line or success."""
    with tempfile.TemporaryDirectory() as d:
        run = Path(d) / "run"
        run.mkdir()
        (run / "trace.msgpack").write_bytes(data)
        try:
            with time_limit(20):
                src = ReplaySource(run)
                for t in (src.t_start, (src.t_start + src.t_end) / 2, src.t_end):
                    src.scene_at(t)
            event("replayed")
        except ReplayError as exc:
            assert "\n" not in str(exc)
            event("replay: clean error")
        argv = ["export", "fcd", str(run), "--out", str(run / "fcd.xml")]
        code, err = run_cli(argv)
        assert_clean(code, err, argv)
        if code == 2:
            assert not (run / "fcd.xml.part").exists()  # no half-written file left behind


@budget(40)
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), min_size=1,
                max_size=6) | st.integers(0, len(BASE)).map(lambda n: [(-n, 0)]))
def test_replay_and_export_of_damaged_traces(edits: list[tuple[int, int]]) -> None:
    data = bytearray(BASE)
    for pos, byte in edits:
        if pos < 0:
            data = data[:-pos]  # a truncation
        else:
            data[pos] = byte
    _replay_and_export(bytes(data))


@budget(60)
@given(st.integers(0, len(_ENDS) - 2), st.sampled_from(_FIELDS), _values)
def test_replay_and_export_of_frames_with_fields_of_any_type(frame: int, field: str,
                                                             value: Any) -> None:
    obj = _frames_as_objects()[frame]
    if field in ("kind", "t_s", "n", "cols", "new"):
        obj[field] = value
    elif obj["cols"]:
        obj["cols"][next(iter(obj["cols"]))][field] = value
    _replay_and_export(BASE[:_ENDS[frame]] + msgpack.packb(obj, use_bin_type=True)
                       + BASE[_ENDS[frame + 1]:])


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("trace_*")), ids=lambda p: p.name)
def test_regressions(path: Path) -> None:
    """Inputs that once crashed the reader, the replay or the export (see each file's name)."""
    data = path.read_bytes()
    try:
        for fr in _read(path)[0]:
            _frame_ok(fr)
    except TraceFormatError:
        pass
    _replay_and_export(data)
