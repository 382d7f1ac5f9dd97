"""What mobility needs beyond the Poisson traffic: service fleets, bus lines, scripted vehicles,
ramps and VRUs, resolved to indices and SI units once by the scenario builder."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vehicles.classes import CLASS_BY_CODE
from vehicles.pedestrians import Crosswalks, VruProcess
from vehicles.ramps import Ramps
from vehicles.service import LineStops, ServiceParams

IntArray = NDArray[np.int64]


def no_service() -> ServiceParams:
    k = len(CLASS_BY_CODE)
    return ServiceParams(np.full(k, np.inf), np.zeros(k), np.zeros(k))


def no_lines() -> LineStops:
    e = np.zeros(0, np.int64)
    return LineStops(e, np.zeros(0), e, e)


@dataclass(frozen=True)
class ScriptedVehicle:
    at_ms: int
    route: int
    s_m: float
    lane: int
    v_mps: float | None  # None: its desired speed
    cls: int
    automation: int
    equipped: bool
    #: Enter only when there is room ahead (SUMO's insertion), waiting in order; False: placed
    #: as given at `at_ms` (a script may set up a conflict on purpose).
    wait_for_room: bool = False
    #: The bus line whose stops it serves (index into `FleetPlan.lines`), -1: none.
    line: int = -1


@dataclass
class FleetPlan:
    service: ServiceParams = field(default_factory=no_service)
    #: Per class code: working speed cap (inf: none) and forced automation level (-1: fleet mix).
    service_speed_mps: NDArray[np.float64] = field(
        default_factory=lambda: np.full(len(CLASS_BY_CODE), np.inf))
    service_automation: IntArray = field(
        default_factory=lambda: np.full(len(CLASS_BY_CODE), -1, dtype=np.int64))
    lines: LineStops = field(default_factory=no_lines)
    line_route: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    line_headway_ms: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    line_next_ms: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # mutable
    line_automation: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    scripted: list[ScriptedVehicle] = field(default_factory=list)
    ramps: Ramps = field(default_factory=Ramps.none)
    crosswalks: Crosswalks | None = None
    vru: VruProcess | None = None
