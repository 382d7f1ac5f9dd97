"""Run trace: an append-only stream of msgpack frames holding columnar record batches.

Why this shape:

* **No outer container.** The file is msgpack objects written back to back, so every
  frame that was fully written is readable on its own. A reader in another process can
  follow a live run, and after a crash (``kill -9``, Ctrl-C) everything up to the last
  whole frame survives; a torn final frame is detected and skipped (``truncated``).
* **Frame 0 is a header** ``{"format": "v2xsim-trace", "version": 1, "meta": {...}}``.
  Every other frame is ``{"kind", "t_s", "n", "cols"}`` where each column is
  ``{"dtype": dtype.str, "shape": [...], "data": bytes}`` - explicit little-endian,
  C-order numpy bytes, so decoding is a zero-copy ``np.frombuffer``.
* **Columns, not records.** A batch of ``n`` records is a handful of contiguous arrays,
  which is far cheaper to pack and to load into KPIs / the replay viewer than per-record maps.
* **Durability vs. speed.** The writer flushes to the OS after every frame (visible to
  readers, survives a process kill) but only ``fsync``s on ``close()``; an fsync per frame
  is too slow for a simulation loop. A power loss may therefore lose the unsynced tail.
* **Deterministic bytes.** No timestamps are added and column / meta order is insertion
  order, so the same input always yields a byte-identical file.

Arrays returned by the reader are **read-only views** onto the frame's bytes; call
``.copy()`` if you need to modify them.

**Hostile or damaged files.** A trace may come from another machine or tool, so the reader trusts
nothing in it: msgpack lengths are capped (a header declaring a 4 GB string, array or map fails at
once instead of allocating), nesting is capped by msgpack's own stack, every frame is checked field
by field (dtype, shape, byte count) before ``np.frombuffer``, and every problem is one
``TraceFormatError`` naming the byte offset. Memory stays within one frame's cap
(``MAX_FRAME_BYTES``) beyond the frames already returned. There is no checksum: a bit flip inside
a column's data bytes changes values without being detected (adding one would change the format).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

FORMAT = "v2xsim-trace"
VERSION = 1
_CHUNK = 1 << 20
#: Largest frame the writer writes and the reader accepts. The biggest frames of real runs (a
#: city's street map, a busy radio batch) are a few MB; the cap bounds what a hostile or damaged
#: file can make the reader hold (msgpack buffers a frame whole before decoding it).
MAX_FRAME_BYTES = 512 << 20
_MAX_STR = 1 << 20  # kinds, column names, dtypes and meta strings are short
_MAX_ITEMS = 1 << 16  # shapes, column maps and meta lists/maps are small
_MAX_EXT = 64  # msgpack's timestamp extension is at most 12 bytes; the writer writes none
_MAX_DIMS = 8
#: ``dtype.str`` as the writer writes it: byte order, kind, item size, datetime unit. Parsed by a
#: pattern, not by ``np.dtype`` alone, which would also accept structured and sub-array dtypes.
_DTYPE = re.compile(r"[<>|=][biufcSUmM][0-9]{1,5}(\[[0-9]*[a-zA-Z]{1,2}\])?")


class TraceFormatError(ValueError):
    """The file is not a v2xsim trace, or a whole frame in it is malformed."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One record batch. ``cols`` arrays are read-only and share a first dimension ``n``."""

    kind: str
    t_s: float
    cols: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return next(iter(self.cols.values())).shape[0] if self.cols else 0


