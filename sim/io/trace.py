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
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

FORMAT = "v2xsim-trace"
VERSION = 1
_CHUNK = 1 << 20
_MAX_BUFFER = (1 << 31) - 1  # allow frames up to ~2 GiB


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


def _decode_frame(obj: Any, offset: int) -> Frame:
    try:
        n = int(obj["n"])
        cols: dict[str, np.ndarray] = {}
        for name, c in obj["cols"].items():
            dt = np.dtype(c["dtype"])
            if dt.hasobject:
                raise TypeError("object dtype")
            arr = np.frombuffer(c["data"], dtype=dt).reshape(c["shape"])
            if arr.ndim == 0 or arr.shape[0] != n:
                raise ValueError(f"column {name!r} shape {arr.shape} does not match n={n}")
            cols[name] = arr
        return Frame(str(obj["kind"]), float(obj["t_s"]), cols)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TraceFormatError(f"malformed frame at byte {offset}: {exc!r}") from exc


class TraceReader:
    """Iterate the frames of a trace; stops cleanly at the last whole frame.

    ``meta`` is available right after construction. ``truncated`` is ``True`` once the
    iteration has ended on a partial trailing frame (a crash or a write in progress).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.truncated = False
        self._fh = open(self.path, "rb")  # noqa: SIM115 (lives with the reader, closed by close())
        self._up = msgpack.Unpacker(raw=False, max_buffer_size=_MAX_BUFFER)
        self._fed = 0
        self._pos = 0  # offset just after the last whole object
        hdr = self._next_obj()
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
                self._up.feed(chunk)
                self._fed += len(chunk)
                continue
            except (msgpack.UnpackException, ValueError) as exc:
                self.close()
                raise TraceFormatError(f"{self.path}: corrupt data at byte {self._pos}") from exc
            self._pos = self._up.tell()
            return obj

    def __iter__(self) -> TraceReader:
        return self

    def __next__(self) -> Frame:
        start = self._pos
        obj = self._next_obj()
        if obj is None:
            raise StopIteration
        return _decode_frame(obj, start)

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

    Returns ``{"t_s": empty float64}`` when there is no such frame. Raises ValueError when
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
                raise ValueError(f"kind {kind!r}: columns {list(fr.cols)} != {names}")
            parts["t_s"].append(np.full(fr.n, fr.t_s, dtype=np.float64))
            for k, v in fr.cols.items():
                parts[k].append(v)
    if names is None:
        return {"t_s": np.empty(0, dtype=np.float64)}
    return {k: np.concatenate(v) for k, v in parts.items()}
