"""A growable struct-of-arrays table: the one container for vehicles, VRUs and RSI rows.

Why one class: the vehicle, pedestrian and RSI tables all need "append n rows, drop rows by mask,
read a column as an array", and each used to re-concatenate every column on every append, so a
spawn copied the whole fleet. Here each column lives in a buffer with spare capacity (doubling),
an append writes only the new rows, and `keep` compacts in place. `table[name]` is a view of the
live rows: write into it (`t["v_mps"][mask] = 0`) or assign a whole column (`t["v_mps"] = v`).
Assigning a column and `keep` give the column a fresh buffer, so an array read before them keeps
the values it had (code compares "before" and "after" columns); an `append` leaves them valid.

Ids grow monotonically and rows keep insertion order, so the id column is always sorted and
id -> row is a `searchsorted`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import DTypeLike, NDArray

#: Initial capacity of every column buffer (rows).
_MIN_CAPACITY = 16


class ColumnTable:
    """Rows of named, typed columns; `columns` fixes the schema (name -> dtype), `defaults` the
    value of a column an `append` does not give (zero otherwise). The column "id" is required and
    filled by `append`."""

    def __init__(self, columns: Mapping[str, DTypeLike],
                 defaults: Mapping[str, float] | None = None) -> None:
        if "id" not in columns:
            raise ValueError("a ColumnTable needs an 'id' column")
        self.dtypes: dict[str, np.dtype] = {k: np.dtype(t) for k, t in columns.items()}
        self.defaults: dict[str, float] = dict(defaults or {})
        self._buf: dict[str, NDArray] = {k: np.empty(_MIN_CAPACITY, dtype=t)
                                         for k, t in self.dtypes.items()}
        self._n = 0
        self.next_id = 0

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self.dtypes

    def __getitem__(self, name: str) -> NDArray:
        return self._buf[name][: self._n]

    def __setitem__(self, name: str, value: NDArray) -> None:
        if name not in self.dtypes:
            raise KeyError(f"unknown column {name!r}")
        value = np.asarray(value)
        if value.shape != (self._n,):
            raise ValueError(f"column {name}: length {len(value)} != {self._n} rows")
        buf = np.empty(len(self._buf[name]), dtype=self.dtypes[name])
        buf[: self._n] = value
        self._buf[name] = buf

    @property
    def cols(self) -> dict[str, NDArray]:
        """Every column's live rows (views), by name."""
        return {k: b[: self._n] for k, b in self._buf.items()}

    def _reserve(self, rows: int) -> None:
        cap = len(self._buf["id"])
        if rows <= cap:
            return
        new_cap = max(rows, 2 * cap)
        for k, b in self._buf.items():
            grown = np.empty(new_cap, dtype=b.dtype)
            grown[: self._n] = b[: self._n]
            self._buf[k] = grown

    def append(self, n: int, **values: NDArray | float) -> NDArray[np.int64]:
        """Adds n rows (scalars broadcast); absent columns get their default. Returns the ids."""
        unknown = set(values) - set(self.dtypes)
        if unknown:
            raise KeyError(f"unknown columns: {sorted(unknown)}")
        if "id" in values:
            raise KeyError("the id column is assigned by append")
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        self._reserve(self._n + n)
        lo, hi = self._n, self._n + n
        for name, buf in self._buf.items():
            if name == "id":
                buf[lo:hi] = ids
            elif name in values:
                buf[lo:hi] = np.broadcast_to(np.asarray(values[name], dtype=buf.dtype), (n,))
            else:
                buf[lo:hi] = self.defaults.get(name, 0)
        self._n = hi
        return ids

    def keep(self, mask: NDArray[np.bool_]) -> None:
        """Drops the rows where `mask` is False, keeping the order of the rest (fresh buffers, so
        arrays read before stay as they were)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self._n,):
            raise ValueError(f"mask of length {len(mask)} for {self._n} rows")
        m = int(mask.sum())
        if m == self._n:
            return
        for k, b in self._buf.items():
            fresh = np.empty(max(m, _MIN_CAPACITY), dtype=b.dtype)
            fresh[:m] = b[: self._n][mask]
            self._buf[k] = fresh
        self._n = m

    def rows_of(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Row index of each id, or -1 if the row is gone."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._n == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        col = self["id"]
        rows = np.minimum(np.searchsorted(col, ids), self._n - 1)
        return np.where(col[rows] == ids, rows, -1).astype(np.int64)