def _encode_col(name: str, value: Any) -> tuple[np.ndarray, dict[str, Any]]:
    arr = np.asarray(value)
    if arr.dtype.hasobject or arr.dtype.kind == "V":
        raise TypeError(f"column {name!r}: dtype {arr.dtype} cannot be traced (object/structured)")
    if arr.ndim == 0:
        raise ValueError(f"column {name!r}: 0-d array, expected a first (record) dimension")
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)  # tobytes() below is C-order
    return arr, {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": arr.tobytes()}


class TraceWriter:
    """Append frames to ``path`` (truncating it). Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self._packer = msgpack.Packer(use_bin_type=True)
        self._fh = open(self.path, "wb")  # noqa: SIM115 (lives with the writer; flushed per frame)
        self._frames = 0
        self._bytes = 0
        try:
            self._emit({"format": FORMAT, "version": VERSION, "meta": dict(meta)})
        except BaseException:
            self._fh.close()
            raise

    @property
    def frames_written(self) -> int:
        """Number of data frames written (the header is not counted)."""
        return self._frames

    @property
    def bytes_written(self) -> int:
        """Total bytes written, header included (= file size once flushed)."""
        return self._bytes

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def _emit(self, obj: dict[str, Any]) -> None:
        if self._fh.closed:
            raise ValueError("write to a closed TraceWriter")
        data = self._packer.pack(obj)
        if len(data) > MAX_FRAME_BYTES:  # the reader would refuse it: fail here, not on replay
            raise ValueError(f"frame of {len(data)} bytes exceeds the {MAX_FRAME_BYTES} byte cap")
        self._fh.write(data)
        self._fh.flush()  # hand the whole frame to the OS: readers / post-crash see it
        self._bytes += len(data)

    def write(self, kind: str, t_s: float, **cols: np.ndarray) -> None:
        """Write one batch of ``n`` records; every column must have first dimension ``n``."""
        if not isinstance(kind, str):
            raise TypeError(f"kind must be str, got {type(kind).__name__}")
        encoded: dict[str, dict[str, Any]] = {}
        n: int | None = None
        for name, value in cols.items():
            arr, enc = _encode_col(name, value)
            if n is None:
                n = arr.shape[0]
            elif arr.shape[0] != n:
                raise ValueError(f"column {name!r} has {arr.shape[0]} records, expected {n}")
            encoded[name] = enc
        self._emit({"kind": kind, "t_s": float(t_s), "n": n or 0, "cols": encoded})
        self._frames += 1

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        """Flush and fsync, then close. Idempotent."""
        if self._fh.closed:
            return
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        finally:
            self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _column(name: Any, c: Any, n: int) -> np.ndarray:
    """One column, checked before any bytes are interpreted (shape and size come from the file)."""
    if not isinstance(name, str):
        raise ValueError(f"column name {name!r:.40} is not a string")
    if not isinstance(c, dict) or not {"dtype", "shape", "data"} <= c.keys():
        raise ValueError(f"column {name!r:.40}: expected dtype, shape and data")
    code, shape, data = c["dtype"], c["shape"], c["data"]
    if not isinstance(code, str) or not _DTYPE.fullmatch(code):
        raise ValueError(f"column {name!r:.40}: unsupported dtype {code!r:.40}")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= _MAX_DIMS
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise ValueError(f"column {name!r:.40}: bad shape {shape!r:.60}")
    if not isinstance(data, bytes):
        raise ValueError(f"column {name!r:.40}: data is not bytes")
    dt = np.dtype(code)
    if dt.itemsize == 0 or math.prod(shape) * dt.itemsize != len(data):
        raise ValueError(f"column {name!r:.40}: {len(data)} bytes do not hold shape {shape} of "
                         f"{code}")
    if shape[0] != n:
        raise ValueError(f"column {name!r:.40} shape {tuple(shape)} does not match n={n}")
    return np.frombuffer(data, dtype=dt).reshape(shape)


def _decode_frame(obj: Any, offset: int) -> Frame:
    """A frame from one unpacked object; anything unexpected is a ``TraceFormatError``."""
    try:
        if not isinstance(obj, dict) or not {"kind", "t_s", "n", "cols"} <= obj.keys():
            raise ValueError("expected a map with kind, t_s, n and cols")
        kind, t_s, n, cols = obj["kind"], obj["t_s"], obj["n"], obj["cols"]
        if not isinstance(kind, str):
            raise ValueError(f"kind {kind!r:.40} is not a string")
        if isinstance(t_s, bool) or not isinstance(t_s, (int, float)) or not math.isfinite(t_s):
            raise ValueError(f"t_s {t_s!r:.40} is not a finite number")
        if type(n) is not int or n < 0:
            raise ValueError(f"n {n!r:.40} is not a record count")
        if not isinstance(cols, dict):
            raise ValueError("cols is not a map")
        arrays = {name: _column(name, c, n) for name, c in cols.items()}
        return Frame(kind, float(t_s), arrays)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TraceFormatError(f"malformed frame at byte {offset}: {exc}") from None


class TraceReader:
    """Iterate the frames of a trace; stops cleanly at the last whole frame.

    ``meta`` is available right after construction. ``truncated`` is ``True`` once the
    iteration has ended on a partial trailing frame (a crash or a write in progress).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.truncated = False
        self._fh = open(self.path, "rb")  # noqa: SIM115 (lives with the reader, closed by close())
        self._up = msgpack.Unpacker(
            raw=False, max_buffer_size=MAX_FRAME_BYTES + _CHUNK, max_bin_len=MAX_FRAME_BYTES,
            max_str_len=_MAX_STR, max_array_len=_MAX_ITEMS, max_map_len=_MAX_ITEMS,
            max_ext_len=_MAX_EXT)
        self._fed = 0
        self._pos = 0  # offset just after the last whole object
        try:
            hdr = self._next_obj()
        except TraceFormatError:
            self.close()
            raise
        ok = isinstance(hdr, dict) and hdr.get("format") == FORMAT
        if not ok or hdr.get("version") != VERSION or not isinstance(hdr.get("meta"), dict):
            self.close()
            why = f"unsupported version {hdr.get('version')!r}" if ok else "missing/invalid header"
            raise TraceFormatError(f"{self.path}: not a v2xsim-trace v{VERSION} file ({why})")
        self.meta: dict[str, Any] = hdr["meta"]

    def _next_obj(self) -> Any:
        """Next whole msgpack object, or None at end of data (sets ``truncated``)."""
        while True:
            try:
                obj = next(self._up)
            except StopIteration:
                chunk = b"" if self._fh.closed else self._fh.read(_CHUNK)
                if not chunk:
                    self.truncated = self._fed > self._pos
                    self.close()
                    return None
                try:
                    self._up.feed(chunk)
                except msgpack.BufferFull:
                    self.close()
                    raise TraceFormatError(f"{self.path}: corrupt data at byte {self._pos}: a "
                                           f"frame over {MAX_FRAME_BYTES} bytes") from None
                self._fed += len(chunk)
                continue
            except (msgpack.UnpackException, ValueError, OverflowError) as exc:
                self.close()
                why = f": {exc}" if str(exc) else ""
                raise TraceFormatError(f"{self.path}: corrupt data at byte {self._pos}"
                                       f"{why:.120}") from None
            self._pos = self._up.tell()
            return obj

    @property
    def offset(self) -> int:
        """Bytes of whole objects read so far: after a torn tail, where the good part ends."""
        return self._pos

    def __iter__(self) -> TraceReader:
        return self

    def __next__(self) -> Frame:
        start = self._pos
        obj = self._next_obj()
        if obj is None:
            raise StopIteration
        try:
            return _decode_frame(obj, start)
        except TraceFormatError as exc:
            self.close()
            raise TraceFormatError(f"{self.path}: {exc}") from None

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trace(path: str | os.PathLike[str]) -> tuple[dict[str, Any], TraceReader]:
    """``meta, frames = read_trace(p)``; ``frames`` is an iterator with ``.truncated``."""
    reader = TraceReader(path)
    return reader.meta, reader


def load_columns(path: str | os.PathLike[str], kind: str) -> dict[str, np.ndarray]:
    """Concatenate all frames of ``kind``; adds a ``t_s`` column repeated per record.

    Returns ``{"t_s": empty float64}`` when there is no such frame. Raises TraceFormatError when
    frames of ``kind`` disagree on their column names.
    """
    parts: dict[str, list[np.ndarray]] = {"t_s": []}
    names: list[str] | None = None
    with TraceReader(path) as reader:
        for fr in reader:
            if fr.kind != kind:
                continue
            if names is None:
                names = list(fr.cols)
                parts.update({k: [] for k in names})
            elif set(fr.cols) != set(names):
                raise TraceFormatError(f"{path}: kind {kind!r}: columns {list(fr.cols)} != {names}")
            parts["t_s"].append(np.full(fr.n, fr.t_s, dtype=np.float64))
            for k, v in fr.cols.items():
                parts[k].append(v)
    if names is None:
        return {"t_s": np.empty(0, dtype=np.float64)}
    try:
        return {k: np.concatenate(v) for k, v in parts.items()}
    except ValueError as exc:  # e.g. 2-D columns whose second dimensions differ between frames
        raise TraceFormatError(f"{path}: kind {kind!r}: frames do not stack ({exc})") from None
