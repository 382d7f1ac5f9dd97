"""On-board unit: when each equipped vehicle generates its BSMs.

Each vehicle broadcasts every `period_ms` at its own phase (drawn at spawn), as real OBUs do: the
phases are what spreads the load over the 100 ms and what makes two vehicles' packets meet.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from vehicles.table import VehicleTable


def bsm_generation(
    table: VehicleTable, t0_ms: int, t1_ms: int, period_ms: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(vehicle ids, generation times in ms) of every BSM generated in [t0_ms, t1_ms)."""
    eq = table["equipped"]
    ids = table["id"][eq]
    phase = table["bsm_phase_ms"][eq]
    born = table["spawn_ms"][eq]
    # First generation at or after max(t0, spawn time), on the vehicle's own phase grid.
    start = np.maximum(t0_ms, born)
    first = phase + -(-(start - phase) // period_ms) * period_ms
    out_ids, out_t = [], []
    k = 0
    while True:
        t = first + k * period_ms
        inside = t < t1_ms
        if not inside.any():
            break
        out_ids.append(ids[inside])
        out_t.append(t[inside])
        k += 1
    if not out_ids:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    vid = np.concatenate(out_ids)
    gen = np.concatenate(out_t)
    order = np.lexsort((vid, gen))
    return vid[order], gen[order]
