"""`StreetMap`: the drawable street network of a scenario, whether or not traffic uses a street.

Routes (`sim.core.road`) are what vehicles drive; a planner looking at a district also wants the
streets nobody's route takes, the lanes as they are painted, the junction areas and the stop line
of every signal-controlled lane, each in the colour its signal shows. A `StreetMap` holds that,
in world metres, with no simulation state: the viewer draws it, the trace records it so a replay
can draw it too. It comes from a SUMO net (`sim.sumo.net.street_map`); scenarios on GeoJSON maps
have none and the viewer draws their routes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class StreetMap:
    """Lanes, junction areas and signal stop bars of a network."""

    #: Lane centre lines in driving direction, (K, 2) each.
    lane_xy_m: tuple[FloatArray, ...]
    lane_width_m: FloatArray  # (L,)
    lane_edge: IntArray  # (L,) index into `edge_names`
    lane_index: IntArray  # (L,) 0 = the kerb (rightmost) lane, as SUMO numbers them
    edge_names: tuple[str, ...]  # per edge: the street name, "" when unnamed
    junction_xy_m: tuple[FloatArray, ...]  # junction area outlines, (K, 2) each
    #: Signal-controlled lane ends: the lane, the signal (index into the world's SignalTable) and
    #: the link group whose colour that lane's stop bar shows (`SignalTable.colors`).
    stop_lane: IntArray
    stop_signal: IntArray
    stop_group: IntArray
    #: Per signal of the world's table: a readable name (the streets that meet there), "" unknown.
    signal_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.lane_xy_m)

    @property
    def n_edges(self) -> int:
        return len(self.edge_names)

    def bounds_m(self) -> tuple[float, float, float, float]:
        """xmin, ymin, xmax, ymax of every lane and junction (inf when empty)."""
        parts = [*self.lane_xy_m, *self.junction_xy_m]
        if not parts:
            return (np.inf, np.inf, -np.inf, -np.inf)
        allp = np.concatenate(parts)
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
