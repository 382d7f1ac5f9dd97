"""The sidelink medium: packets waiting for their subframe, and the batch evaluation of the ones due.

Each batch [t0, t0 + n) takes the BSMs generated in it and the RSU downlink messages handed to it
(SPAT, MAP, RSI, RSM: `submit_downlink`), gives them resources, and evaluates every pending packet
whose subframe falls inside the batch. Packets scheduled later wait in columns; a packet whose
vehicle left the road (or whose RSU went down) before its subframe is dropped and counted.

RSUs share the vehicles' resource pool and run the same scheduler: each RSU has one scheduler slot
per downlink stream (SPAT, MAP, RSI, RSM), i.e. one semi-persistent process per message type as a
co-located virtual UE, because the streams differ in period and size (one reservation per stream
avoids a reselection at every size change). For sensing, every stream of an RSU sees what the RSU's
antenna heard and treats the subframes where any sibling stream transmitted as unmonitored
(half-duplex), so siblings avoid each other's subframes. Messages larger than the channel
(a 1000 B MAP at MCS 7 in 10 MHz needs 8 of 5 subchannels) are split into the fewest equal
segments that fit (docs/radio-model.md §4.1: MAP "can need segmentation at the application layer");
segments ride consecutive reservations. Approximation: a downlink message handed over at time T is
scheduled at the first batch boundary at or after T (the MAC sees it at max(T, batch start)), so
messages produced inside a batch (edge results) wait up to `batch_ms` for the MAC.

Why one long module: it owns the pending-packet columns and the scheduler slots of vehicles and
RSUs; submission, resource assignment, drop and evaluation all read and write those columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sim.radio.dcc import T_OFF_MS, ReactiveDcc
from sim.radio.messages import MsgType
from sim.radio.nodes import FixedSites, MobileSource, NoFixedSites, VehicleRadio
from sim.radio.scheduler import RandomScheduler
from sim.radio.sidelink import (
    BatchResult,
    LinkResults,
    Nodes,
    SidelinkConfig,
    Transmissions,
    evaluate_batch,
    noise_dbm,
)
from sim.radio.sps import SpsScheduler

IntArray = NDArray[np.int64]

#: Scheduler ids of RSU downlink streams (far above vehicle ids, so vehicles sort first).
RSU_STREAM_BASE = 1 << 40
#: Downlink streams per RSU: stream = MsgType - 1 (SPAT, MAP, RSI, RSM).
N_STREAMS = 4

#: Message path codes (`RadioBatch.tx_path`): how the information reached the air.
PATH_PC5 = 0  # vehicle BSM, direct
PATH_RSU = 1  # RSU-originated (SPAT, MAP, scripted RSI), direct
PATH_RSU_EDGE = 2  # vehicle BSM -> RSU -> backhaul -> edge collision-risk -> RSU -> RSI
PATH_SENSOR_EDGE = 3  # RSU sensors -> backhaul -> edge fusion -> RSU -> RSM / RSI alert
PATH_REPEAT = 4  # an edge alert repeated while valid, carrying no newer information
PATH_NAMES = ("pc5", "rsu", "rsu_edge", "sensor_edge", "repeat")

_COLS = ("vid", "rsu", "mtype", "ref", "origin", "path", "size", "gen_ms", "subframe", "start",
         "nsub", "pid", "brake")
_OUTBOX = ("rsu", "mtype", "gen_ms", "size", "ref", "origin", "path")


@dataclass(frozen=True)
class RadioBatch:
    """Everything observers need about one batch: who sent what, who heard it, and how."""

    t0_ms: int
    n_subframes: int
    node_vehicle_id: IntArray  # vehicle id per node row, -1 for RSUs
    node_rsu: IntArray  # RSU index per node row, -1 for vehicles (RSUs in outage are no nodes)
    node_xy_m: NDArray[np.float64]
    tx_vehicle_id: IntArray  # sending vehicle per transmission, -1 for an RSU
    tx_brake_flag: NDArray[np.bool_]  # the BSM carries the hard-braking event flag
    tx_msg_type: IntArray  # `MsgType` code per transmission (sim.radio.messages)
    tx_rsu: IntArray  # sending RSU index per transmission, -1 for a vehicle
    tx: Transmissions
    result: BatchResult
    generated: int  # BSMs generated in the batch
    dropped: int  # BSMs dropped because the vehicle left
    #: Per transmission: SPAT/MAP -> signal index; RSI -> RSI event id (World.roadside.rsi);
    #: RSM -> number of participants; BSM -> -1.
    tx_ref: IntArray | None = None
    tx_origin_ms: IntArray | None = None  # when the carried information originated (e2e latency)
    tx_path: IntArray | None = None  # PATH_* code
    tx_size_bytes: IntArray | None = None
    #: Position the message reports: the sender's GNSS fix for a BSM (with scripted GNSS error),
    #: the RSU's site for RSU messages.
    tx_reported_xy_m: NDArray[np.float64] | None = None
    rsu_generated: int = 0  # downlink packets (segments) handed to the MAC in this batch
    rsu_dropped: int = 0  # downlink packets lost because their RSU was down
    #: Congestion control on: the reactive DCC state (sim.radio.dcc.STATE_NAMES index) each
    #: vehicle node used in this batch; None when `radio.congestion.kind` is none.
    dcc_state: NDArray[np.int8] | None = None
    dcc_suppressed: int = 0  # BSMs not generated because of the DCC minimum interval


class SidelinkMedium:
    def __init__(
        self,
        cfg: SidelinkConfig,
        scheduler: RandomScheduler | SpsScheduler,
        vehicle_radio: VehicleRadio,
        bsm_period_ms: int,
        bsm_subchannels: int,
        subchannels_for_bytes: Callable[[int], int] | None = None,
        dcc: ReactiveDcc | None = None,
        priority_by_type: NDArray[np.int64] | None = None,
    ) -> None:
        #: SL priority per MsgType code, handed to the scheduler with each packet (NR per-priority
        #: X); None: every packet priority 1.
        self.priority_by_type = priority_by_type
        #: Congestion control (sim.radio.dcc), None = off: every BSM of the nominal rate is sent.
        self.dcc = dcc
        self.cfg = cfg
        self.scheduler = scheduler
        self.vehicle_radio = vehicle_radio
        self.bsm_period_ms = bsm_period_ms
        self.bsm_subchannels = bsm_subchannels
        self.subchannels_for_bytes = subchannels_for_bytes
        self.next_packet_id = 0
        #: RSU downlink on: RSUs get scheduler slots (set by the roadside network).
        self.downlink = False
        #: RSUs up (None: all); RSUs down are no radio nodes (set by scripted faults).
        self.rsu_alive: NDArray[np.bool_] | None = None
        #: (vehicle ids, time ms) -> (n, 2) GNSS error in m added to reported BSM positions.
        self.position_error: Callable[[IntArray, int], NDArray[np.float64]] | None = None
        self._pending: dict[str, NDArray] = {k: np.empty(0, dtype=np.int64) for k in _COLS}
        self._outbox: dict[str, NDArray] = {k: np.empty(0, dtype=np.int64) for k in _OUTBOX}
        self._segments: dict[int, tuple[int, int]] = {}
        #: The nodes: mobile (OBUs) and fixed (RSUs); set by `attach` before the first batch.
        self.mobile: MobileSource | None = None
        self.fixed: FixedSites = NoFixedSites()

    def attach(self, mobile: MobileSource, fixed: FixedSites | None = None) -> None:
        """Names the nodes the medium serves: the mobile source is asked for positions and BSM
        intents at every batch; `fixed` (RSUs) defaults to none."""
        self.mobile = mobile
        self.fixed = NoFixedSites() if fixed is None else fixed

    @property
    def pending(self) -> int:
        return len(self._pending["vid"])

    # ------------------------------------------------------------------ downlink
    def submit_downlink(self, rsu: ArrayLike, msg_type: ArrayLike, gen_ms: ArrayLike,
                        size_bytes: ArrayLike, ref: ArrayLike, origin_ms: ArrayLike,
                        path: ArrayLike) -> None:
        """Hands RSU messages to the MAC (columns, scalars broadcast); they are scheduled by the
        batch covering `gen_ms`."""
        n = len(np.atleast_1d(np.asarray(rsu)))
        if n == 0:
            return
        new = {"rsu": rsu, "mtype": msg_type, "gen_ms": gen_ms, "size": size_bytes, "ref": ref,
               "origin": origin_ms, "path": path}
        for k in _OUTBOX:
            col = np.broadcast_to(np.asarray(new[k], dtype=np.int64), (n,))
            self._outbox[k] = np.concatenate([self._outbox[k], col])

    def segments(self, size_bytes: int) -> tuple[int, int]:
        """(segments, subchannels per segment) for a message of `size_bytes`."""
        if size_bytes not in self._segments:
            if self.subchannels_for_bytes is None:
                raise ValueError("RSU downlink needs subchannels_for_bytes")
            n_sc = self.cfg.n_subchannels
            k = 1
            while self.subchannels_for_bytes(-(-size_bytes // k)) > n_sc:
                k += 1
            self._segments[size_bytes] = (k, self.subchannels_for_bytes(-(-size_bytes // k)))
        return self._segments[size_bytes]

    def _take_outbox(self, t1_ms: int) -> dict[str, NDArray]:
        ob = self._outbox
        due = ob["gen_ms"] < t1_ms
        out = {k: v[due] for k, v in ob.items()}
        self._outbox = {k: v[~due] for k, v in ob.items()}
        if not len(out["rsu"]):
            return out
        sizes = np.unique(out["size"])
        seg = np.array([self.segments(int(s)) for s in sizes], dtype=np.int64).reshape(-1, 2)
        idx = np.searchsorted(sizes, out["size"])
        count, nsub = seg[idx, 0], seg[idx, 1]
        rep = np.repeat(np.arange(len(count)), count)
        out = {k: v[rep] for k, v in out.items()}
        out["nsub"] = nsub[rep]
        out["size"] = -(-out["size"] // count[rep])
        return out

    # ------------------------------------------------------------------ scheduling
    def _schedule(self, cols: dict[str, ArrayLike], slots: IntArray, mac_gen_ms: IntArray) -> None:
        n = len(slots)
        if n == 0:
            return
        prio = None if self.priority_by_type is None else np.broadcast_to(
            self.priority_by_type[np.asarray(cols["mtype"], dtype=np.int64)], (n,))
        subframe, start = self.scheduler.assign(slots, mac_gen_ms,
                                                np.asarray(cols["nsub"], dtype=np.int64), prio)
        pid = np.arange(self.next_packet_id, self.next_packet_id + n, dtype=np.int64)
        self.next_packet_id += n
        new = {**cols, "subframe": subframe, "start": start, "pid": pid}
        for k in _COLS:
            col = np.broadcast_to(np.asarray(new[k], dtype=np.int64), (n,))
            self._pending[k] = np.concatenate([self._pending[k], col])

    def nodes(self, advance_s: float = 0.0,
              rsu_alive: NDArray[np.bool_] | None = None) -> tuple[Nodes, IntArray]:
        """Radio nodes: mobile nodes (in id order), then fixed sites that are up. Returns nodes
        and mobile ids. `advance_s` moves mobile nodes along their velocity from the source's
        state time to the batch start."""
        if self.mobile is None:
            raise RuntimeError("SidelinkMedium.attach(...) must name the nodes before a batch")
        mob = self.mobile.mobile_nodes()
        rsus = self.fixed
        vid, vel, xy = mob.ids, mob.vel_mps, mob.xy_m
        up = np.ones(len(rsus), bool) if rsu_alive is None else rsu_alive
        n_v, n_r = len(vid), int(up.sum())
        vr = self.vehicle_radio
        if advance_s:
            xy = xy + vel * advance_s
        nodes = Nodes(
            key=np.concatenate([vid.astype(np.uint64), rsus.key[up]]),
            xy_m=np.concatenate([xy, rsus.xy_m.reshape(-1, 2)[up]]),
            vel_mps=np.concatenate([vel, np.zeros((n_r, 2))]),
            height_m=np.concatenate([np.full(n_v, vr.antenna_height_m), np.full(n_r, rsus.height_m)]),
            tx_power_dbm=np.concatenate(
                [np.full(n_v, vr.tx_power_dbm), np.full(n_r, rsus.tx_power_dbm)]
            ),
            gain_dbi=np.concatenate(
                [np.full(n_v, vr.antenna_gain_dbi), np.full(n_r, rsus.antenna_gain_dbi)]
            ),
            noise_figure_db=np.concatenate(
                [np.full(n_v, vr.noise_figure_db), np.full(n_r, rsus.noise_figure_db)]
            ),
            is_vehicle=np.concatenate([np.ones(n_v, bool), np.zeros(n_r, bool)]),
            odometer_m=np.concatenate([mob.odometer_m + mob.speed_mps * advance_s, np.zeros(n_r)])
            if self.cfg.channel.correlated else None,
        )
        return nodes, vid

    def batch(self, t0_ms: int, n_subframes: int, state_ms: int | None = None) -> RadioBatch:
        """Evaluates subframes [t0, t0 + n); `state_ms` is the time of the mobile source's
        positions (None: the batch start)."""
        t1_ms = t0_ms + n_subframes
        advance_s = 0.0 if state_ms is None else (t0_ms - state_ms) / 1000.0
        up = np.ones(len(self.fixed), bool) if self.rsu_alive is None else self.rsu_alive
        up_idx = np.flatnonzero(up)
        nodes, node_vid = self.nodes(advance_s, up)
        assert self.mobile is not None  # checked by nodes()
        n_v = len(node_vid)
        if self.downlink:
            stream_ids = (RSU_STREAM_BASE + up_idx[:, None] * N_STREAMS
                          + np.arange(N_STREAMS)[None, :]).ravel()
            all_slots = self.scheduler.sync(np.concatenate([node_vid, stream_ids]))
            slots, stream_slots = all_slots[:n_v], all_slots[n_v:]
        else:
            slots = self.scheduler.sync(node_vid)
            stream_slots = np.empty(0, np.int64)
        intents = self.mobile.bsm_intents(t0_ms, t1_ms, self.bsm_period_ms)
        gen_vid, gen_ms, flag = intents.node_id, intents.gen_ms, intents.event_flag
        dcc_state, dcc_suppressed = None, 0
        if self.dcc is not None:
            self.dcc.sync(node_vid)
            dcc_state = self.dcc.state.copy()
            sent = self.dcc.gate(gen_vid, gen_ms)
            dcc_suppressed = int((~sent).sum())
            gen_vid, gen_ms, flag = gen_vid[sent], gen_ms[sent], flag[sent]
        brake = flag.astype(np.int64)  # CSAE 53 `events` hard-braking flag, set by the OBU
        n_g = len(gen_vid)
        self._schedule(
            {"vid": gen_vid, "rsu": -1, "mtype": int(MsgType.BSM), "ref": -1, "origin": gen_ms,
             "path": PATH_PC5, "size": -1, "gen_ms": gen_ms,
             "nsub": np.full(n_g, self.bsm_subchannels, np.int64), "brake": brake},
            slots[np.searchsorted(node_vid, gen_vid)], gen_ms,
        )
        rsu_generated = rsu_dropped = 0
        if self.downlink:
            ob = self._take_outbox(t1_ms)
            pos = np.searchsorted(up_idx, ob["rsu"])
            live = (pos < len(up_idx)) & (up_idx[np.minimum(pos, max(len(up_idx) - 1, 0))] == ob["rsu"]) \
                if len(up_idx) else np.zeros(len(ob["rsu"]), bool)
            rsu_dropped += int((~live).sum())
            ob = {k: v[live] for k, v in ob.items()}
            rsu_generated = len(ob["rsu"])
            stream_slot = stream_slots[pos[live] * N_STREAMS + ob["mtype"] - 1]
            self._schedule({**ob, "vid": -1, "brake": 0}, stream_slot,
                           np.maximum(ob["gen_ms"], t0_ms))
        p = self._pending
        due = p["subframe"] < t1_ms
        now = {k: v[due] for k, v in p.items()}
        self._pending = {k: v[~due] for k, v in p.items()}

        is_rsu = now["rsu"] >= 0
        row = np.searchsorted(node_vid, now["vid"])
        row = np.minimum(row, max(n_v - 1, 0))
        alive = (node_vid[row] == now["vid"]) if n_v else np.zeros(len(row), bool)
        rpos = np.searchsorted(up_idx, now["rsu"])
        rpos_c = np.minimum(rpos, max(len(up_idx) - 1, 0))
        rsu_up = (up_idx[rpos_c] == now["rsu"]) if len(up_idx) else np.zeros(len(row), bool)
        row = np.where(is_rsu, n_v + rpos_c, row)
        alive = np.where(is_rsu, rsu_up, alive)
        dropped = int((~alive & ~is_rsu).sum())
        rsu_dropped += int((~alive & is_rsu).sum())
        now = {k: v[alive] for k, v in now.items()}
        row = row[alive]
        order = np.lexsort((now["pid"], now["subframe"]))
        now = {k: v[order] for k, v in now.items()}
        row = row[order]
        tx = Transmissions(
            node=row,
            subframe_ms=now["subframe"],
            subch_start=now["start"],
            n_subch=now["nsub"],
            packet_id=now["pid"].astype(np.uint64),
            gen_ms=now["gen_ms"].astype(np.float64),
        )
        result = evaluate_batch(nodes, tx, t0_ms, n_subframes, self.cfg)
        hold = None
        if self.dcc is not None and dcc_state is not None:
            # A BSM sent under DCC announces P_rsvp = its sender's T_off (sim/radio/dcc.py).
            t_off = T_OFF_MS[dcc_state[np.minimum(tx.node, max(n_v - 1, 0))]] \
                if n_v else np.zeros(len(tx), np.int64)
            hold = np.where(tx.node < n_v, t_off - T_OFF_MS[0], 0).astype(np.int64)
            self.dcc.update(node_vid, result.cbr[:n_v])
        noise_subch_mw = np.asarray(
            10.0 ** (noise_dbm(self.cfg.subchannel_size_prb, nodes.noise_figure_db) / 10.0))
        if self.downlink:
            self._observe_with_streams(slots, stream_slots, n_v, len(up_idx), now["mtype"], result,
                                       tx, t0_ms, noise_subch_mw, hold)
        elif hold is None:
            self.scheduler.observe(slots, result, tx, t0_ms, noise_subch_mw)
        else:
            self.scheduler.observe(slots, result, tx, t0_ms, noise_subch_mw, sci_hold_ms=hold)
        # Reported positions: where the sender was at its subframe, plus GNSS error for BSMs.
        dt_s = (tx.subframe_ms - t0_ms) / 1000.0
        rep_xy = nodes.xy_m[tx.node] + nodes.vel_mps[tx.node] * dt_s[:, None]
        if self.position_error is not None and len(tx):
            bsm = ~(now["rsu"] >= 0)
            rep_xy[bsm] += self.position_error(now["vid"][bsm], t0_ms)
        return RadioBatch(
            t0_ms=t0_ms,
            n_subframes=n_subframes,
            node_vehicle_id=np.concatenate([node_vid, np.full(len(up_idx), -1)]),
            node_rsu=np.concatenate([np.full(n_v, -1), up_idx]),
            node_xy_m=nodes.xy_m,
            tx_vehicle_id=now["vid"],
            tx_brake_flag=now["brake"].astype(bool),
            tx_msg_type=now["mtype"],
            tx_rsu=now["rsu"],
            tx=tx,
            result=result,
            generated=n_g,
            dropped=dropped,
            tx_ref=now["ref"],
            tx_origin_ms=now["origin"],
            tx_path=now["path"],
            tx_size_bytes=now["size"],
            tx_reported_xy_m=rep_xy,
            rsu_generated=rsu_generated,
            rsu_dropped=rsu_dropped,
            dcc_state=dcc_state,
            dcc_suppressed=dcc_suppressed,
        )

    def _observe_with_streams(self, slots: IntArray, stream_slots: IntArray, n_v: int, n_r: int,
                              mtype: IntArray, result: BatchResult, tx: Transmissions, t0_ms: int,
                              noise_subch_mw: NDArray[np.float64],
                              hold: IntArray | None = None) -> None:
        """Feeds the scheduler a view in which every RSU stream is a virtual node co-located with
        its RSU: it hears what the RSU heard, and every sibling's transmission marks its subframe
        as unmonitored (half-duplex), so siblings pick different subframes."""
        k = N_STREAMS
        cols = np.concatenate([np.arange(n_v), n_v + np.repeat(np.arange(n_r), k)])
        from_rsu = tx.node >= n_v
        stream = np.where(from_rsu, mtype - 1, 0)
        node_v = np.where(from_rsu, n_v + (tx.node - n_v) * k + stream, tx.node)
        # Copies of each RSU transmission for its sibling streams (no links: half-duplex only).
        r_idx = np.flatnonzero(from_rsu)
        sib_tx = np.repeat(r_idx, k)
        sib_node = n_v + np.repeat(tx.node[r_idx] - n_v, k) * k + np.tile(np.arange(k), len(r_idx))
        keep = sib_node != node_v[sib_tx]
        sib_tx, sib_node = sib_tx[keep], sib_node[keep]
        tx_view = Transmissions(
            node=np.concatenate([node_v, sib_node]),
            subframe_ms=np.concatenate([tx.subframe_ms, tx.subframe_ms[sib_tx]]),
            subch_start=np.concatenate([tx.subch_start, tx.subch_start[sib_tx]]),
            n_subch=np.concatenate([tx.n_subch, tx.n_subch[sib_tx]]),
            packet_id=np.concatenate([tx.packet_id, tx.packet_id[sib_tx]]),
            gen_ms=np.concatenate([tx.gen_ms, tx.gen_ms[sib_tx]]),
        )
        links = result.sensing_links()
        # The scheduler learns only from decoded SCIs: the others are left out of the view
        # before the RSU links are copied per stream (same SCIs, in the same order).
        heard = np.flatnonzero(links.sci_ok)
        l_rx = links.rx[heard]
        rep = np.where(l_rx >= n_v, k, 1)
        li = heard[np.repeat(np.arange(len(heard)), rep)]
        first = np.cumsum(rep) - rep
        within = np.arange(len(li)) - np.repeat(first, rep)
        rx_view = np.where(links.rx[li] >= n_v, n_v + (links.rx[li] - n_v) * k + within, links.rx[li])
        links_view = LinkResults(
            tx=links.tx[li], rx=rx_view, distance_m=links.distance_m[li],
            rx_power_dbm=links.rx_power_dbm[li], sinr_db=links.sinr_db[li],
            reason=links.reason[li], sci_ok=links.sci_ok[li],
        )
        view = BatchResult(links_view, result.cbr[cols], result.power_mw[:, :, cols],
                           result.transmitting[:, cols])
        if hold is None:
            self.scheduler.observe(np.concatenate([slots, stream_slots]), view, tx_view, t0_ms,
                                   noise_subch_mw[cols])
        else:
            self.scheduler.observe(np.concatenate([slots, stream_slots]), view, tx_view, t0_ms,
                                   noise_subch_mw[cols],
                                   sci_hold_ms=np.concatenate([hold, hold[sib_tx]]))
