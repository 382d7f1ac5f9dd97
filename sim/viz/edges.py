"""Edge (MEC) servers for the viewer: positions, which RSU each serves, and their queue state.

Read-only snapshots of `World.roadside` (live) or of the trace's `edges` / `edge_state` frames
(replay); drawing reads these, never the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from roadside.network import roadside_of

if TYPE_CHECKING:
    from sim.core.world import World


@dataclass(frozen=True)
class EdgeLayer:
    xy_m: NDArray[np.float64]  # (E, 2)
    names: tuple[str, ...]
    cores: NDArray[np.int64]  # (E,)
    rsu_edge: NDArray[np.int64]  # (R,) serving edge per RSU, -1 none
    alive: NDArray[np.bool_]  # (E,)
    busy: NDArray[np.int64]  # cores busy now
    queue: NDArray[np.int64]  # tasks waiting now

    def __len__(self) -> int:
        return len(self.xy_m)


def edge_layer_from_world(world: World) -> EdgeLayer | None:
    rs = roadside_of(world)
    if rs is None or not rs.edges:
        return None
    e = rs.edges
    return EdgeLayer(
        xy_m=np.array(rs.edge_xy_m, dtype=np.float64).reshape(-1, 2),
        names=tuple(x.name for x in e),
        cores=np.array([x.cores for x in e], np.int64),
        rsu_edge=rs.serving_edge.copy(),
        alive=np.array([x.alive for x in e], bool),
        busy=np.array([x.res.count for x in e], np.int64),
        queue=np.array([len(x.res.queue) for x in e], np.int64),
    )
