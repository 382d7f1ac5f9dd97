"""The roadside network: RSU downlink, RSU -> backhaul -> edge -> backhaul -> RSU, Uu, faults.

`RoadsideNetwork` joins the engine through four hooks: `start` (simpy environment: edges, fault
processes), `before_batch` (hands SPAT/MAP/RSI/RSM due in the batch to the medium, applies RSU
outages, takes roadside sensor frames), `after_batch` (vehicle receptions -> per-hop latency;
RSU receptions -> backhaul -> edge tasks; BSMs over Uu) and `on_step` (queue and age sampling).
The engine interleaves its radio batches with simpy time when this network is present, so edge
results produced inside a step reach the next batch's MAC.

Batching (why it stays fast): one backhaul call per RSU per radio batch (vectorized FIFO over the
bundle), one edge task per RSU per batch for the collision-risk assessment of the BSMs it decoded
(the task starts when the bundle's last message arrived: its wait counts as edge_queue), one task
per roadside sensor frame for fusion (RSM, plus RSI alerts for what the sensors see); simpy
processes exist per task, never per message.

The collision-risk assessment runs on the bundle's BSMs: the edge map-matches each report to its
lane (route, lane, arc position from the vehicle table, the reported GNSS error projected along the
lane), pairs consecutive vehicles per lane and flags the leader of a pair whose time-to-collision is
below `ttc_s`, any vehicle stopped on a fast road, and any vehicle whose BSM carries the
hard-braking event flag. Each flagged vehicle becomes (or refreshes)
an RSI collision-risk alert that the RSU repeats at `alert_rate_hz` while valid.

Why one long module: it is the roadside participant, and every hook reads the same per-RSU state
(serving edge, outages, frame buffers). Downlink, backhaul, edge queues, faults and latency
recording already live in their own modules; the sensor perception and the Uu path are the next
candidates to move out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray

from roadside.backhaul import Backhaul
from roadside.downlink import RsiTable, periodic_times
from roadside.edge import EdgeServer, Task
from roadside.faults import GnssErrors, schedule
from roadside.latency import draw_delay_ms, lognormal_ms
from roadside.rsu import RsuTable
from sim.core.errors import ScenarioError
from sim.core.world import Participant, World
from sim.metrics.hops import AgeTracker, HopRecorder
from sim.radio.medium import (
    PATH_NAMES,
    PATH_REPEAT,
    PATH_RSU,
    PATH_RSU_EDGE,
    PATH_SENSOR_EDGE,
    RadioBatch,
    SidelinkMedium,
)
from sim.radio.messages import MsgType
from sim.spec.roadside import (
    BackhaulFault,
    EdgeFailureFault,
    GnssErrorFault,
    RsuOutageFault,
)
from vehicles.obu import bsm_generation
from vehicles.table import vehicles_of

if TYPE_CHECKING:
    from sim.core.geo import LocalProjection
    from sim.spec.schema import ScenarioSpec

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
FRAME_HEADER_BYTES = 100  # sensor frame upload header (assumed)
HAZARD_KEY = 1 << 32
#: Age of information counts for a receiver while it heard the source within this time (a vehicle
#: that left coverage stops counting); assumed.
AOI_HORIZON_MS = 2000


@dataclass
class _Frames:
    rsu: IntArray
    capture_ms: IntArray
    participants: IntArray  # listed in the RSM (vehicles without V2X, pedestrians)
    hazards: list[tuple[IntArray, FloatArray]]  # per frame: (vehicle ids, xy) the edge will flag


class RoadsideNetwork(Participant):
    def __init__(self, spec: ScenarioSpec, rsus: RsuTable, edge_xy_m: FloatArray,
                 medium: SidelinkMedium, rng_roadside: np.random.Generator,
                 rng_backhaul: np.random.Generator, rng_edge: np.random.Generator,
                 gnss: GnssErrors | None, rsi: RsiTable, home_edge: IntArray,
                 warmup_ms: int) -> None:
        self.spec = spec
        self.rsus = rsus
        self.edge_xy_m = edge_xy_m
        self.medium = medium
        self.rng = rng_roadside
        self.rng_edge = rng_edge
        self.gnss = gnss
        self.rsi = rsi
        self.home_edge = home_edge
        self.serving_edge = home_edge.copy()
        n_r = len(rsus)
        self.dl = spec.rsus.messages.downlink
        self.perc = spec.rsus.messages.perception
        self.edge_spec = spec.edge
        self.backhaul = Backhaul(spec.edge.backhaul, n_r, rng_backhaul)
        self.hops = HopRecorder(warmup_ms)
        self.aoi = {int(m): AgeTracker(horizon_ms=AOI_HORIZON_MS, warmup_ms=warmup_ms)
                    for m in (MsgType.SPAT, MsgType.RSM, MsgType.RSI)}
        self._radio_until_ms = 0
        self.warmup_ms = warmup_ms
        self.rsu_down = np.zeros(n_r, np.int64)  # active outages per RSU
        self.rsu_down_since = np.full(n_r, -1.0)
        self.rsu_down_ms = np.zeros(n_r)
        self.spat_phase = rng_roadside.integers(0, 100, size=n_r)
        self.map_phase = rng_roadside.integers(0, 1000, size=n_r)
        self.frame_phase = rng_roadside.integers(0, self.perc.frame_period_ms, size=n_r)
        self.edges: list[EdgeServer] = []
        self.env: simpy.Environment | None = None
        self.world: World | None = None
        self._frames = _empty_frames()
        self.counts: dict[str, int] = {
            "spat": 0, "map": 0, "rsi": 0, "rsm": 0, "dropped_rsu_down": 0,
            "bsms_forwarded": 0, "frames": 0, "no_edge": 0, "failovers": 0, "failbacks": 0,
            "results_lost_backhaul": 0, "uu_bsms": 0, "uu_lost": 0, "hazards_flagged": 0,
        }
        medium.downlink = n_r > 0
        if gnss is not None and gnss.faults:
            medium.position_error = gnss

    @property
    def has_rsu_outages(self) -> bool:
        """Whether any scripted fault takes an RSU down (the trace then records RSU states)."""
        return any(isinstance(f, RsuOutageFault) for f in self.spec.faults)

    # ------------------------------------------------------------------ engine hooks
    def start(self, env: simpy.Environment, world: World) -> None:
        self.env, self.world = env, world
        es = self.edge_spec
        tasks = {"fusion": es.tasks.fusion, "collision_risk": es.tasks.collision_risk}
        self.edges = [EdgeServer(env, i, n.id, self.edge_xy_m[i], n.cores, n.queue_limit, tasks,
                                 self.rng_edge) for i, n in enumerate(es.nodes)]
        ids = [n.id for n in es.nodes]
        for f in self.spec.faults:
            if isinstance(f, RsuOutageFault):
                idx = np.array(f.rsus, np.int64)
                schedule(env, f.at_s, f.until_s, partial(self._rsu_outage, idx, +1),
                         partial(self._rsu_outage, idx, -1))
            elif isinstance(f, BackhaulFault):
                idx = np.arange(len(self.rsus)) if f.rsus is None else np.array(f.rsus, np.int64)
                schedule(env, f.at_s, f.until_s, partial(self._degrade, idx, f, +1),
                         partial(self._degrade, idx, f, -1))
            elif isinstance(f, EdgeFailureFault):
                e = self.edges[ids.index(f.edge)]
                schedule(env, f.at_s, f.until_s, e.fail, e.recover)

    def before_batch(self, world: World, t0_ms: int, n_ms: int) -> None:
        t1 = t0_ms + n_ms
        up = self.rsu_down == 0
        self.medium.rsu_alive = up.copy()
        self._update_serving(t0_ms)
        dl = self.dl
        serve = np.flatnonzero((self.rsus.signal_idx >= 0) & up) if len(self.rsus.signal_idx) \
            else np.empty(0, np.int64)
        sub = self.medium.submit_downlink
        if dl.spat and len(serve):
            i, t = periodic_times(self.spat_phase[serve], round(1000 / dl.spat_rate_hz), t0_ms, t1)
            r = serve[i]
            sub(r, int(MsgType.SPAT), t, dl.spat_size_bytes, self.rsus.signal_idx[r], t, PATH_RSU)
        if dl.map and len(serve):
            i, t = periodic_times(self.map_phase[serve], round(1000 / dl.map_rate_hz), t0_ms, t1)
            r = serve[i]
            sub(r, int(MsgType.MAP), t, dl.map_size_bytes, self.rsus.signal_idx[r], t, PATH_RSU)
        ev, r, gen, origin, path, hold = self.rsi.due(t1, PATH_REPEAT)
        if len(ev):
            sub(r, int(MsgType.RSI), gen, dl.rsi_size_bytes, ev, origin, path)
            for code in (PATH_RSU_EDGE, PATH_SENSOR_EDGE):  # alerts wait for their RSI slot
                sel = path == code
                self.hops.record(PATH_NAMES[code], "rsu_hold", hold[sel], gen[sel])
        self._frames = self._perceive(world, up, t0_ms, t1)
        if self.edges and self.edge_spec.uu.enabled:
            self._uu(world, t0_ms, t1)

    def after_batch(self, world: World, b: RadioBatch) -> None:
        self._radio_until_ms = b.t0_ms + b.n_subframes
        links, tx = b.result.links, b.tx
        # Only decoded links carry information: gathered once, in link order.
        okl = np.flatnonzero(links.success)
        ltx, lrx = links.tx[okl], links.rx[okl]
        rx_vid = b.node_vehicle_id[lrx]
        from_vehicle = b.tx_vehicle_id[ltx] >= 0
        sf = tx.subframe_ms[ltx]
        gen = tx.gen_ms[ltx]
        to_vehicle = rx_vid >= 0
        # Direct V2V (pc5 path).
        m = to_vehicle & from_vehicle
        s_m, g_m = sf[m], gen[m]
        self.hops.record("pc5", "pc5_wait_up", s_m - g_m, s_m)
        self.hops.record("pc5", "air_up", np.ones(len(s_m)), s_m)
        self.hops.record("pc5", "e2e", s_m + 1 - g_m, s_m)
        # RSU downlink at vehicles.
        assert b.tx_path is not None and b.tx_origin_ms is not None
        m = to_vehicle & ~from_vehicle
        down_tx = ltx[m]
        path = b.tx_path[down_tx]
        origin = b.tx_origin_ms[down_tx]
        s_m, g_m = sf[m], gen[m]
        for code in np.unique(path):
            if code == PATH_REPEAT:  # no newer information: age only
                continue
            sel = path == code
            name = PATH_NAMES[int(code)]
            s, g, o = s_m[sel], g_m[sel], origin[sel]
            self.hops.record(name, "pc5_wait_down", s - g, s)
            self.hops.record(name, "air_down", np.ones(len(s)), s)
            self.hops.record(name, "e2e", s + 1 - o, s)
        mt = b.tx_msg_type[down_tx]
        rx_down = rx_vid[m]
        for code, tracker in self.aoi.items():
            sel = mt == code
            tracker.update(rx_down[sel] * 8 + code, origin[sel])
        rsu_tx = b.tx_rsu >= 0
        for name, code in (("spat", MsgType.SPAT), ("map", MsgType.MAP), ("rsi", MsgType.RSI),
                           ("rsm", MsgType.RSM)):
            self.counts[name] += int((rsu_tx & (b.tx_msg_type == int(code))).sum())
        self.counts["dropped_rsu_down"] += b.rsu_dropped
        # RSU uplink -> backhaul -> edge.
        if self.edges:
            with self.hops.batched():  # the per-RSU loop's samples, added once per hop
                self._forward(world, b, ltx, lrx, from_vehicle, sf, gen)

    def on_step(self, world: World, now_ms: int) -> None:
        for e in self.edges:
            e.sample_queue()
        # Ages at the end of the radio window just evaluated (receptions up to there are known).
        for tracker in self.aoi.values():
            tracker.sample(self._radio_until_ms)

    # ------------------------------------------------------------------ faults and assignment
    def _rsu_outage(self, idx: IntArray, delta: int) -> None:
        assert self.env is not None
        now = float(self.env.now)
        for r in idx:
            if delta > 0 and self.rsu_down[r] == 0:
                self.rsu_down_since[r] = now
            self.rsu_down[r] += delta
            if delta < 0 and self.rsu_down[r] == 0:
                self.rsu_down_ms[r] += now - self.rsu_down_since[r]
                self.rsu_down_since[r] = -1.0

    def _degrade(self, idx: IntArray, f: BackhaulFault, sign: int) -> None:
        self.backhaul.extra_latency_ms[idx] += sign * f.extra_latency_ms
        self.backhaul.extra_loss[idx] = f.loss_probability if sign > 0 else 0.0

    def _update_serving(self, now_ms: int) -> None:
        """Home edge if alive (or its failure not yet detected), else the nearest live edge."""
        if not self.edges:
            return
        alive = np.array([e.alive for e in self.edges])
        detected = np.array([(not e.alive) and e.failed_at_ms is not None
                             and now_ms >= e.failed_at_ms + self.edge_spec.failover_detection_ms
                             for e in self.edges])
        home = self.home_edge
        serving = home.copy()
        move = detected[home]
        if move.any():
            if self.edge_spec.failover and alive.any():
                d = np.linalg.norm(self.rsus.xy_m[move][:, None, :] - self.edge_xy_m[None, :, :], axis=2)
                d[:, ~alive] = np.inf
                serving[move] = np.argmin(d, axis=1)
            else:
                serving[move] = -1
        changed = serving != self.serving_edge
        self.counts["failovers"] += int((changed & (serving != home)).sum())
        self.counts["failbacks"] += int((changed & (serving == home)).sum())
        self.serving_edge = serving

    # ------------------------------------------------------------------ perception
    def _perceive(self, world: World, up: NDArray[np.bool_], t0_ms: int, t1_ms: int) -> _Frames:
        """Roadside sensor frames in [t0, t1): who each RSU sees (every vehicle and pedestrian in
        range; the RSM lists those without V2X) and which of them the edge's fusion will flag."""
        if not self.perc.enabled or not len(self.rsus):
            return _empty_frames()
        up_idx = np.flatnonzero(up)
        i, t = periodic_times(self.frame_phase[up_idx], self.perc.frame_period_ms, t0_ms, t1_ms)
        if not len(i):
            return _empty_frames()
        r = up_idx[i]
        tab = world.mobility.table
        vxy = np.column_stack([tab["x_m"], tab["y_m"]])
        seen = np.linalg.norm(self.rsus.xy_m[r][:, None, :] - vxy[None, :, :], axis=2) <= self.perc.range_m
        listed = seen if self.perc.include_equipped else seen & ~tab["equipped"][None, :]
        n = listed.sum(axis=1).astype(np.int64)
        pxy = _pedestrian_xy(world)
        if len(pxy):
            n += (np.linalg.norm(self.rsus.xy_m[r][:, None, :] - pxy[None, :, :], axis=2)
                  <= self.perc.range_m).sum(axis=1)
        n = np.minimum(n, self.dl.rsm_max_participants)
        hazards = []
        for k in range(len(r)):  # a few frames per batch (one per RSU per frame period)
            rows = np.flatnonzero(seen[k])
            hz = self._hazards(world, rows, np.zeros(len(rows)),
                               tab["a_mps2"][rows] < -self.spec.messages.bsm.hard_braking_event_mps2)
            hazards.append((tab["id"][rows[hz]], vxy[rows[hz]]))
        keep = (n > 0) | np.array([len(h[0]) > 0 for h in hazards], bool)
        frames = _Frames(r[keep], t[keep], n[keep], [h for h, k in zip(hazards, keep) if k])
        self.counts["frames"] += int(keep.sum())
        if not self.edges and len(frames.rsu):  # RSU-local fusion, no backhaul
            s = self.edge_spec.tasks.fusion
            proc = (lognormal_ms(self.rng, s.mean_ms, s.sd_ms, len(frames.rsu))
                    + s.per_item_ms * frames.participants)
            gen = np.ceil(frames.capture_ms + proc).astype(np.int64)
            self.medium.submit_downlink(frames.rsu, int(MsgType.RSM), gen,
                                        self._rsm_bytes(frames.participants),
                                        frames.participants, frames.capture_ms, PATH_RSU)
            return _empty_frames()
        return frames

    def _hazards(self, world: World, rows: IntArray, along_err_m: FloatArray,
                 braking: NDArray[np.bool_]) -> IntArray:
        """Indices (into `rows`) of vehicles flagged as a collision risk: leader of a same-lane pair
        with TTC below ttc_s, stopped on a fast road, or braking hard."""
        cr = self.edge_spec.collision_risk
        tab = world.mobility.table
        route, lane = tab["route"][rows], tab["lane"][rows]
        s = tab["s_m"][rows] + along_err_m
        v = tab["v_mps"][rows]
        length = tab["length_m"][rows]
        o = np.lexsort((s, lane, route))
        same = (route[o][1:] == route[o][:-1]) & (lane[o][1:] == lane[o][:-1])
        gap = s[o][1:] - s[o][:-1] - length[o][1:]
        closing = v[o][:-1] - v[o][1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            ttc = np.where(closing > 0, gap / closing, np.inf)
        risky_leader = o[1:][same & (ttc < cr.ttc_s)]
        limit = world.geometry.speed_limit_mps[route]
        stopped = np.flatnonzero((v < cr.stopped_speed_mps) & (limit * 3.6 > cr.stopped_limit_kmh))
        return np.union1d(np.union1d(risky_leader, stopped), np.flatnonzero(braking))

    def _rsm_bytes(self, n: IntArray) -> IntArray:
        return self.dl.rsm_size_bytes + self.dl.rsm_bytes_per_participant * np.maximum(n - 1, 0)

    # ------------------------------------------------------------------ uplink to the edge
    def _edge_km(self, r: int, e: int) -> float:
        return float(np.linalg.norm(self.rsus.xy_m[r] - self.edge_xy_m[e])) / 1000.0

    def _forward(self, world: World, b: RadioBatch, ltx: IntArray, lrx: IntArray,
                 from_vehicle: NDArray[np.bool_], sf: IntArray, gen: FloatArray) -> None:
        """The BSMs RSUs decoded (`ltx`, `lrx`, ...: the batch's decoded links) and the roadside
        sensor frames, over the backhaul to the serving edge."""
        es = self.edge_spec
        rx_rsu = b.node_rsu[lrx]
        m = (rx_rsu >= 0) & from_vehicle & (b.tx_msg_type[ltx] == int(MsgType.BSM)) \
            if es.forward_bsms else np.zeros(len(ltx), bool)
        rsu_of, arrive = rx_rsu[m], (sf[m] + 1).astype(np.float64)
        gen_m, tx_i, sf_m = gen[m], ltx[m], sf[m]
        fr = self._frames
        bsm_bytes = float(self.spec.messages.bsm.size_bytes)
        # GNSS errors of every forwarding vehicle at once (a keyed, per-vehicle draw), looked up
        # per RSU below instead of drawn per RSU.
        gnss = None
        if self.gnss is not None:
            vids = np.unique(b.tx_vehicle_id[tx_i])
            gnss = (vids, self.gnss.error(vids, b.t0_ms))
        for r in np.union1d(np.unique(rsu_of), fr.rsu):
            r = int(r)
            e = int(self.serving_edge[r])
            mine = np.flatnonzero(rsu_of == r)
            fmine = np.flatnonzero(fr.rsu == r)
            n_b, n_f = len(mine), len(fmine)
            self.hops.record("rsu_edge", "pc5_wait_up", sf_m[mine] - gen_m[mine], arrive[mine])
            self.hops.record("rsu_edge", "air_up", np.ones(n_b), arrive[mine])
            if e < 0:
                self.counts["no_edge"] += (1 if n_b else 0) + n_f
                continue
            self.counts["bsms_forwarded"] += n_b
            t_in = np.concatenate([arrive[mine], fr.capture_ms[fmine].astype(np.float64)])
            size = np.concatenate([np.full(n_b, bsm_bytes),
                                   FRAME_HEADER_BYTES + self.perc.object_bytes * fr.participants[fmine]])
            order = np.argsort(t_in, kind="stable")
            d = self.backhaul.send(r, "up", t_in[order], size[order], self._edge_km(r, e))
            deliver = np.empty_like(t_in)
            deliver[order] = d.deliver_ms
            dok = np.isfinite(deliver)
            rerouted = e != int(self.home_edge[r])
            edge = self.edges[e]
            bsm_ok = dok[:n_b]
            self.hops.record("rsu_edge", "backhaul_up", deliver[:n_b][bsm_ok] - arrive[mine][bsm_ok],
                             arrive[mine][bsm_ok])
            if bsm_ok.any():
                rows = mine[bsm_ok]
                assert b.tx_reported_xy_m is not None
                t = tx_i[rows]
                payload = self._snapshot(world, b.tx_vehicle_id[t], gen_m[rows], b.tx_reported_xy_m[t],
                                         b.tx_brake_flag[t], deliver[:n_b][bsm_ok], gnss)
                edge.submit(Task("collision_risk", r, float(deliver[:n_b][bsm_ok].max()), len(rows),
                                 float(gen_m[rows].min()), self._risk_done, payload), rerouted)
            for j, f in enumerate(fmine):
                if not dok[n_b + j]:
                    continue
                cap = float(fr.capture_ms[f])
                self.hops.record("sensor_edge", "backhaul_up", [deliver[n_b + j] - cap], cap)
                edge.submit(Task("fusion", r, float(deliver[n_b + j]), int(fr.participants[f]), cap,
                                 self._fusion_done, (cap, int(fr.participants[f]), fr.hazards[f])),
                            rerouted)

    def _snapshot(self, world: World, vid: IntArray, gen: FloatArray, rep_xy: FloatArray,
                  brake: NDArray[np.bool_], at_edge_ms: FloatArray,
                  gnss: tuple[IntArray, FloatArray] | None) -> dict[str, Any]:
        """What the edge knows from a bundle of BSMs (vehicle, generation time, reported position,
        hard-braking flag), and the vehicles it will flag. Map matching puts each report on its
        lane; the GNSS error of the report (`gnss`: sorted vehicle ids and their (n, 2) errors
        this batch) shifts it along the lane."""
        tab = world.mobility.table
        order = np.lexsort((gen, vid))  # the latest report per vehicle
        last = np.ones(len(order), bool)
        last[:-1] = vid[order][1:] != vid[order][:-1]
        sel = order[last]
        rows = tab.rows_of(vid[sel])
        live = rows >= 0
        sel, rows = sel[live], rows[live]
        v_id, v_gen, rep = vid[sel], gen[sel], rep_xy[sel]
        err_along = np.zeros(len(sel))
        if gnss is not None and len(sel):
            err = gnss[1][np.searchsorted(gnss[0], v_id)]
            h = tab["heading_rad"][rows]
            err_along = err[:, 0] * np.cos(h) + err[:, 1] * np.sin(h)
        hz = self._hazards(world, rows, err_along, brake[sel])
        return {"gen": gen, "at_edge": at_edge_ms, "hazard_vid": v_id[hz], "hazard_xy": rep[hz],
                "hazard_origin": v_gen[hz]}

    # ------------------------------------------------------------------ edge results
    def _risk_done(self, task: Task, end_ms: float, queue_ms: float, service_ms: float) -> None:
        p = task.payload
        assert isinstance(p, dict)
        self._record_edge_hops("rsu_edge", task, p["at_edge"], queue_ms, service_ms)
        n = len(p["hazard_vid"])
        if n == 0 or task.rsu < 0:
            return
        r, e = task.rsu, int(self.serving_edge[task.rsu])
        d = self.backhaul.send(r, "down", np.array([end_ms]),
                               np.array([float(self.dl.rsi_size_bytes * n)]), self._edge_km(r, max(e, 0)))
        if not d.ok[0]:
            self.counts["results_lost_backhaul"] += 1
            return
        t_rsu = float(d.deliver_ms[0])
        self.hops.record("rsu_edge", "backhaul_down", [t_rsu - end_ms], end_ms)
        self._alerts(r, t_rsu, p["hazard_vid"], p["hazard_xy"], p["hazard_origin"], PATH_RSU_EDGE)

    def _record_edge_hops(self, path: str, task: Task, at_edge_ms: FloatArray, queue_ms: float,
                          service_ms: float) -> None:
        """Per message of a bundle: waiting for the bundle's last message (edge_bundle), for a
        core (edge_queue) and being processed (edge_processing)."""
        n = len(at_edge_ms)
        self.hops.record(path, "edge_bundle", task.arrive_ms - at_edge_ms, at_edge_ms)
        self.hops.record(path, "edge_queue", np.full(n, queue_ms), at_edge_ms)
        self.hops.record(path, "edge_processing", np.full(n, service_ms), at_edge_ms)

    def _fusion_done(self, task: Task, end_ms: float, queue_ms: float, service_ms: float) -> None:
        assert isinstance(task.payload, tuple)
        cap: float = task.payload[0]
        n: int = task.payload[1]
        hz_vid, hz_xy = task.payload[2]
        self.hops.record("sensor_edge", "edge_queue", [queue_ms], cap)
        self.hops.record("sensor_edge", "edge_processing", [service_ms], cap)
        r, e = task.rsu, int(self.serving_edge[task.rsu])
        size = float(self._rsm_bytes(np.array([n]))[0]) if n else 0.0
        d = self.backhaul.send(r, "down", np.array([end_ms]),
                               np.array([size + self.dl.rsi_size_bytes * len(hz_vid)]),
                               self._edge_km(r, max(e, 0)))
        if not d.ok[0]:
            self.counts["results_lost_backhaul"] += 1
            return
        t_rsu = float(d.deliver_ms[0])
        self.hops.record("sensor_edge", "backhaul_down", [t_rsu - end_ms], cap)
        if n:
            self.medium.submit_downlink(np.array([r]), int(MsgType.RSM), math.ceil(t_rsu),
                                        int(size), n, int(cap), PATH_SENSOR_EDGE)
            self.hops.record("sensor_edge", "rsu_hold", [0.0], cap)  # an RSM goes out at once
        self._alerts(r, t_rsu, hz_vid, hz_xy, np.full(len(hz_vid), cap), PATH_SENSOR_EDGE)

    def _alerts(self, r: int, t_rsu: float, vid: IntArray, xy: FloatArray, origin: FloatArray,
                path: int) -> None:
        """Collision-risk RSIs at RSU r: a new alert per flagged vehicle, or a refresh."""
        self.counts["hazards_flagged"] += len(vid)
        cr = self.edge_spec.collision_risk
        at = math.ceil(t_rsu)
        valid = round(cr.alert_valid_s * 1000)
        for v, p, o in zip(vid, xy, origin):  # flagged vehicles: a handful per task
            key = r * HAZARD_KEY + int(v)
            if not self.rsi.confirm(key, r, at, valid, int(o)):
                ev = self.rsi.add_event("collision-risk", (float(p[0]), float(p[1])),
                                        cr.broadcast_range_m)
                self.rsi.add_rows(ev, np.array([r]), at, at + valid, round(1000 / cr.alert_rate_hz),
                                  int(o), path, key)

    # ------------------------------------------------------------------ Uu
    def _uu(self, world: World, t0_ms: int, t1_ms: int) -> None:
        """Every BSM generated in [t0, t1) also goes over Uu (one-way latency draw, loss) to the
        nearest live edge (one task per edge and arrival window); alerts come back over Uu to
        equipped vehicles within alert_radius_m."""
        uu = self.edge_spec.uu
        tab = vehicles_of(world)
        vid, gen_i = bsm_generation(tab, t0_ms, t1_ms, world.medium.bsm_period_ms)
        n = len(vid)
        if not n:
            return
        gen = gen_i.astype(np.float64)
        rows = tab.rows_of(vid)
        state_ms = t0_ms - t0_ms % world.step_ms  # the table's positions are at the step start
        dt_s = (gen - state_ms) / 1000.0
        h, v = tab["heading_rad"][rows], tab["v_mps"][rows]
        xy = np.column_stack([tab["x_m"][rows] + v * np.cos(h) * dt_s,
                              tab["y_m"][rows] + v * np.sin(h) * dt_s])
        gnss = None
        if self.gnss is not None:
            vids = np.unique(vid)
            gnss = (vids, self.gnss.error(vids, t0_ms))
            xy = xy + gnss[1][np.searchsorted(vids, vid)]
        brake = tab["a_mps2"][rows] < -self.spec.messages.bsm.hard_braking_event_mps2
        self.counts["uu_bsms"] += n
        up = gen + draw_delay_ms(uu.latency("uplink"), self.rng, n)
        lost = self.rng.random(n) < uu.loss_probability
        self.counts["uu_lost"] += int(lost.sum())
        alive = np.array([e.alive for e in self.edges])
        if not alive.any():
            self.counts["no_edge"] += 1
            return
        d = np.linalg.norm(xy[:, None, :] - self.edge_xy_m[None, :, :], axis=2)
        d[:, ~alive] = np.inf
        edge_of = np.argmin(d, axis=1)
        self.hops.record("uu_edge", "uu_up", (up - gen)[~lost], gen[~lost])
        window = np.floor(up / (t1_ms - t0_ms)).astype(np.int64)
        group = edge_of * (1 << 40) + window
        for g in np.unique(group[~lost]):  # a few tasks per batch (edges x windows)
            sel = np.flatnonzero((group == g) & ~lost)
            payload = self._snapshot(world, vid[sel], gen[sel], xy[sel], brake[sel], up[sel], gnss)
            self.edges[int(edge_of[sel[0]])].submit(Task(
                "collision_risk", -1, float(up[sel].max()), len(sel), float(gen[sel].min()),
                self._uu_done, payload))

    def _uu_done(self, task: Task, end_ms: float, queue_ms: float, service_ms: float) -> None:
        p = task.payload
        assert isinstance(p, dict) and self.world is not None
        self._record_edge_hops("uu_edge", task, p["at_edge"], queue_ms, service_ms)
        if not len(p["hazard_vid"]):
            return
        uu = self.edge_spec.uu
        tab = self.world.mobility.table
        eq = tab["equipped"]
        vxy = np.column_stack([tab["x_m"][eq], tab["y_m"][eq]])
        dist = np.linalg.norm(vxy[None, :, :] - p["hazard_xy"][:, None, :], axis=2)
        h_i, _ = np.nonzero(dist <= uu.alert_radius_m)
        k = len(h_i)
        if not k:
            return
        down = draw_delay_ms(uu.latency("downlink"), self.rng, k)
        got = self.rng.random(k) >= uu.loss_probability
        self.hops.record("uu_edge", "uu_down", down[got], end_ms)
        self.hops.record("uu_edge", "e2e", end_ms + down[got] - p["hazard_origin"][h_i][got], end_ms)

    # ------------------------------------------------------------------ summary
    def summary(self, sim_ms: float) -> dict[str, Any]:
        edges = {e.name: e.summary(sim_ms) for e in self.edges}
        util = [v["utilisation"] for v in edges.values() if v["utilisation"] is not None]
        tot = {k: sum(int(v[k]) for v in edges.values())
               for k in ("tasks", "served", "dropped_queue_full", "dropped_deadline", "lost_failure",
                         "rerouted_in")}
        down = self.rsu_down_ms + np.where(self.rsu_down_since >= 0, sim_ms - self.rsu_down_since, 0.0)
        c = self.counts
        bh = {d: vars(s).copy() for d, s in self.backhaul.stats.items()}
        return {
            "edge": {
                "nodes": edges,
                "utilisation": round(float(np.mean(util)), 6) if util else None,
                "utilisation_max": round(float(np.max(util)), 6) if util else None,
                **tot,
                "dropped": tot["dropped_queue_full"] + tot["dropped_deadline"],
                "lost": tot["lost_failure"] + c["no_edge"],
                "failovers": c["failovers"],
                "failbacks": c["failbacks"],
                "tasks_rerouted": tot["rerouted_in"],
                "no_edge": c["no_edge"],
                "queue_max": max((int(v["queue_max"]) for v in edges.values()), default=0),
                "backhaul": bh,
                "results_lost_backhaul": c["results_lost_backhaul"],
                "hazards_flagged": c["hazards_flagged"],
                "uu": {"bsms": c["uu_bsms"], "lost": c["uu_lost"]},
            },
            "roadside": {
                "downlink": {k: c[k] for k in ("spat", "map", "rsi", "rsm", "dropped_rsu_down")},
                "bsms_forwarded": c["bsms_forwarded"],
                "sensor_frames": c["frames"],
                "rsi_events": len(self.rsi.kind),
                "rsu_outage_s": round(float(down.sum()) / 1000.0, 3),
                "gnss_degraded_reports": 0 if self.gnss is None else self.gnss.degraded_reports,
                "aoi": {MsgType(k).name.lower(): t.summary() for k, t in self.aoi.items()},
            },
        }


def _pedestrian_xy(world: World) -> FloatArray:
    """(P, 2) positions of the scenario's pedestrians and cyclists (`World.pedestrians`)."""
    peds = world.pedestrians
    if peds is None or len(peds) == 0:
        return np.zeros((0, 2))
    return np.column_stack([peds["x_m"], peds["y_m"]]).astype(np.float64)


def _empty_frames() -> _Frames:
    e = np.empty(0, np.int64)
    return _Frames(e, e, e, [])


def build_roadside(spec: ScenarioSpec, rsus: RsuTable, projection: LocalProjection,
                   medium: SidelinkMedium, rng: Any, source: str, warmup_ms: int) -> RoadsideNetwork | None:
    """The roadside network of a scenario, or None when RSUs only listen (nothing to send)."""
    msgs = spec.rsus.messages
    es = spec.edge
    n_r = len(rsus)
    serves = bool(len(rsus.signal_idx) and (rsus.signal_idx >= 0).any()) and (
        msgs.downlink.spat or msgs.downlink.map)
    if n_r == 0 or not (serves or msgs.rsi or msgs.perception.enabled or es.nodes or spec.faults):
        if es.nodes or spec.faults:
            raise ScenarioError(source, "edge" if es.nodes else "faults",
                                "needs RSUs (rsus.geojson or rsus.positions)")
        return None
    ids = [n.id for n in es.nodes]
    for i, f in enumerate(spec.faults):
        bad = [r for r in (getattr(f, "rsus", None) or []) if r >= n_r]
        if bad:
            raise ScenarioError(source, f"faults[{i}].rsus",
                                f"RSU {bad[0]} does not exist (RSUs 0..{n_r - 1})")
        if isinstance(f, EdgeFailureFault) and f.edge not in ids:
            raise ScenarioError(source, f"faults[{i}].edge",
                                f"no edge node {f.edge!r}; edge nodes: {', '.join(ids) or 'none'}")
    if es.nodes:
        lon = np.array([n.position.lon for n in es.nodes])
        lat = np.array([n.position.lat for n in es.nodes])
        edge_xy = projection.to_local(lon, lat).reshape(-1, 2)
        d = np.linalg.norm(rsus.xy_m[:, None, :] - edge_xy[None, :, :], axis=2)
        home = np.argmin(d, axis=1).astype(np.int64)
        for j, n in enumerate(es.nodes):
            for r in n.rsus or []:
                if r >= n_r:
                    raise ScenarioError(source, f"edge.nodes[{j}].rsus",
                                        f"RSU {r} does not exist (RSUs 0..{n_r - 1})")
                home[r] = j
    else:
        edge_xy = np.zeros((0, 2))
        home = np.full(n_r, -1, np.int64)
    rsi = RsiTable()
    for ev in msgs.rsi:
        xy = projection.to_local(np.array([ev.position.lon]), np.array([ev.position.lat])).reshape(2)
        limit = float("nan") if ev.speed_limit_kmh is None else ev.speed_limit_kmh / 3.6
        k = rsi.add_event(ev.kind, (float(xy[0]), float(xy[1])), ev.radius_m, limit)
        near = np.flatnonzero(np.linalg.norm(rsus.xy_m - xy, axis=1) <= ev.radius_m + ev.broadcast_range_m)
        until = 2**62 if ev.until_s is None else round(ev.until_s * 1000)
        rsi.add_rows(k, near, round(ev.at_s * 1000), until, round(1000 / ev.rate_hz), -1, PATH_RSU)
    gnss = GnssErrors(list(spec.faults), rng.key("gnss")) if any(
        isinstance(f, GnssErrorFault) for f in spec.faults) else None
    return RoadsideNetwork(spec, rsus, edge_xy, medium, rng.generator("roadside"),
                           rng.generator("backhaul"), rng.generator("edge"), gnss, rsi, home,
                           warmup_ms)


def roadside_of(world: World) -> RoadsideNetwork | None:
    """The run's roadside network (RSU downlink, backhaul, edge, faults), None without one."""
    return world.participant(RoadsideNetwork)
