"""Vulnerable road users (pedestrians, cyclists) crossing at signalised intersections.

Their own struct-of-arrays table (`PedestrianTable`) and their own process (`VruProcess`), stepped
with mobility. Each signal gets a crosswalk across every route approaching it, `offset` past the
stop line. VRUs arrive at either end of a crosswalk (a Poisson process per crosswalk), wait for
their walk phase (the crossed approach red, the other group green, as a two-phase plan gives
pedestrians the green of the parallel traffic) and walk straight across. A `violation_share` of
them crosses on arrival whatever the signal once the nearest approaching vehicle is at least
`accepted_gap_s` away (jaywalking with a short accepted gap), which is where conflicts come from.

Vehicles yield to a VRU in or next to their lane on a crosswalk ahead (Road Traffic Safety Law
of the PRC, Art. 47: stop and give way to pedestrians crossing) when they can still stop at
`YIELD_MAX_DECEL_MPS2`; closer vehicles drive on. Safety KPIs count vehicle-VRU conflicts (a VRU
in the vehicle's lane on the crosswalk that the vehicle reaches within the near-miss TTC) and
collisions (the vehicle's footprint covers the VRU), each pair once.

Walking speed 1.2 m/s (sd 0.2): the usual signal-timing design value (MUTCD 4E.06 uses 3.5 ft/s
= 1.07 m/s as a conservative floor; measured means are 1.2-1.4 m/s, Knoblauch et al. 1996);
cyclists 4 m/s (about 15 km/h, a typical urban cycling speed). All updates are vectorized over
VRUs and crosswalks (no Python loop over VRUs or vehicles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sim.core.signals import GREEN, RED, SignalTable
from sim.core.table import ColumnTable

if TYPE_CHECKING:
    from sim.core.world import World

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PEDESTRIAN, CYCLIST = 0, 1
KIND_NAMES = ("pedestrian", "cyclist")
WAITING, CROSSING = 0, 1
#: Vehicles yield to a VRU in their lane (or the next) on the crosswalk if they can still stop at
#: this deceleration (an emergency stop, ~0.8 g on dry asphalt); closer ones cannot avoid it.
YIELD_MAX_DECEL_MPS2 = 8.0
#: A VRU's body half width for the collision test (shoulder / handlebar).
VRU_HALF_WIDTH_M = 0.3

COLUMNS: dict[str, type] = {
    "id": np.int64,
    "kind": np.int8,  # PEDESTRIAN / CYCLIST
    "x_m": np.float64,
    "y_m": np.float64,
    "vx_mps": np.float64,
    "vy_mps": np.float64,
    "signal": np.int64,  # index of the signal whose crosswalk it uses
    "state": np.int8,  # WAITING / CROSSING
    "crosswalk": np.int64,
    "u_m": np.float64,  # lateral position from the route's centre line (+ towards the kerb)
    "dir": np.int8,  # +1 walking towards the kerb, -1 towards the centre line
    "speed_mps": np.float64,
    "violator": np.bool_,
    "arrive_ms": np.int64,
}


class PedestrianTable(ColumnTable):
    """VRUs as columns, one row per VRU present (waiting or crossing); ids grow monotonically."""

    def __init__(self) -> None:
        super().__init__(COLUMNS)


@dataclass(frozen=True)
class Crosswalks:
    """Crosswalks sorted by (route, s): one per (signal, approaching route). On a SUMO net, where
    many routes share an approach, `route` is the approach's piece of road (a `SharedRoads` key)
    and `s_m` the position on it (`SharedRoads.approach_frame`): one crosswalk per kerb."""

    route: IntArray
    s_m: FloatArray
    signal: IntArray
    group: IntArray  # approach group of the crossed route at the signal
    origin_xy_m: FloatArray  # (C, 2) route centre line at the crosswalk
    heading_rad: FloatArray
    width_m: FloatArray  # carriageway width of the route (lanes x lane width)
    lane_width_m: FloatArray
    #: The group that must show green while VRUs walk (-1: none required: on a per-link SUMO
    #: program the crossed approach being red is the walk phase).
    other_group: IntArray | None = None
    KEY_M = 1e7

    def __len__(self) -> int:
        return len(self.route)

    def next_ahead(self, route: IntArray, s_m: FloatArray) -> tuple[IntArray, FloatArray]:
        """Each vehicle's next crosswalk (-1 if none) and the distance of its front to it."""
        if len(self.route) == 0:
            return np.full(len(route), -1), np.full(len(route), np.inf)
        keys = self.route * self.KEY_M + self.s_m
        i = np.searchsorted(keys, route * self.KEY_M + s_m, side="right")
        i_c = np.minimum(i, len(keys) - 1)
        ok = (i < len(keys)) & (self.route[i_c] == route)
        return np.where(ok, i_c, -1), np.where(ok, self.s_m[i_c] - s_m, np.inf)


