"""What the medium needs to know about its nodes: positions, radios, and who wants to send.

The radio knows nodes and packets, not cars or roadside units. The mobile side (vehicles' OBUs,
`vehicles.obu.ObuFleet`) and the fixed side (RSUs, `roadside.rsu.RsuTable`) hand the medium what
it asks for through the two protocols below, so any mobility model (ours, SUMO's) or site layout
plugs in without the radio importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class VehicleRadio:
    """The radio every mobile node carries (one OBU type per scenario)."""

    tx_power_dbm: float
    antenna_gain_dbi: float
    antenna_height_m: float
    noise_figure_db: float


@dataclass(frozen=True)
class MobileNodes:
    """The moving nodes at the source's state time, sorted by id (ids are unique and grow)."""

    ids: IntArray
    xy_m: FloatArray  # (n, 2)
    vel_mps: FloatArray  # (n, 2)
    #: Distance travelled along the node's path (correlated shadowing decorrelates over it).
    odometer_m: FloatArray
    speed_mps: FloatArray


@dataclass(frozen=True)
class BsmIntents:
    """BSMs the mobile nodes generate in a window, ordered by (time, id)."""

    node_id: IntArray
    gen_ms: IntArray
    #: The CSAE 53 `events` hard-braking flag of each message (set by the OBU).
    event_flag: NDArray[np.bool_]


class MobileSource(Protocol):
    """The mobile nodes (vehicles with an OBU) as the medium sees them."""

    def mobile_nodes(self) -> MobileNodes: ...

    def bsm_intents(self, t0_ms: int, t1_ms: int, period_ms: int) -> BsmIntents: ...


class FixedSites(Protocol):
    """Fixed nodes (RSUs): one radio setting for all, positions per site."""

    @property
    def xy_m(self) -> FloatArray: ...
    @property
    def height_m(self) -> float: ...
    @property
    def tx_power_dbm(self) -> float: ...
    @property
    def antenna_gain_dbi(self) -> float: ...
    @property
    def noise_figure_db(self) -> float: ...

    def __len__(self) -> int: ...

    @property
    def key(self) -> NDArray[np.uint64]: ...


@dataclass(frozen=True)
class NoFixedSites:
    """A layout without RSUs (radio studies, benchmarks)."""

    xy_m: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    height_m: float = 0.0
    tx_power_dbm: float = 0.0
    antenna_gain_dbi: float = 0.0
    noise_figure_db: float = 0.0

    def __len__(self) -> int:
        return 0

    @property
    def key(self) -> NDArray[np.uint64]:
        return np.empty(0, np.uint64)
