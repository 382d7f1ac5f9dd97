"""Giving way inside junctions (SUMO networks): a vehicle on a minor link waits for the vehicles
that have right of way over it where their junction lanes cross.

Signals separate most conflicting streams, but not all of them: a left turn on a permissive green
crosses the oncoming straight stream, a side road or slip road meets an arterial without a light.
SUMO's junction request table says which link gives way to which (`SumoNet.yields`); the
conflict points are where the two junction lanes cross (`find_piece_crossings`). Each step, for
every such point, the earliest time any priority vehicle reaches its zone is computed (a vehicle
standing still takes "forever", so two waiting vehicles never block each other); a minor
vehicle that would still be in the zone by then plus `GAP_S` stops before the zone if it can do
so comfortably, and goes otherwise (it is committed). One lexsort and searchsorted per side; no
loops over vehicles.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.core.rng import hash_uniform
from sim.core.road import RouteGeometry
from vehicles.classes import AUTOMATED_FROM_LEVEL
from vehicles.idm import idm_acceleration
from vehicles.shared_roads import KEY_M, SharedRoads, expand_ranges, piece_sides
from vehicles.table import VehicleTable

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

GAP_S = 1.5  # accepted gap after the minor vehicle has cleared the zone
HORIZON_M = 80.0  # look-ahead for both sides
MAX_STOP_DECEL_MPS2 = 4.0
MIN_CROSS_SPEED_MPS = 3.0  # a waiting vehicle crosses at least this fast


def misses_priority(automation: IntArray, ids: IntArray, human_share: float,
                    automated_share: float, key: int) -> NDArray[np.bool_]:
    """Per vehicle: a driver who does not give way (does not see the priority vehicle in time).
    A hash of the vehicle id, not a draw: the same vehicles whatever else is drawn, and the same
    in both engines."""
    share = np.where(automation >= AUTOMATED_FROM_LEVEL, automated_share, human_share)
    if not share.any():
        return np.zeros(len(ids), bool)
    return hash_uniform(key, ids) < share


class JunctionYields:
    """Conflict points where piece `minor` gives way to piece `major` (see the module doc)."""

    def __init__(self, geometry: RouteGeometry, shared: SharedRoads, minor: IntArray,
                 minor_s_m: FloatArray, minor_half_m: FloatArray, major: IntArray,
                 major_s_m: FloatArray, major_half_m: FloatArray) -> None:
        self.n = len(minor)
        self.minor = piece_sides(shared, geometry, minor, minor_s_m, minor_half_m)
        self.major = piece_sides(shared, geometry, major, major_s_m, major_half_m)
        self.yields = 0  # vehicle-steps spent giving way
        #: (human share, automated share, hash key) of drivers who do not give way.
        self.misses: tuple[float, float, int] = (0.0, 0.0, 0)

    def __len__(self) -> int:
        return self.n

    def _earliest_major_s(self, t: VehicleTable) -> FloatArray:
        """Per conflict point: the soonest any priority vehicle reaches its zone (inf: none)."""
        side = self.major
        earliest = np.full(self.n, np.inf)
        if not len(side.row) or not len(t):
            return earliest
        v_key = t["route"] * KEY_M + t["s_m"]
        # Vehicles from HORIZON_M before a zone until their rear has left it.
        lo = np.searchsorted(side.key, v_key - side.half_m.max() - t["length_m"], side="left")
        hi = np.searchsorted(side.key, v_key + HORIZON_M + side.half_m.max(), side="right")
        count = np.maximum(hi - lo, 0)
        veh, idx = expand_ranges(lo, count)
        same = side.route[idx] == t["route"][veh]
        veh, idx = veh[same], idx[same]
        ahead_m = side.s_m[idx] - side.half_m[idx] - t["s_m"][veh]
        cleared = t["s_m"][veh] - t["length_m"][veh] > side.s_m[idx] + side.half_m[idx]
        ok = ~cleared & (ahead_m <= HORIZON_M)
        t_in = np.maximum(ahead_m[ok], 0.0) / np.maximum(t["v_mps"][veh[ok]], 1e-3)
        np.minimum.at(earliest, side.row[idx[ok]], t_in)
        return earliest

    def accel_cap(self, t: VehicleTable) -> FloatArray:
        """IDM acceleration of the vehicles that give way (toward a stop before the zone); inf for
        every other vehicle."""
        cap = np.full(len(t), np.inf)
        side = self.minor
        if not self.n or not len(t) or not len(side.row):
            return cap
        earliest = self._earliest_major_s(t)
        v_key = t["route"] * KEY_M + t["s_m"]
        # The next conflict point ahead of the front (a front already in its zone is committed:
        # stop_gap < 0 below).
        j = np.searchsorted(side.key, v_key, side="left")
        k = np.minimum(j, len(side.row) - 1)
        on_route = (j < len(side.row)) & (side.route[k] == t["route"])
        stop_gap = side.s_m[k] - side.half_m[k] - 1.0 - t["s_m"]
        v = t["v_mps"]
        clear_s = (side.s_m[k] + side.half_m[k] + t["length_m"] - t["s_m"]) / np.maximum(
            v, MIN_CROSS_SPEED_MPS)
        can_stop = v ** 2 / (2.0 * np.maximum(stop_gap, 0.1)) <= MAX_STOP_DECEL_MPS2
        give_way = (on_route & (stop_gap > -0.5) & (stop_gap <= HORIZON_M) & can_stop
                    & (earliest[side.row[k]] < clear_s + GAP_S))
        if self.misses[0] or self.misses[1]:
            give_way &= ~misses_priority(t["automation"], t["id"], *self.misses)
        if not give_way.any():
            return cap
        self.yields += int(give_way.sum())
        a = idm_acceleration(v, t["v0_mps"], np.maximum(stop_gap, 0.0) + t["s0_m"], v,
                             t["headway_s"], t["a_max_mps2"], t["b_comf_mps2"], t["s0_m"])
        return np.where(give_way, a, np.inf)