@dataclass(frozen=True)
class VruParams:
    arrivals_per_s: float
    cyclist_share: float
    violation_share: float
    walk_speed_mps: float
    walk_speed_sd_mps: float
    cycle_speed_mps: float
    cycle_speed_sd_mps: float
    sidewalk_m: float
    accepted_gap_s: float = 2.0


@dataclass
class VruStats:
    arrived: int = 0
    crossed: int = 0
    violations: int = 0  # crossings started outside the walk phase
    conflicts: int = 0
    collisions: int = 0
    yields: int = 0  # vehicle-steps held at a crosswalk for a VRU


@dataclass
class VruProcess:
    """Arrivals, signal-compliant (or not) crossing, and vehicle-VRU conflict counting."""

    crosswalks: Crosswalks
    signals: SignalTable
    params: VruParams
    rng: np.random.Generator
    table: PedestrianTable = field(default_factory=PedestrianTable)
    stats: VruStats = field(default_factory=VruStats)
    _conflict_pairs: set[tuple[int, int]] = field(default_factory=set)
    _collision_pairs: set[tuple[int, int]] = field(default_factory=set)

    def walk_phase(self, now_ms: int) -> NDArray[np.bool_]:
        """Per crosswalk: the crossed approach is red and the other group green."""
        c = self.crosswalks
        own = self.signals.colors(now_ms, c.signal, c.group)
        other_group = 1 - c.group if c.other_group is None else c.other_group
        other = self.signals.colors(now_ms, c.signal, np.maximum(other_group, 0))
        return (own == RED) & ((other == GREEN) | (other_group < 0))

    def step(self, now_ms: int, dt_s: float, time_to_crosswalk_s: FloatArray,
             lane_blocked: NDArray[np.bool_] | None = None) -> None:
        """Moves VRUs over dt, lets waiting ones start, removes those across, adds arrivals.
        `time_to_crosswalk_s[c]`: time until the nearest vehicle reaches crosswalk c (inf: none);
        `lane_blocked[c, lane]`: a vehicle stands on the crosswalk there, and a VRU about to step
        into that lane waits for it (walks around it, in effect, once it has gone)."""
        t, c, p = self.table, self.crosswalks, self.params
        if len(t):
            crossing = t["state"] == CROSSING
            u_new = t["u_m"] + np.where(crossing, t["dir"] * t["speed_mps"] * dt_s, 0.0)
            if lane_blocked is not None and lane_blocked.size:
                lw = c.lane_width_m[t["crosswalk"]]
                old_lane = np.floor(t["u_m"] / lw).astype(np.int64)
                new_lane = np.floor(u_new / lw).astype(np.int64)
                inside = (new_lane >= 0) & (new_lane < lane_blocked.shape[1])
                blocked = inside & (new_lane != old_lane) & lane_blocked[
                    t["crosswalk"], np.clip(new_lane, 0, lane_blocked.shape[1] - 1)]
                u_new = np.where(blocked, t["u_m"], u_new)
            t["u_m"] = u_new
            far = c.width_m[t["crosswalk"]] + p.sidewalk_m / 2
            across = crossing & (((t["dir"] > 0) & (t["u_m"] >= far))
                                 | ((t["dir"] < 0) & (t["u_m"] <= -p.sidewalk_m / 2)))
            self.stats.crossed += int(across.sum())
            t.keep(~across)
        if len(t):
            walk = self.walk_phase(now_ms)[t["crosswalk"]]
            gap_ok = time_to_crosswalk_s[t["crosswalk"]] >= p.accepted_gap_s
            waiting = t["state"] == WAITING
            start = waiting & (walk | (t["violator"] & gap_ok))
            self.stats.violations += int((start & ~walk).sum())
            t["state"] = np.where(start, CROSSING, t["state"])
        n_new = self.rng.poisson(p.arrivals_per_s * dt_s, len(c))
        total = int(n_new.sum())
        if total:
            cw = np.repeat(np.arange(len(c)), n_new)
            r = self.rng.random((total, 4))
            kind = np.where(r[:, 0] < p.cyclist_share, CYCLIST, PEDESTRIAN)
            z = self.rng.standard_normal(total)
            speed = np.where(kind == CYCLIST, p.cycle_speed_mps + p.cycle_speed_sd_mps * z,
                             p.walk_speed_mps + p.walk_speed_sd_mps * z)
            from_kerb = r[:, 1] < 0.5
            u0 = np.where(from_kerb, c.width_m[cw] + p.sidewalk_m / 2, -p.sidewalk_m / 2)
            t.append(total, kind=kind, signal=c.signal[cw], state=WAITING, crosswalk=cw, u_m=u0,
                     dir=np.where(from_kerb, -1, 1), speed_mps=np.maximum(speed, 0.5),
                     violator=r[:, 2] < p.violation_share, arrive_ms=now_ms)
            self.stats.arrived += total
        self.update_positions()

    def update_positions(self) -> None:
        t, c = self.table, self.crosswalks
        cw = t["crosswalk"]
        h = c.heading_rad[cw]
        nx, ny = np.sin(h), -np.cos(h)  # right-hand normal of the route (towards the kerb)
        t["x_m"] = c.origin_xy_m[cw, 0] + t["u_m"] * nx
        t["y_m"] = c.origin_xy_m[cw, 1] + t["u_m"] * ny
        moving = np.where(t["state"] == CROSSING, t["dir"] * t["speed_mps"], 0.0)
        t["vx_mps"], t["vy_mps"] = moving * nx, moving * ny

    def occupied(self, max_lanes: int) -> NDArray[np.bool_]:
        """(crosswalk, lane): a crossing VRU is in that lane or the next one it walks into
        (the lane beside it either way, so a vehicle yields before the VRU reaches its lane)."""
        t, c = self.table, self.crosswalks
        out = np.zeros((len(c), max_lanes + 2), bool)
        on = np.flatnonzero((t["state"] == CROSSING) & (t["u_m"] > -1.0)
                            & (t["u_m"] < c.width_m[t["crosswalk"]] + 1.0))
        cw = t["crosswalk"][on]
        lane = np.floor(t["u_m"][on] / c.lane_width_m[cw]).astype(np.int64)
        for d in (-1, 0, 1):  # three offsets, not a loop over VRUs
            k = np.clip(lane + d, -1, max_lanes) + 1
            out[cw, k] = True
        return out[:, 1:-1]

    def count_conflicts(self, route: IntArray, lane: IntArray, s_m: FloatArray, v_mps: FloatArray,
                        length_m: FloatArray, width_m: FloatArray, vehicle_id: IntArray,
                        ttc_s: float, count: bool) -> None:
        """Vehicle-VRU conflicts and collisions (pairs counted once, when they first occur)."""
        t, c = self.table, self.crosswalks
        on = np.flatnonzero((t["state"] == CROSSING) & (t["u_m"] > -0.5)
                            & (t["u_m"] < c.width_m[t["crosswalk"]] + 0.5))
        conflicts: set[tuple[int, int]] = set()
        collisions: set[tuple[int, int]] = set()
        if len(on) and len(route):
            cw = t["crosswalk"][on]
            lw = c.lane_width_m[cw]
            u = t["u_m"][on]
            same_route = route[None, :] == c.route[cw][:, None]  # (P, N): few VRUs on crosswalks
            centre = (lane[None, :] + 0.5) * lw[:, None]
            lateral = np.abs(u[:, None] - centre)
            in_lane = lateral < lw[:, None] / 2
            ahead = c.s_m[cw][:, None] - s_m[None, :]
            reach = ahead / np.maximum(v_mps[None, :], 0.1)
            conflict = same_route & in_lane & (ahead > 0) & (reach < ttc_s)
            body = same_route & (ahead <= 0) & (ahead >= -length_m[None, :]) & (
                lateral < width_m[None, :] / 2 + VRU_HALF_WIDTH_M)
            vid = t["id"][on]
            for kind, mask in ((conflicts, conflict), (collisions, body)):
                i, j = np.nonzero(mask)
                kind.update(zip(vid[i].tolist(), vehicle_id[j].tolist()))
        if count:  # conflicts after the warm-up, collisions always (as for vehicle pairs)
            self.stats.conflicts += len(conflicts - self._conflict_pairs)
        self.stats.collisions += len(collisions - self._collision_pairs)
        self._conflict_pairs, self._collision_pairs = conflicts, collisions


def pedestrians_of(world: World) -> PedestrianTable | None:
    """The world's VRUs as a `PedestrianTable` (None when the scenario has none)."""
    table = world.pedestrians
    if table is not None and not isinstance(table, PedestrianTable):
        raise TypeError(f"the VRU table is a {type(table).__name__}, not a PedestrianTable")
    return table
