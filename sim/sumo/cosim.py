"""Co-simulation: SUMO moves the vehicles (libsumo, lock-step), v2xsim does everything else.

`mobility.engine: sumo`. Each mobility step first hands SUMO what the applications decided
(precautionary braking windows and speed advice, written to the vehicle table by the apps as for
the internal model), then advances SUMO by one step of the same length, then reads every
vehicle's state back from subscriptions (one `getAllSubscriptionResults` call per step, no
per-vehicle `get*` calls) into the vehicle table that the radio, the roadside and the
applications read. SUMO does car following, lane changes, junctions and its traffic lights (run
fixed-time, as v2xsim's SPaT describes them).

Mapping:
- position: SUMO's front-bumper position is the net's x/y, which is v2xsim's local frame on a
  SUMO network; heading from SUMO's angle (degrees clockwise from north);
- route and arc position: each SUMO vehicle drives the route v2xsim built for its edge list
  (the same duarouter output), s = start of its current edge or junction lane on that route +
  its position on the lane; lane: SUMO's lane 0 is the kerb lane, ours the innermost;
- class, automation level and V2X equipment: those v2xsim drew for the vehicle (by SUMO id);
- the driver's reaction time (human or automated, drawn as for the internal model) -> SUMO's
  action step length of that vehicle, at most 1 s (longer ones make SUMO's junction model
  collide: see `_departures`);
- a braking window (EBW, FCW, ICW, ...) -> `slowDown` to the speed the window's deceleration
  gives after one step; a speed advice (GLOSA, SLW, TJW) -> `setSpeed` to the advised speed while
  it lasts; both released (`setSpeed -1`) when they end;
- safety: SUMO's leader (`VAR_LEADER`) feeds the same safety recorder (TTC, near misses, hard
  braking); collisions are SUMO's (`--collision.action warn`), counted once per pair.
SUMO is seeded from the run's RNG tree, so the same scenario and seed give the same run.

Incidents (`incidents:` on a route id, `sumo:<n>` for the demand's routes) halt the vehicle in SUMO
(`slowDown` at the incident's deceleration, then speed 0 until released). Not coupled:
pedestrians and cyclists (v2xsim's VRU model needs our mobility), bus lines and service stops of
`fleet` (SUMO demand carries its own stops: SUMO serves them, and the stops it begins count as
service stops, those of buses as bus stops), red-light violation counting (SUMO
obeys its lights).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import ScenarioError
from sim.sumo.compare import write_static_programs
from sim.sumo.demand import VCLASS_TO_CLASS, route_demand
from vehicles.classes import AUTOMATION_LEVELS, VEHICLE_CLASSES
from vehicles.fleetplan import ScriptedVehicle
from vehicles.junction_yield import misses_priority
from vehicles.mobility import Mobility

#: Variables subscribed for every vehicle (traci.constants values; libsumo uses the same).
#: Five variables, not seven: every subscribed variable costs SUMO's step time (measured: 1,233
#: vehicles, 7 variables +11.8 ms/step, 5 +6.5 ms). The lane id carries edge and lane index, and
#: the acceleration is SUMO's own definition, the speed change over the step.
_POS, _SPEED, _ANGLE, _LANE_ID, _LANEPOS, _LEADER = 0x42, 0x40, 0x43, 0x51, 0x56, 0x68
_LEADER_LOOKAHEAD_M = 150.0
_MAX_ACTION_STEP_S = 1.0
_BUS_CODE = VEHICLE_CLASSES["bus"].code


class SumoMobility(Mobility):
    """A `MobilityModel` whose vehicles SUMO moves (see the module docstring)."""

    def __init__(self, *args: Any, net_path: Path, routes_path: Path, sumo_seed: int,
                 trip_ids: list[str], source: str, signals_off: tuple[str, ...] = (),
                 misses_priority: tuple[float, float, int] = (0.0, 0.0, 0),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            import libsumo
        except ImportError:
            raise ScenarioError(source, "mobility.engine",
                                "sumo needs the sumo extra: pip install 'v2xsim[sumo]'") from None
        self._sumo = libsumo
        self._source = source
        # The scripted plan holds the SUMO demand (after any user vehicles): id -> what we drew.
        # The plan lists the user's vehicles first, then the SUMO trips in trip order.
        demand = self.plan.scripted[len(self.plan.scripted) - len(trip_ids):] if trip_ids else []
        self._drawn: dict[str, ScriptedVehicle] = dict(zip(trip_ids, demand))
        self._scripted = []  # SUMO inserts them
        self._routed = route_demand(net_path, routes_path, source, "traffic.sumo_routes")
        static = self._routed.parent / "static-tls.add.xml"
        extra = ["-a", str(static)] if write_static_programs(net_path, static) else []
        if getattr(libsumo, "isLoaded", lambda: False)():
            libsumo.close()
        try:
            libsumo.start(["sumo", "-n", str(net_path), "-r", str(self._routed), *extra,
                           "--begin", "0", "--step-length", f"{self.dt_s:g}",
                           "--seed", str(sumo_seed), "--no-step-log", "true",
                           "--no-warnings", "true", "--collision.action", "warn",
                           "--collision.check-junctions", "true", "--collision.mingap-factor", "0",
                           "--duration-log.disable", "true"])
        except Exception as exc:  # libsumo raises its own TraCIException / FatalTraCIError
            raise ScenarioError(source, "network.sumo_net", f"SUMO did not start: {exc}") from None
        for tls in signals_off:  # dark or flashing yellow: the junction's priority rules
            libsumo.trafficlight.setProgram(tls, "off")
        self._misses = misses_priority
        self._row_of_sumo: dict[str, int] = {}  # rebuilt each step
        self._sumo_ids: list[str] = []  # SUMO id per table row, in row order
        self._overridden: set[str] = set()
        self._colliding: set[tuple[str, str]] = set()
        self._departed = 0
        # Per route: piece name -> arc position of its start.
        self._piece_start: list[dict[str, float]] = []
        for rt in self.geo.routes:
            bounds = (0.0, *rt.junctions_s_m)
            starts = {n: float(bounds[j]) for j, n in enumerate(rt.road_names)}
            # A route names the junction lane its connection takes (":J3_0_0"); SUMO reports the
            # lane (":J3_0_1" of the same internal edge when it came from another lane), and
            # the state is looked up by the lane's edge: key junction pieces by edge too.
            for j, name in enumerate(rt.road_names):
                if name.startswith(":"):
                    starts.setdefault(name.rpartition("_")[0], float(bounds[j]))
            self._piece_start.append(starts)
        self._route_of_edges = {tuple(n for n in rt.road_names if not n.startswith(":")): r
                                for r, rt in enumerate(self.geo.routes)}
        self.closed = False

    # ------------------------------------------------------------ MobilityModel
    def place_initial(self) -> None:
        """SUMO inserts the demand itself; nothing is placed at t = 0."""

    def update_positions(self) -> None:
        """Positions come from SUMO in `step`."""

    def step(self, now_ms: int) -> None:
        if self.closed:
            return
        sumo = self._sumo
        self._apply_incidents(now_ms)  # marks halt_decel_mps2 as for the internal model
        self._push_reactions(now_ms)
        try:
            sumo.simulationStep(now_ms / 1000.0)
        except Exception as exc:
            self.close()
            raise ScenarioError(self._source, "mobility.engine",
                                f"SUMO stopped at t = {now_ms / 1000:g} s: {exc}") from None
        self._count_stops(sumo.simulation.getStopStartingVehiclesIDList())
        self._arrivals(now_ms, sumo.simulation.getArrivedIDList())
        self._departures(now_ms, sumo.simulation.getDepartedIDList())
        self._read_states(now_ms)
        self._count_collisions(sumo.simulation.getCollisions())
        self.step_index += 1

    def _count_stops(self, ids: Any) -> None:
        """The demand's `<stop>`s SUMO began serving this step (those of buses are bus stops)."""
        for vid in ids:  # vehicles that began a stop this step: a handful, not the fleet
            self.stats.service_stops += 1
            drawn = self._drawn.get(vid)
            self.stats.bus_stops += drawn is not None and drawn.cls == _BUS_CODE

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):  # already closed by SUMO itself
                self._sumo.close()
            shutil.rmtree(self._routed.parent, ignore_errors=True)

    @property
    def waiting_to_enter(self) -> list[ScriptedVehicle]:
        return []

    # ------------------------------------------------------------ coupling
    def _push_reactions(self, now_ms: int) -> None:
        """Braking windows and speed advice of the applications become SUMO commands."""
        t = self.table
        if not len(t):
            return
        halted = t["halt_decel_mps2"] > 0  # an incident: brake to a standstill and stay
        warned = (t.warned(now_ms) & (t["v_mps"] > 0.5)) | halted
        advised = t.advised(now_ms) & ~warned
        decel = np.where(halted, t["halt_decel_mps2"],
                         np.where(t["warn_decel_mps2"] > 0, t["warn_decel_mps2"], self.ebw_decel_mps2))
        target = np.maximum(t["v_mps"] - decel * self.dt_s, 0.0)
        vehicle = self._sumo.vehicle
        now_set: set[str] = set()
        for k in np.flatnonzero(warned | advised):  # vehicles with a V2X reaction this step
            sid = self._sumo_ids[k]
            if halted[k] and target[k] <= 0.0:
                vehicle.setSpeed(sid, 0.0)
            elif warned[k]:
                vehicle.slowDown(sid, float(target[k]), self.dt_s)
            else:
                vehicle.setSpeed(sid, float(max(t["advice_speed_mps"][k], 0.1)))
            now_set.add(sid)
        for sid in self._overridden - now_set:
            with contextlib.suppress(Exception):  # it arrived meanwhile
                vehicle.setSpeed(sid, -1.0)
        self._overridden = now_set

    def _departures(self, now_ms: int, ids: tuple[str, ...] | list[str]) -> None:
        self._departed = len(ids)  # appended as the table's last rows
        if not ids:
            return
        vehicle = self._sumo.vehicle
        vars_ = [_POS, _SPEED, _ANGLE, _LANE_ID, _LANEPOS]
        n = len(ids)
        route = np.zeros(n, np.int64)
        cls = np.zeros(n, np.int64)
        level = np.zeros(n, np.int64)
        equipped = np.zeros(n, bool)
        car = VEHICLE_CLASSES["car"].code
        for k, sid in enumerate(ids):
            vehicle.subscribe(sid, vars_)
            vehicle.subscribeLeader(sid, _LEADER_LOOKAHEAD_M)
            edges = tuple(vehicle.getRoute(sid))  # once per vehicle, at departure
            r = self._route_of_edges.get(edges)
            if r is None:
                raise ScenarioError(self._source, "traffic.sumo_routes",
                                    f"SUMO vehicle {sid!r} drives a route v2xsim did not import")
            route[k] = r
            drawn = self._drawn.get(sid)
            if drawn is not None:
                cls[k], level[k], equipped[k] = drawn.cls, drawn.automation, drawn.equipped
            else:  # e.g. a probability flow SUMO expanded differently: a human car, no V2X
                vc = VCLASS_TO_CLASS.get(vehicle.getVehicleClass(sid), "car")
                cls[k] = VEHICLE_CLASSES[vc].code if vc in VEHICLE_CLASSES else car
                level[k] = AUTOMATION_LEVELS.index("L0")
        attrs = self._draw_attributes(n, route, np.zeros(n), cls, level, equipped,
                                      rng=self._script_rng)
        attrs["length_m"] = np.array([vehicle.getLength(sid) for sid in ids])
        # The driver's reaction time becomes SUMO's action step (a driver decides only every
        # action step): human reaction delays carry into SUMO's car following, up to 1 s. Longer
        # action steps break SUMO's junction model (8x8 grid, 1,200 vehicles, 300 s: 8 junction
        # collisions at 1.0 s for every driver, 3,305 at 1.1 s), so slower drivers decide every
        # second; their reaction still delays their response to warnings in v2xsim.
        max_steps = max(1, round(_MAX_ACTION_STEP_S / self.dt_s))
        for sid, steps in zip(ids, attrs["reaction_steps"]):
            vehicle.setActionStepLength(sid, min(max(1, int(steps)), max_steps) * self.dt_s, True)
        self._add(attrs, np.zeros(n, np.int64), np.zeros(n), np.zeros(n), now_ms,
                  self._script_rng, always_trip=True)
        if self._misses[0] or self._misses[1]:
            # Drivers who do not give way: SUMO's junction model ignores every foe (of any type)
            # for them, red lights still hold them.
            t = self.table
            types = " ".join(self._sumo.vehicletype.getIDList())
            for sid, miss in zip(ids, misses_priority(t["automation"][-n:], t["id"][-n:],
                                                      *self._misses)):
                if miss:
                    vehicle.setParameter(sid, "junctionModel.ignoreTypes", types)
        self._sumo_ids += list(ids)

    def _arrivals(self, now_ms: int, ids: tuple[str, ...] | list[str]) -> None:
        if not ids:
            return
        gone_ids = set(ids)
        t = self.table
        gone = np.array([sid in gone_ids for sid in self._sumo_ids], dtype=bool)
        if not gone.any():
            return
        trip = gone & (t["trip_start_ms"] >= 0)
        self.stats.exited += int(gone.sum())
        self.stats.trips_completed += int(trip.sum())
        self.stats.trip_time_s_sum += float(((now_ms - t["trip_start_ms"][trip]) / 1000.0).sum())
        t.keep(~gone)
        self.gap_hist = self.gap_hist[~gone]
        self.dv_hist = self.dv_hist[~gone]
        self.lead_hist = self.lead_hist[~gone]
        self._sumo_ids = [sid for sid, g in zip(self._sumo_ids, gone) if not g]
        self._overridden -= gone_ids

    def _read_states(self, now_ms: int) -> None:
        t = self.table
        n = len(t)
        if not n:
            return
        res = self._sumo.vehicle.getAllSubscriptionResults()
        # libsumo hands back one dict per vehicle; comprehensions over them (no numpy scalar
        # writes in a Python loop) keep this a small share of the step at 1,000 vehicles.
        rows = [res[sid] for sid in self._sumo_ids]
        x, y = np.array([r[_POS] for r in rows]).reshape(n, 2).T
        v = np.array([r[_SPEED] for r in rows])
        ang = np.array([r[_ANGLE] for r in rows])
        # SUMO's acceleration is (v - v before the step) / step; a vehicle inserted in this step
        # has none yet.
        a = (v - t["v_mps"]) / self.dt_s
        a[n - self._departed:] = 0.0
        lane_ids = [r[_LANE_ID].rpartition("_") for r in rows]  # "edge_2", ":J3_0_1"
        lane = np.array([int(li[2]) for li in lane_ids], np.int64)
        routes = t["route"]
        starts = self._piece_start
        s = np.array([starts[k].get(li[0], np.nan) for k, li in zip(routes.tolist(), lane_ids)])
        s += np.array([r[_LANEPOS] for r in rows])
        row_of = {sid: k for k, sid in enumerate(self._sumo_ids)}
        lead = [r.get(_LEADER) or ("", 0.0) for r in rows]
        leader = np.array([row_of.get(ld[0], -1) for ld in lead], np.int64)
        gap = np.where(leader >= 0, np.array([ld[1] for ld in lead]), np.inf)
        # Off the route's pieces (SUMO's junction lane differs from ours): keep the last s.
        s = np.where(np.isnan(s), t["s_m"], s)
        n_lanes = self.geo.lanes[routes]
        t["x_m"], t["y_m"] = x, y
        t["heading_rad"] = np.pi / 2 - np.radians(ang)
        t["v_mps"], t["s_m"] = v, s
        self.safety.on_braking(a, t["a_mps2"], np.zeros(n, bool), now_ms)
        t["a_mps2"] = a
        t["lane"] = np.clip(n_lanes - 1 - lane, 0, n_lanes - 1)
        lr = np.where(leader >= 0, leader, 0)
        dv = np.where(leader >= 0, v - v[lr], 0.0)
        # SUMO's gap excludes its minGap; a negative one is a collision SUMO reports itself.
        self.safety.on_pairs(t["id"], leader, np.maximum(gap, 0.0), dv, now_ms)

    def _count_collisions(self, collisions: Any) -> None:
        pairs = {(c.collider, c.victim) for c in collisions}
        self.safety.collisions += len(pairs - self._colliding)
        self._colliding = pairs
