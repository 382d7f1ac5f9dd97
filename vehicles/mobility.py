"""Mobility: vehicles enter by flow or initial density, follow their lane with IDM, leave at the end.

One `step` advances every vehicle at once: leaders are found with one lexsort over (route, lane, s)
and IDM commands are computed for all vehicles. Each driver perceives its leader as it was
`reaction_steps` ago (read from ring buffers) and anticipates over that delay by extrapolating the
gap with the perceived closing speed, as in Treiber, Kesting & Helbing's Human Driver Model (2006):
delayed reactions to surprises (a leader braking hard) without the instability of applying stale
commands, which crashed 1.4 s-reaction drivers into queues at red lights. The only Python loops
run over routes and lanes (a handful), never over vehicles.

Why one long module: spawning, the car-following step, lane changes and signal stops act on the
same column views within one step, in an order that matters (perceive, decide, move, leave);
splitting them would pass a dozen arrays between modules per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sim.core.road import RouteGeometry
from sim.core.signals import GREEN, RED, SignalTable, StopLines, must_stop
from sim.core.table import ColumnTable
from sim.metrics.safety import SafetyRecorder
from sim.spec.schema import FleetSpec, IncidentSpec, RouteSpec
from vehicles.classes import AUTOMATED_FROM_LEVEL, AUTOMATION_LEVELS, VEHICLE_CLASSES, class_table
from vehicles.fleetplan import FleetPlan, ScriptedVehicle
from vehicles.idm import ballistic_update, equilibrium_speed_mps, idm_acceleration
from vehicles.junction_yield import JunctionYields
from vehicles.lanechange import (
    LEFT,
    RIGHT,
    MobilParams,
    apply_lane_changes,
    lane_change_decisions,
)
from vehicles.pedestrians import YIELD_MAX_DECEL_MPS2
from vehicles.service import KEEP_RIGHT_M, first_stops, service_step
from vehicles.shared_roads import SharedRoads
from vehicles.table import VehicleTable

#: Lanes per route are capped well below this; it only keys (route, lane) pairs into one integer.
_LANE_KEY = 64
#: No lane changes this close before a stop line (solid lane markings at Chinese junctions).
NO_LANE_CHANGE_BEFORE_STOP_LINE_M = 30.0
#: ... nor inside the junction past it: the crosswalk and the junction box (a car swerving into a
#: lane where a pedestrian is crossing cannot stop for them).
NO_LANE_CHANGE_AFTER_STOP_LINE_M = 30.0
#: On a SUMO net, no lane change this close before the end of a piece of road (an edge ends at a
#: junction: vehicles of other routes on the next piece are not neighbours of the decision).
NO_LANE_CHANGE_BEFORE_PIECE_END_M = 15.0


#: MOBIL lane changing with the defaults of `vehicles.lanechange.MobilParams`.
DEFAULT_MOBIL = MobilParams()


@dataclass
class MobilityStats:
    """Traffic counters (the safety KPIs are `Mobility.safety`, a `sim.metrics` recorder)."""

    entered: int = 0
    exited: int = 0
    entry_queue_max: int = 0
    travel_time_s_sum: float = 0.0
    #: Trips: vehicles that entered at the start of their route and reached its end (or took
    #: their exit) inside the run, and the sum of their trip times (as SUMO's tripinfo counts).
    trips_started: int = 0
    trips_completed: int = 0
    trip_time_s_sum: float = 0.0
    incidents_applied: int = 0
    lane_changes: int = 0
    service_stops: int = 0  # kerb-side stops served (bus stops, deliveries, sanitation work)
    service_stops_skipped: int = 0
    bus_stops: int = 0  # of which at bus stops
    ramp_exits: int = 0
    missed_exits: int = 0
    vru_yields: int = 0  # vehicle-steps held before a crosswalk for a VRU


class Mobility:
    """Owns the vehicle table's lifecycle (spawn, move, leave) and the reaction-delay buffer."""

    def __init__(
        self,
        geometry: RouteGeometry,
        route_specs: list[RouteSpec],
        fleet: FleetSpec,
        bsm_period_ms: int,
        step_ms: int,
        rng: np.random.Generator,
        signals: SignalTable | None = None,
        stop_lines: StopLines | None = None,
        incidents: list[IncidentSpec] | None = None,
        near_miss_ttc_s: float = 1.5,
        hard_braking_mps2: float = 4.0,
        mobil: MobilParams | None = DEFAULT_MOBIL,
        safety_from_ms: int = 0,
        ebw_decel_mps2: float = 3.0,
        plan: FleetPlan | None = None,
    ) -> None:
        self.plan = plan or FleetPlan()
        self._scripted = sorted(self.plan.scripted, key=lambda v: v.at_ms)
        self._next_scripted = 0
        self._pending: list[ScriptedVehicle] = []  # due, waiting for room at their entry
        self.ebw_decel_mps2 = ebw_decel_mps2
        #: Safety counters (violations, hard braking, near misses, TTC) start here, after the
        #: t = 0 placement has settled; collisions always count.
        self.safety_from_ms = safety_from_ms
        #: Safety KPIs, fed with what each step computes anyway (never read back by driving).
        self.safety = SafetyRecorder(near_miss_ttc_s, hard_braking_mps2, safety_from_ms)
        self.mobil = mobil  # None: vehicles keep their entry lane
        self.incidents = sorted(incidents or [], key=lambda i: i.at_s)
        self._next_incident = 0
        self._clear_at: list[tuple[int, int]] = []  # (time ms, vehicle id) of incidents to remove
        self.near_miss_ttc_s = near_miss_ttc_s  # also the VRU conflict horizon
        self.geo = geometry
        #: Cross-route leaders, merges and entry room on a SUMO network (None for GeoJSON routes).
        self.shared = SharedRoads.of(geometry)
        #: Right of way inside junctions (SUMO nets; set by the world builder), None: no rule.
        self.junction_yields: JunctionYields | None = None
        self.signals = signals
        self.stop_lines = stop_lines
        self.route_specs = route_specs
        self.fleet = fleet
        self.bsm_period_ms = bsm_period_ms
        self.step_ms = step_ms
        self.dt_s = step_ms / 1000.0
        self.rng = rng
        self.table = VehicleTable()
        self.stats = MobilityStats()
        max_delay_s = max(
            fleet.human.reaction_time_s + 4 * fleet.human.reaction_time_sd_s,
            fleet.automated.reaction_time_s + 4 * fleet.automated.reaction_time_sd_s,
        )
        self.hist_len = int(np.ceil(max_delay_s / self.dt_s)) + 1
        # Perception history per vehicle: gap to, closing speed on, and id of the leader.
        self.gap_hist = np.zeros((0, self.hist_len))
        self.dv_hist = np.zeros((0, self.hist_len))
        self.lead_hist = np.zeros((0, self.hist_len), dtype=np.int64)
        self.step_index = 0
        n_lanes = [int(geometry.lanes[i]) for i in range(len(route_specs))]
        # Per entry (route, lane, entry position, rate): the route starts' lanes, then the on-ramps'
        # acceleration lanes; time of the next Poisson arrival and how many wait to enter.
        self._lanes = [(r, lane, 0.0, route_specs[r].flow_veh_s_per_lane)
                       for r, n in enumerate(n_lanes) for lane in range(n)]
        ramps = self.plan.ramps
        self._lanes += [(int(r), n_lanes[int(r)], float(s0), float(q))
                        for r, s0, q in zip(ramps.on_route, ramps.on_start_m, ramps.on_flow_veh_s)]
        # Common random numbers: each entry lane has its own arrival stream and its own stream
        # of vehicle attributes (the n-th vehicle of a lane is the same vehicle whatever else
        # happens), bus lines and scripted vehicles theirs; `rng` itself is left to draws that
        # depend on the traffic state (service stops). So a with/without-V2X pair of runs meets
        # the same fleet, and a change in driving does not reshuffle who arrives next.
        self._arrival_rngs = rng.spawn(len(self._lanes))
        self._entry_rngs = rng.spawn(len(self._lanes))
        self._line_rngs = rng.spawn(len(self.plan.line_route))
        self._script_rng = rng.spawn(1)[0]
        self._next_arrival_ms = np.array(
            [self._draw_headway_ms(q, g) for (_, _, _, q), g in zip(self._lanes, self._arrival_rngs)],
            dtype=np.float64)
        self._waiting = np.zeros(len(self._lanes), dtype=np.int64)
        cls_names = list(fleet.classes)
        self._cls_codes = np.array([VEHICLE_CLASSES[c].code for c in cls_names])
        self._cls_p = np.array([fleet.classes[c] for c in cls_names], dtype=float)
        self._cls_p /= self._cls_p.sum()
        lvl_names = list(fleet.automation)
        self._lvl_codes = np.array([AUTOMATION_LEVELS.index(lv) for lv in lvl_names])
        self._lvl_p = np.array([fleet.automation[lv] for lv in lvl_names], dtype=float)
        self._lvl_p /= self._lvl_p.sum()

    # ---------------------------------------------------------------- spawning
    @staticmethod
    def _draw_headway_ms(rate_per_s: float, rng: np.random.Generator) -> float:
        return float("inf") if rate_per_s <= 0 else float(rng.exponential(1000.0 / rate_per_s))

    def _draw_attributes(self, n: int, route: NDArray[np.int64], s_m: NDArray | None = None,
                         cls: NDArray | None = None, level: NDArray | None = None,
                         equipped: NDArray | None = None,
                         rng: np.random.Generator | None = None) -> dict[str, NDArray]:
        """Attributes of n new vehicles; class, level and equipment are drawn unless given."""
        rng = self.rng if rng is None else rng
        if cls is None:
            cls = rng.choice(self._cls_codes, size=n, p=self._cls_p)
        if level is None:
            level = rng.choice(self._lvl_codes, size=n, p=self._lvl_p)
            forced = self.plan.service_automation[cls]
            level = np.where(forced >= 0, forced, level)
        if equipped is None:
            equipped = rng.random(n) < self.fleet.v2x_penetration
        automated = level >= AUTOMATED_FROM_LEVEL

        def per_group(get) -> NDArray[np.float64]:  # type: ignore[no-untyped-def]
            return np.where(automated, get(self.fleet.automated), get(self.fleet.human))

        def drawn(mean_of, sd_of, low: float) -> NDArray[np.float64]:  # type: ignore[no-untyped-def]
            z = rng.standard_normal(n)
            return np.maximum(per_group(mean_of) + per_group(sd_of) * z, low)

        reaction_s = drawn(lambda d: d.reaction_time_s, lambda d: d.reaction_time_sd_s, 0.0)
        factor = drawn(lambda d: d.desired_speed_factor, lambda d: d.desired_speed_factor_sd, 0.5)
        factor = factor * class_table("limit_factor")[cls]
        cap = np.minimum(class_table("max_speed_mps")[cls], self.plan.service_speed_mps[cls])
        s = np.zeros(n) if s_m is None else s_m
        v0 = np.minimum(self.geo.limit_at(route, s) * factor, cap)
        return {
            "speed_factor": factor,
            "v_cap_mps": cap,
            "cls": cls,
            "automation": level,
            "equipped": equipped,
            "route": route,
            "length_m": class_table("length_m")[cls],
            "width_m": class_table("width_m")[cls],
            "height_m": class_table("height_m")[cls],
            "v0_mps": v0,
            "headway_s": per_group(lambda d: d.time_headway_s),
            "a_max_mps2": class_table("max_accel_mps2")[cls],
            "b_comf_mps2": class_table("comfort_decel_mps2")[cls],
            "s0_m": class_table("min_gap_m")[cls],
            "reaction_steps": np.minimum(
                np.round(reaction_s / self.dt_s).astype(np.int64), self.hist_len - 1
            ),
            "bsm_phase_ms": rng.integers(0, self.bsm_period_ms, size=n),
        }

    def _add(self, attrs: dict[str, NDArray], lane: NDArray, s_m: NDArray, v_mps: NDArray,
             now_ms: int, rng: np.random.Generator | None = None, trip: bool = True,
             always_trip: bool = False) -> None:
        """Appends vehicles; with `trip`, those entering at their route's start begin a trip
        now (`always_trip`: wherever they enter, as SUMO counts a trip from its depart position)."""
        n = len(s_m)
        if n == 0:
            return
        rng = self.rng if rng is None else rng
        plan = self.plan
        line = attrs.get("line", np.full(n, -1, dtype=np.int64))
        if (line >= 0).any() or np.isfinite(plan.service.every_m[attrs["cls"]]).any():
            attrs["next_stop_s_m"] = first_stops(attrs["cls"], line, s_m, plan.service, plan.lines,
                                                 rng)
        if len(plan.ramps.off_route):
            attrs["exit_s_m"] = plan.ramps.assign_exits(attrs["route"], s_m, rng)
        trip_start = np.where(always_trip | (trip & (s_m <= 0.0)), now_ms, -1)
        self.stats.trips_started += int((trip_start >= 0).sum())
        self.table.append(n, lane=lane, s_m=s_m, v_mps=v_mps, spawn_ms=now_ms,
                          trip_start_ms=trip_start, last_lane_change_s=-np.inf, **attrs)
        self.gap_hist = np.concatenate([self.gap_hist, np.zeros((n, self.hist_len))])
        self.dv_hist = np.concatenate([self.dv_hist, np.zeros((n, self.hist_len))])
        self.lead_hist = np.concatenate([self.lead_hist, np.full((n, self.hist_len), -1)])
        self.stats.entered += n

    def place_initial(self) -> None:
        """Drops vehicles at t = 0 with (shifted) exponential spacing, at speeds they can keep.

        The spacing is exponential as in the TR 36.885 dropping rule, shifted by half a safe
        headway so that free-flow density does not create stop-and-go at t = 0; each vehicle then
        starts at its IDM equilibrium speed for its gap, lowered where IDM would at once brake harder
        than comfortably behind a slower leader (no hard braking or collision built into t = 0).
        """
        for r, spec in enumerate(self.route_specs):
            density = spec.initial_density_veh_km_per_lane
            if density <= 0:
                continue
            length = float(self.geo.length_m[r])
            mean_spacing = 1000.0 / density
            limit = float(self.geo.speed_limit_mps[r])
            min_spacing = min(7.0 + 0.5 * self.fleet.human.time_headway_s * limit, 0.8 * mean_spacing)
            for lane in range(int(self.geo.lanes[r])):
                expected = int(length / mean_spacing * 1.5) + 10
                spacing = min_spacing + self.rng.exponential(mean_spacing - min_spacing, expected)
                s = length - np.cumsum(spacing)  # front bumpers, from the route end backwards
                s = s[s > 0.0][::-1]
                if len(s) == 0:
                    continue
                attrs = self._draw_attributes(len(s), np.full(len(s), r, dtype=np.int64), s)
                gap = np.append(np.diff(s), np.inf) - np.append(attrs["length_m"][1:], 0.0)
                keep = gap > attrs["s0_m"]
                attrs = {k: v[keep] for k, v in attrs.items()}
                s = s[keep]
                gap = np.append(np.diff(s), np.inf) - np.append(attrs["length_m"][1:], 0.0)
                v = equilibrium_speed_mps(gap, attrs["v0_mps"], attrs["headway_s"], attrs["s0_m"])
                # A vehicle faster than its leader would brake at once: slow it until IDM asks for
                # no more than comfortable braking (front to back, as leaders settle).
                for _ in range(100):
                    lead_v = np.append(v[1:], 0.0)
                    a = idm_acceleration(v, attrs["v0_mps"], gap, v - lead_v, attrs["headway_s"],
                                         attrs["a_max_mps2"], attrs["b_comf_mps2"], attrs["s0_m"])
                    bad = a < -attrs["b_comf_mps2"]
                    if not bad.any():
                        break
                    v = np.where(bad, 0.9 * v, v)
                v = self._stoppable_at_red(r, s, v)
                self._add(attrs, np.full(len(s), lane), s, v, 0, trip=False)
        self._add_scripted(0)

    def _stoppable_at_red(self, r: int, s_m: NDArray[np.float64], v_mps: NDArray[np.float64]
                          ) -> NDArray[np.float64]:
        """Placement speeds that can still stop (at 2.5 m/s2) before a stop line that is not
        green at t = 0, so the initial state holds no forced red-light violations."""
        if self.signals is None or self.stop_lines is None or len(self.stop_lines.route) == 0:
            return v_mps
        idx, gap = self.stop_lines.next_ahead(np.full(len(s_m), r), s_m)
        has = idx >= 0
        color = np.full(len(s_m), GREEN)
        sl = self.stop_lines
        color[has] = self.signals.colors(0, sl.signal[idx[has]], sl.group[idx[has]])
        stoppable = np.sqrt(2.0 * 2.5 * np.maximum(gap - 2.0, 0.0))
        return np.where(has & (color != GREEN), np.minimum(v_mps, stoppable), v_mps)

    def _entry_speed(self, r: int, lane: int, s_entry: float, attrs: dict[str, NDArray]
                     ) -> NDArray[np.float64] | None:
        """Speed a new vehicle can enter with at (r, lane, s_entry), None if there is no room."""
        t = self.table
        in_lane = (t["route"] == r) & (t["lane"] == lane) & (t["s_m"] >= s_entry)
        v0 = attrs["v0_mps"]
        if not in_lane.any():
            return v0
        last = np.flatnonzero(in_lane)[np.argmin(t["s_m"][in_lane])]
        gap = t["s_m"][last] - t["length_m"][last] - s_entry
        if gap < attrs["s0_m"][0] + 2.0:
            return None  # no room yet: the vehicle keeps waiting at the entry
        v = np.minimum(v0, np.maximum((gap - attrs["s0_m"]) / attrs["headway_s"], 0.0))
        return np.minimum(v, t["v_mps"][last] + 5.0)

    def _spawn(self, now_ms: int) -> None:
        self._dispatch_buses(now_ms)
        self._add_scripted(now_ms)
        due = self._next_arrival_ms <= now_ms
        if not due.any() and not self._waiting.any():
            return
        for k in np.flatnonzero(due):
            while self._next_arrival_ms[k] <= now_ms:
                self._waiting[k] += 1
                self._next_arrival_ms[k] += self._draw_headway_ms(self._lanes[k][3],
                                                                  self._arrival_rngs[k])
        self.stats.entry_queue_max = max(self.stats.entry_queue_max, int(self._waiting.sum()))
        for k in np.flatnonzero(self._waiting):
            r, lane, s_entry, _ = self._lanes[k]
            gen = self._entry_rngs[k]
            before = gen.bit_generator.state
            attrs = self._draw_attributes(1, np.array([r], dtype=np.int64), np.array([s_entry]),
                                          rng=gen)
            v = self._entry_speed(r, lane, s_entry, attrs)
            if v is None:  # no room: the same vehicle tries again next step
                gen.bit_generator.state = before
                continue
            self._waiting[k] -= 1
            self._add(attrs, np.array([lane]), np.array([s_entry]), v, now_ms, gen)

    def _dispatch_buses(self, now_ms: int) -> None:
        """Fixed-headway departures of each bus line at its route start, in the kerb lane; a
        departure waits while the entry is occupied (loops over lines, not vehicles)."""
        plan = self.plan
        bus = VEHICLE_CLASSES["bus"].code
        for k in np.flatnonzero(plan.line_next_ms <= now_ms):
            r = int(plan.line_route[k])
            lane = int(self.geo.lanes[r]) - 1
            gen = self._line_rngs[k]
            before = gen.bit_generator.state
            attrs = self._draw_attributes(1, np.array([r], dtype=np.int64), None, np.array([bus]),
                                          np.array([plan.line_automation[k]]), np.array([True]),
                                          rng=gen)
            v = self._entry_speed(r, lane, 0.0, attrs)
            if v is None:
                gen.bit_generator.state = before
                continue
            attrs["line"] = np.array([k], dtype=np.int64)
            self._add(attrs, np.array([lane]), np.array([0.0]), v, now_ms, gen)
            plan.line_next_ms[k] += plan.line_headway_ms[k]

    def _add_scripted(self, now_ms: int) -> None:
        """Scripted single vehicles due by now. Placed as given (no room check: a script may
        deliberately set up a conflict), except those that `wait_for_room` (a SUMO demand): they
        queue and enter, in order, when their entry has room, as SUMO inserts vehicles."""
        while (self._next_scripted < len(self._scripted)
               and self._scripted[self._next_scripted].at_ms <= now_ms):
            sv: ScriptedVehicle = self._scripted[self._next_scripted]
            self._next_scripted += 1
            if sv.wait_for_room:
                self._pending.append(sv)
                continue
            attrs = self._scripted_attrs(sv)
            v = attrs["v0_mps"] if sv.v_mps is None else np.array([sv.v_mps])
            self._add(attrs, np.array([sv.lane]), np.array([sv.s_m]), v, now_ms, self._script_rng)
        if self._pending:
            self._insert_pending(now_ms)

    def _scripted_attrs(self, sv: ScriptedVehicle) -> dict[str, NDArray]:
        attrs = self._draw_attributes(1, np.array([sv.route], dtype=np.int64), np.array([sv.s_m]),
                                      np.array([sv.cls]), np.array([sv.automation]),
                                      np.array([sv.equipped]), rng=self._script_rng)
        if sv.line >= 0:
            attrs["line"] = np.array([sv.line], dtype=np.int64)
        return attrs

    def _insert_pending(self, now_ms: int) -> None:
        """One try per entry (piece or route, lane) and step, first come first served; a vehicle
        enters when the gap ahead exceeds its standstill distance + 2 m, at a speed it can keep
        behind what is there (its SUMO depart speed at most). The loop runs over the distinct
        entries that have a queue, not over vehicles on the road."""
        t = self.table
        entries = (None if self.shared is None or not len(t) else
                   self.shared.entries(t["route"], t["s_m"], t["lane"], t["v_mps"]))
        tried: set[tuple[int, int]] = set()
        waiting: list[ScriptedVehicle] = []
        for sv in self._pending:
            if self.shared is None:
                spot = (sv.route, sv.lane)
            else:
                spot = (self.shared.key_at(sv.route, sv.s_m), sv.lane)
            if spot in tried:
                waiting.append(sv)
                continue
            tried.add(spot)
            if self.shared is None:
                r = self._route_room(sv)
            else:
                r = self.shared.room_ahead_m(sv.route, sv.s_m, sv.lane, entries,
                                             t["v_mps"], t["length_m"])
            gap, ahead = r
            before = self._script_rng.bit_generator.state
            attrs = self._scripted_attrs(sv)
            if gap < attrs["s0_m"][0] + 2.0:
                self._script_rng.bit_generator.state = before  # the same vehicle tries again
                waiting.append(sv)
                continue
            v = attrs["v0_mps"] if sv.v_mps is None else np.minimum(attrs["v0_mps"], sv.v_mps)
            if ahead >= 0:
                room_v = np.maximum((gap - attrs["s0_m"]) / attrs["headway_s"], 0.0)
                v = np.minimum(np.minimum(v, room_v), t["v_mps"][ahead] + 5.0)
            self._add(attrs, np.array([sv.lane]), np.array([sv.s_m]), v, now_ms,
                      self._script_rng, always_trip=True)
        self._pending = waiting

    def _route_room(self, sv: ScriptedVehicle) -> tuple[float, int]:
        """Gap ahead of (route, lane, s) among the vehicles of the same route, and its row."""
        t = self.table
        ahead = (t["route"] == sv.route) & (t["lane"] == sv.lane) & (t["s_m"] >= sv.s_m)
        if not ahead.any():
            return np.inf, -1
        rows = np.flatnonzero(ahead)
        gaps = t["s_m"][rows] - t["length_m"][rows] - sv.s_m
        k = int(np.argmin(gaps))
        return float(gaps[k]), int(rows[k])

    # ---------------------------------------------------------------- motion
    def leaders(self, now_ms: int = 0) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64],
                               NDArray[np.bool_]]:
        """Row of each vehicle's leader (-1 if none), bumper gap, closing speed, and whether the
        pair is on one road (False: a virtual leader where routes merge, see SharedRoads)."""
        t = self.table
        n = len(t)
        key = t["route"] * _LANE_KEY + t["lane"]
        order = np.lexsort((t["s_m"], key))
        leader = np.full(n, -1, dtype=np.int64)
        if n > 1:
            same = key[order[1:]] == key[order[:-1]]
            leader[order[:-1][same]] = order[1:][same]
        has = leader >= 0
        lr = np.where(has, leader, 0)
        gap = np.where(has, t["s_m"][lr] - t["length_m"][lr] - t["s_m"], np.inf)
        physical = np.ones(n, dtype=bool)
        if self.shared is not None and n > 1:
            other = self.shared.leaders(t["route"], t["s_m"], t["lane"], t["v_mps"], t["length_m"],
                                        self._red_ahead_m(now_ms))
            closer = (other.leader >= 0) & (other.gap_m < gap)
            leader = np.where(closer, other.leader, leader)
            gap = np.where(closer, other.gap_m, gap)
            physical = np.where(closer, other.physical, True)
            has = leader >= 0
            lr = np.where(has, leader, 0)
        dv = np.where(has, t["v_mps"] - t["v_mps"][lr], 0.0)
        return leader, gap, dv, physical

    def _red_ahead_m(self, now_ms: int) -> NDArray[np.float64] | None:
        """Distance to the next stop line of each vehicle if it shows red or yellow (inf: green
        or none)."""
        if self.signals is None or self.stop_lines is None or not len(self.stop_lines.route):
            return None
        t = self.table
        idx, gap = self.stop_lines.next_ahead(t["route"], t["s_m"])
        has = idx >= 0
        sl = self.stop_lines
        color = np.full(len(t), GREEN)
        color[has] = self.signals.colors(now_ms, sl.signal[idx[has]], sl.group[idx[has]])
        return np.where(has & (color != GREEN), gap, np.inf)

    @property
    def waiting_to_enter(self) -> list[ScriptedVehicle]:
        """Vehicles due to enter that wait for room at their entry (SUMO demand), in order."""
        return self._pending

    @property
    def pedestrians(self) -> ColumnTable | None:
        """The VRUs' table, None when the scenario has none."""
        return None if self.plan.vru is None else self.plan.vru.table

    def close(self) -> None:
        """Nothing outside Python to release (SUMO co-simulation overrides this)."""

    def step(self, now_ms: int) -> None:
        """Advances all vehicles by one step ending at now_ms, then removes and adds vehicles."""
        self._apply_incidents(now_ms)
        t = self.table
        plan = self.plan
        if not len(t) and plan.vru is not None:
            plan.vru.step(now_ms, self.dt_s, np.full(len(plan.vru.crosswalks), np.inf))
        if len(t):
            self._update_desired_speed()
            kerb = self.geo.lanes[t["route"]] - 1
            svc = service_step(t, now_ms, kerb, plan.service, plan.lines, self.rng)
            self.stats.service_stops += svc.served
            self.stats.bus_stops += svc.served_on_line
            self.stats.service_stops_skipped += svc.skipped
            forced, hold = self._lane_obligations(now_ms, kerb, svc.keep_right)
            self._change_lanes(now_ms, forced, hold)
            leader, gap, dv, physical = self.leaders(now_ms)
            if physical.all():
                self.safety.on_pairs(t["id"], leader, gap, dv, now_ms)
            else:  # virtual pairs at merges are not on one road: no collision, TTC or near miss
                self.safety.on_pairs(t["id"], np.where(physical, leader, -1),
                                     np.where(physical, gap, np.inf), np.where(physical, dv, 0.0),
                                     now_ms)
            gap_seen, dv_seen = self._perceive(leader, gap, dv, now_ms)
            v0 = t["v0_mps"]
            advised = t.advised(now_ms)
            if advised.any():  # a speed advice lowers the desired speed; IDM approaches it smoothly
                v0 = np.where(advised, np.minimum(v0, np.maximum(t["advice_speed_mps"], 0.1)), v0)
            cmd = idm_acceleration(
                t["v_mps"], v0, gap_seen, dv_seen, t["headway_s"], t["a_max_mps2"],
                t["b_comf_mps2"], t["s0_m"],
            )
            signal_view = self._obey_signals(now_ms)
            if signal_view is not None:
                stop_idx, a_cap, stop_color = signal_view
                cmd = np.minimum(cmd, a_cap)
            cmd = np.minimum(cmd, svc.a_cap_mps2)
            cmd = np.minimum(cmd, self._accel_lane_end())
            cmd = np.minimum(cmd, self._yield_to_vrus(now_ms))
            if self.junction_yields is not None:
                cmd = np.minimum(cmd, self.junction_yields.accel_cap(t))
            open_ = t.warned(now_ms)
            warned = open_ & (t["v_mps"] > 0.5)
            if warned.any():
                decel = np.where(t["warn_decel_mps2"] > 0, t["warn_decel_mps2"], self.ebw_decel_mps2)
                cmd = np.where(warned, np.minimum(cmd, -decel), cmd)
            # A window still open at standstill is a hold (an ICW "do not go"): stay stopped.
            cmd = np.where(open_ & ~warned, np.minimum(cmd, 0.0), cmd)
            halted = t["halt_decel_mps2"] > 0
            applied = np.where(halted, -t["halt_decel_mps2"], cmd)
            self.safety.on_braking(applied, t["a_mps2"], halted, now_ms)
            s, v = ballistic_update(t["s_m"], t["v_mps"], applied, self.dt_s)
            t["s_m"], t["v_mps"], t["a_mps2"] = s, v, applied
            if signal_view is not None:
                after, _ = self.stop_lines.next_ahead(t["route"], t["s_m"])  # type: ignore[union-attr]
                crossed = (stop_idx >= 0) & (after != stop_idx)
                if now_ms >= self.safety_from_ms:
                    self.safety.on_red_crossings(
                        crossed & (stop_color == RED),
                        class_table("ignores_signals")[t["cls"]].astype(bool), now_ms)
            gone = t["s_m"] > self.geo.length_m[t["route"]]
            at_exit = t["s_m"] >= t["exit_s_m"]
            if at_exit.any():
                took = at_exit & (t["lane"] == self.geo.lanes[t["route"]] - 1)
                self.stats.ramp_exits += int(took.sum())
                self.stats.missed_exits += int((at_exit & ~took).sum())
                t["exit_s_m"] = np.where(at_exit & ~took, np.inf, t["exit_s_m"])
                gone = gone | took
            if gone.any():
                self.stats.exited += int(gone.sum())
                trip = gone & (t["trip_start_ms"] >= 0)
                self.stats.trips_completed += int(trip.sum())
                self.stats.trip_time_s_sum += float(
                    ((now_ms - t["trip_start_ms"][trip]) / 1000.0).sum())
                self.stats.travel_time_s_sum += float(
                    ((now_ms - t["spawn_ms"][gone]) / 1000.0).sum()
                )
                t.keep(~gone)
                self.gap_hist = self.gap_hist[~gone]
                self.dv_hist = self.dv_hist[~gone]
                self.lead_hist = self.lead_hist[~gone]
        self.step_index += 1
        self._spawn(now_ms)
        self.update_positions()

    def _update_desired_speed(self) -> None:
        """Desired speed from the limit of the road each vehicle is on (per-road limits); a drop
        in the limit is approached at a bounded free-road deceleration (v0 at least v / 1.1, so
        IDM's (v/v0)^4 term stays below 1.5) rather than IDM's abrupt braking above v0."""
        t = self.table
        v0 = self.geo.limit_at(t["route"], t["s_m"]) * t["speed_factor"]
        t["v0_mps"] = np.minimum(np.maximum(v0, t["v_mps"] / 1.1), t["v_cap_mps"])

    def _lane_obligations(self, now_ms: int, kerb: NDArray[np.int64], keep_right_for_stop: NDArray
                          ) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """Forced lane-change side per vehicle (acceleration lane: left; a stop or an exit ahead:
        right) and vehicles that must hold their lane (at the kerb with a stop or exit ahead, or
        dwelling at a stop)."""
        t = self.table
        on_accel_lane = t["lane"] > kerb
        to_exit = t["exit_s_m"] - t["s_m"]
        prepare = self.plan.ramps.prepare_m(t["route"], t["exit_s_m"]) if np.isfinite(
            t["exit_s_m"]).any() else np.zeros(len(t))
        exit_soon = np.isfinite(to_exit) & (to_exit < prepare)
        stop_soon = (t["next_stop_s_m"] - t["s_m"]) < KEEP_RIGHT_M
        dwelling = (t["dwell_until_ms"] >= 0) & (now_ms < t["dwell_until_ms"])
        right = (keep_right_for_stop | exit_soon) & (t["lane"] < kerb)
        forced = np.where(on_accel_lane, LEFT, np.where(right, RIGHT, 0)).astype(np.int64)
        hold = dwelling | ((stop_soon | exit_soon) & (t["lane"] == kerb))
        return forced, hold

    def _accel_lane_end(self) -> NDArray[np.float64]:
        """IDM cap of vehicles on an acceleration lane: stop at its end if no gap came."""
        t = self.table
        on = t["lane"] >= self.geo.lanes[t["route"]]
        if not on.any():
            return np.full(len(t), np.inf)
        end = self.plan.ramps.accel_lane_end(t["route"], t["s_m"])
        gap = np.where(on, np.maximum(end - t["s_m"], 0.0) + t["s0_m"], np.inf)
        a = idm_acceleration(t["v_mps"], t["v0_mps"], gap, t["v_mps"], t["headway_s"],
                             t["a_max_mps2"], t["b_comf_mps2"], t["s0_m"])
        return np.where(on, a, np.inf)

    def _crosswalk_frame(self, route: NDArray[np.int64], s_m: NDArray[np.float64],
                         length_m: NDArray[np.float64]) -> tuple[
                             NDArray[np.int64], NDArray[np.float64],
                             tuple[NDArray[np.int64], NDArray[np.float64]]]:
        """Where crosswalks are looked up: (route, s) on GeoJSON roads; on a SUMO net the
        approach frame (`SharedRoads.approach_frame`), where routes share their crosswalks. Also
        the frame of the point 2 m behind each vehicle's rear (is its body on a crosswalk?)."""
        rear = s_m - length_m - 2.0
        if self.shared is None:
            return route, s_m, (route, rear)
        frame, s_frame = self.shared.approach_frame(route, s_m)
        return frame, s_frame, self.shared.approach_frame(route, rear)

    def _yield_to_vrus(self, now_ms: int) -> NDArray[np.float64]:
        """Steps the VRUs (who see how soon vehicles reach their crosswalk), counts conflicts,
        and returns the IDM cap of vehicles yielding to a VRU on a crosswalk ahead."""
        t = self.table
        vru = self.plan.vru
        if vru is None:
            return np.full(len(t), np.inf)
        cw = vru.crosswalks
        frame, s_frame, back = self._crosswalk_frame(t["route"], t["s_m"], t["length_m"])
        idx, gap = cw.next_ahead(frame, s_frame)
        has = idx >= 0
        reach_s = np.where(has, gap / np.maximum(t["v_mps"], 0.1), np.inf)
        soonest = np.full(len(cw), np.inf)
        np.minimum.at(soonest, idx[has], reach_s[has])
        vru.count_conflicts(frame, t["lane"], s_frame, t["v_mps"], t["length_m"],
                            t["width_m"], t["id"], self.near_miss_ttc_s,
                            now_ms >= self.safety_from_ms)
        n_lanes = int(self.geo.lanes.max()) + 1
        cw_any, body_gap = cw.next_ahead(*back)
        on_cw = (cw_any >= 0) & (body_gap <= t["length_m"] + 4.0)  # body within 2 m of its line
        lane_blocked = np.zeros((len(cw), n_lanes), bool)
        lane_blocked[cw_any[on_cw], np.minimum(t["lane"][on_cw], n_lanes - 1)] = True
        vru.step(now_ms, self.dt_s, soonest, lane_blocked)
        occupied = vru.occupied(n_lanes)
        stop_gap = gap - 3.0  # front bumper ~1 m before a 4 m wide crosswalk
        can_stop = t["v_mps"] ** 2 / (2.0 * np.maximum(stop_gap, 0.1)) <= YIELD_MAX_DECEL_MPS2
        yielding = has & occupied[np.maximum(idx, 0), t["lane"]] & (stop_gap > -1.0) & can_stop
        self.stats.vru_yields += int(yielding.sum())
        a = idm_acceleration(t["v_mps"], t["v0_mps"], np.where(yielding, np.maximum(stop_gap, 0.0)
                             + t["s0_m"], np.inf), t["v_mps"], t["headway_s"], t["a_max_mps2"],
                             t["b_comf_mps2"], t["s0_m"])
        return np.where(yielding, a, np.inf)

    def _change_lanes(self, now_ms: int, forced: NDArray[np.int64] | None = None,
                      hold: NDArray[np.bool_] | None = None) -> None:
        """MOBIL lane changes on the current state, before car following, so this step's IDM
        already follows the new leader (seen undelayed: `_perceive` only delays a known leader).
        Halted vehicles, vehicles close before a stop line and `hold` keep their lane; `forced`
        obliges a side (see `lane_change_decisions`)."""
        t = self.table
        # Without MOBIL vehicles keep their lane, except that an acceleration lane must be left.
        if self.mobil is None and (forced is None or not (forced == LEFT).any()):
            return
        mobil = self.mobil or MobilParams()
        now_s = now_ms / 1000.0
        allowed = t["halt_decel_mps2"] <= 0
        if hold is not None:
            allowed &= ~hold
        if self.mobil is None and forced is not None:
            allowed &= forced == LEFT
        if self.stop_lines is not None and len(self.stop_lines.route):
            idx, gap = self.stop_lines.next_ahead(t["route"], t["s_m"])
            allowed &= ~((idx >= 0) & (gap < NO_LANE_CHANGE_BEFORE_STOP_LINE_M))
            back_m = NO_LANE_CHANGE_AFTER_STOP_LINE_M
            idx, gap = self.stop_lines.next_ahead(t["route"], t["s_m"] - back_m)
            allowed &= ~((idx >= 0) & (gap <= back_m))  # a stop line passed less than back_m ago
        has_accel_lane = self.plan.ramps.has_on_ramp(len(self.geo.lanes))
        frame, s_frame, lanes_of_frame = t["route"], t["s_m"], self.geo.lanes + has_accel_lane
        if self.shared is not None:  # per physical piece: every route on it is a neighbour
            frame, s_frame, to_end = self.shared.piece_frame(t["route"], t["s_m"])
            lanes_of_frame = self.shared.lanes_of_key
            # Neighbours are only those on the same piece, so no lane change where the vehicle
            # spans two pieces or is about to (its rear still on the piece before, its front
            # reaching the next), nor inside a junction (SUMO's internal lanes have no changes).
            allowed &= (~self.shared.junction_key[frame] & (s_frame > t["length_m"] + 2.0)
                        & (to_end > NO_LANE_CHANGE_BEFORE_PIECE_END_M))
        decision = lane_change_decisions(
            frame, t["lane"], s_frame, t["v_mps"], t["length_m"], t["v0_mps"],
            t["headway_s"], t["a_max_mps2"], t["b_comf_mps2"], t["s0_m"],
            lanes_of_frame, t["last_lane_change_s"], now_s, mobil,
            allowed=allowed, forced=forced,
            max_lane=np.maximum(t["lane"], self.geo.lanes[t["route"]] - 1),
        )
        moved = decision != 0
        if moved.any():
            t["lane"] = apply_lane_changes(t["lane"], decision)
            t["last_lane_change_s"] = np.where(moved, now_s, t["last_lane_change_s"])
            self.stats.lane_changes += int(moved.sum())

    def _perceive(self, leader: NDArray[np.int64], gap: NDArray[np.float64],
                  dv: NDArray[np.float64], now_ms: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Gap and closing speed as each driver perceives them: delayed by its reaction time and
        extrapolated over it. A leader that was not yet the leader then is seen as it is now."""
        t = self.table
        lead_id = np.where(leader >= 0, t["id"][np.maximum(leader, 0)], -1)
        slot = self.step_index % self.hist_len
        self.gap_hist[:, slot] = gap
        self.dv_hist[:, slot] = dv
        self.lead_hist[:, slot] = lead_id
        rows = np.arange(len(t))
        past = (self.step_index - t["reaction_steps"]) % self.hist_len
        age_steps = (now_ms - t["spawn_ms"]) // self.step_ms
        delayed = (age_steps > t["reaction_steps"]) & (self.lead_hist[rows, past] == lead_id)
        tau_s = t["reaction_steps"] * self.dt_s
        gap_old, dv_old = self.gap_hist[rows, past], self.dv_hist[rows, past]
        with np.errstate(invalid="ignore"):
            gap_seen = np.where(delayed & np.isfinite(gap_old), gap_old - tau_s * dv_old, gap)
        return gap_seen, np.where(delayed, dv_old, dv)

    def _obey_signals(
        self, now_ms: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]] | None:
        """IDM towards the next stop line when it shows red/yellow and the vehicle can still stop.

        Returns (next stop line per vehicle or -1, acceleration cap, colour), None without signals.
        """
        if self.signals is None or self.stop_lines is None or len(self.stop_lines.route) == 0:
            return None
        t = self.table
        idx, gap = self.stop_lines.next_ahead(t["route"], t["s_m"])
        has = idx >= 0
        color = np.full(len(t), -1)
        sl = self.stop_lines
        color[has] = self.signals.colors(now_ms, sl.signal[idx[has]], sl.group[idx[has]])
        on_duty = class_table("ignores_signals")[t["cls"]].astype(bool)  # emergency vehicles
        wall = has & must_stop(color, gap, t["v_mps"]) & ~on_duty
        a_stop = idm_acceleration(
            t["v_mps"], t["v0_mps"], np.where(wall, gap, np.inf), t["v_mps"], t["headway_s"],
            t["a_max_mps2"], t["b_comf_mps2"], t["s0_m"],
        )
        return idx, a_stop, color

    def update_positions(self) -> None:
        t = self.table
        x, y, h = self.geo.positions(t["route"], t["s_m"], t["lane"])
        t["x_m"], t["y_m"], t["heading_rad"] = x, y, h

    def _apply_incidents(self, now_ms: int) -> None:
        """Scripted hazards due by now: make the vehicle nearest the spot brake to a standstill
        and stay; release the ones whose duration is over."""
        t = self.table
        for release_ms, vid in [c for c in self._clear_at if c[0] <= now_ms]:
            self._clear_at.remove((release_ms, vid))
            t["halt_decel_mps2"][t["id"] == vid] = 0.0
        while self._next_incident < len(self.incidents):
            inc = self.incidents[self._next_incident]
            if inc.at_s * 1000 > now_ms:
                break
            self._next_incident += 1
            r = [spec.id for spec in self.route_specs].index(inc.route)
            in_lane = np.flatnonzero((t["route"] == r) & (t["lane"] == inc.lane))
            if len(in_lane) == 0:
                continue  # nobody there to have the incident
            self.stats.incidents_applied += 1
            k = in_lane[np.argmin(np.abs(t["s_m"][in_lane] - inc.position_m))]
            t["halt_decel_mps2"][k] = inc.effective_decel_mps2
            if inc.duration_s is not None:
                # Released once stopped for duration_s: braking time v/b plus the stop itself.
                stop_ms = t["v_mps"][k] / inc.effective_decel_mps2 * 1000 + inc.duration_s * 1000
                self._clear_at.append((now_ms + round(stop_ms), int(t["id"][k])))

