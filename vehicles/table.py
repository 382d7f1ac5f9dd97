"""The vehicle table: struct-of-arrays columns, one row per vehicle alive.

Ids grow monotonically and rows keep insertion order, so the id column is always sorted and
id -> row is a `searchsorted`. Removal filters every column with one mask (vectorized); there are
no per-vehicle objects in the hot path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Column name -> dtype. Everything a vehicle is lives here.
COLUMNS: dict[str, type] = {
    "id": np.int64,
    "cls": np.int8,
    "automation": np.int8,  # 0..4 = L0..L4
    "equipped": np.bool_,  # has a C-V2X on-board unit
    "route": np.int64,
    "lane": np.int64,
    "s_m": np.float64,  # arc position along the route
    "v_mps": np.float64,
    "a_mps2": np.float64,  # acceleration applied in the last step
    "length_m": np.float64,
    "width_m": np.float64,
    "height_m": np.float64,
    "v0_mps": np.float64,  # IDM desired speed
    "headway_s": np.float64,  # IDM time headway T
    "a_max_mps2": np.float64,
    "b_comf_mps2": np.float64,
    "s0_m": np.float64,
    "reaction_steps": np.int64,  # reaction delay in mobility steps
    "bsm_phase_ms": np.int64,  # BSM generation phase within the period
    "x_m": np.float64,
    "y_m": np.float64,
    "heading_rad": np.float64,
    "spawn_ms": np.int64,
    "halt_decel_mps2": np.float64,  # > 0: brakes at this rate to a standstill and stays (incidents)
    "last_lane_change_s": np.float64,
    # V2X warnings act on driving through these columns (written by applications, read by mobility):
    "warn_start_ms": np.int64,  # braking warning: precautionary braking from here (after reaction)
    "warn_end_ms": np.int64,  # ... until here
    "warn_decel_mps2": np.float64,  # ... at this rate (> 0)
    "advice_speed_mps": np.float64,  # speed advice (SLW, GLOSA, TJW): desired speed capped to this
    "advice_start_ms": np.int64,  # ... from here (after reaction)
    "advice_end_ms": np.int64,  # ... until here
    # Desired speed and service behaviour (vehicles.service, vehicles.ramps):
    "speed_factor": np.float64,  # desired speed = limit at s x this (driver factor x class factor)
    "v_cap_mps": np.float64,  # ... capped to this (class maximum, service working speed)
    "line": np.int64,  # bus line index (-1: not on a line)
    "next_stop_s_m": np.float64,  # arc position of the next kerb-side stop (inf: none)
    "dwell_until_ms": np.int64,  # stopped at a stop until then (-1: not dwelling)
    "stops_made": np.int64,  # stops served so far
    "exit_s_m": np.float64,  # leaves by an off-ramp at this arc position (inf: drives to the end)
}
#: Columns whose "absent" value is not zero.
DEFAULTS: dict[str, float] = {
    "speed_factor": 1.0, "v_cap_mps": np.inf, "line": -1, "next_stop_s_m": np.inf,
    "dwell_until_ms": -1, "exit_s_m": np.inf,
}


class VehicleTable:
    def __init__(self) -> None:
        self.cols: dict[str, NDArray] = {k: np.empty(0, dtype=t) for k, t in COLUMNS.items()}
        self.next_id = 0

    def __len__(self) -> int:
        return len(self.cols["id"])

    def __getitem__(self, name: str) -> NDArray:
        return self.cols[name]

    def __setitem__(self, name: str, value: NDArray) -> None:
        if len(value) != len(self):
            raise ValueError(f"column {name}: length {len(value)} != {len(self)} rows")
        self.cols[name] = np.asarray(value, dtype=COLUMNS[name])

    def append(self, n: int, **values: NDArray) -> NDArray[np.int64]:
        """Adds n rows; missing columns are zero (or their `DEFAULTS`). Returns the new ids."""
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise KeyError(f"unknown columns: {sorted(unknown)}")
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        for name, dtype in COLUMNS.items():
            if name == "id":
                new = ids
            elif name in values:
                new = np.broadcast_to(np.asarray(values[name], dtype=dtype), (n,))
            else:
                new = np.full(n, DEFAULTS.get(name, 0), dtype=dtype)
            self.cols[name] = np.concatenate([self.cols[name], new])
        return ids

    def keep(self, mask: NDArray[np.bool_]) -> None:
        for name in self.cols:
            self.cols[name] = self.cols[name][mask]

    def warned(self, now_ms: int) -> NDArray[np.bool_]:
        """Vehicles whose precautionary braking window (a V2X warning) is open at `now_ms`."""
        return (self.cols["warn_start_ms"] <= now_ms) & (now_ms < self.cols["warn_end_ms"])

    def advised(self, now_ms: int) -> NDArray[np.bool_]:
        """Vehicles following a V2X speed advice at `now_ms`."""
        return (self.cols["advice_start_ms"] <= now_ms) & (now_ms < self.cols["advice_end_ms"])

    def rows_of(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Row index of each id, or -1 if the vehicle is gone."""
        rows = np.searchsorted(self.cols["id"], ids)
        rows = np.minimum(rows, max(len(self) - 1, 0))
        found = (len(self) > 0) & (self.cols["id"][rows] == ids) if len(self) else np.zeros(len(ids), bool)
        return np.where(found, rows, -1)
