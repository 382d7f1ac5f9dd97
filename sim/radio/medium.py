"""The sidelink medium: packets waiting for their subframe, and the batch evaluation of the ones due.

Each batch [t0, t0 + n) takes the BSMs generated in it, gives them resources, and evaluates every
pending packet whose subframe falls inside the batch. Packets scheduled later wait in columns; a
packet whose vehicle left the road before its subframe is dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from roadside.rsu import RsuTable
from sim.radio.messages import MsgType
from sim.radio.scheduler import RandomScheduler
from sim.radio.sidelink import (
    BatchResult,
    Nodes,
    SidelinkConfig,
    Transmissions,
    evaluate_batch,
    noise_dbm,
)
from sim.radio.sps import SpsScheduler
from vehicles.obu import bsm_generation
from vehicles.table import VehicleTable

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class VehicleRadio:
    tx_power_dbm: float
    antenna_gain_dbi: float
    antenna_height_m: float
    noise_figure_db: float


@dataclass(frozen=True)
class RadioBatch:
    """Everything observers need about one batch: who sent what, who heard it, and how."""

    t0_ms: int
    n_subframes: int
    node_vehicle_id: IntArray  # vehicle id per node row, -1 for RSUs
    node_rsu: IntArray  # RSU index per node row, -1 for vehicles
    node_xy_m: NDArray[np.float64]
    tx_vehicle_id: IntArray  # sending vehicle per transmission, -1 for an RSU
    tx_brake_flag: NDArray[np.bool_]  # the BSM carries the hard-braking event flag
    tx_msg_type: IntArray  # `MsgType` code per transmission (sim.radio.messages)
    tx_rsu: IntArray  # sending RSU index per transmission, -1 for a vehicle
    tx: Transmissions
    result: BatchResult
    generated: int
    dropped: int


class SidelinkMedium:
    def __init__(
        self,
        cfg: SidelinkConfig,
        scheduler: RandomScheduler | SpsScheduler,
        vehicle_radio: VehicleRadio,
        bsm_period_ms: int,
        bsm_subchannels: int,
        hard_braking_mps2: float = 4.0,
    ) -> None:
        self.hard_braking_mps2 = hard_braking_mps2
        self.cfg = cfg
        self.scheduler = scheduler
        self.vehicle_radio = vehicle_radio
        self.bsm_period_ms = bsm_period_ms
        self.bsm_subchannels = bsm_subchannels
        self.next_packet_id = 0
        self._pending: dict[str, NDArray] = {
            k: np.empty(0, dtype=np.int64)
            for k in ("vid", "gen_ms", "subframe", "start", "nsub", "pid", "brake")
        }

    @property
    def pending(self) -> int:
        return len(self._pending["vid"])

    def _schedule(self, vid: IntArray, gen_ms: IntArray, slots: IntArray, brake: IntArray) -> None:
        n = len(vid)
        nsub = np.full(n, self.bsm_subchannels, dtype=np.int64)
        subframe, start = self.scheduler.assign(slots, gen_ms, nsub)
        pid = np.arange(self.next_packet_id, self.next_packet_id + n, dtype=np.int64)
        self.next_packet_id += n
        new = {"vid": vid, "gen_ms": gen_ms, "subframe": subframe, "start": start,
               "nsub": nsub, "pid": pid, "brake": brake}
        for k in self._pending:
            self._pending[k] = np.concatenate([self._pending[k], new[k]])

    def nodes(self, table: VehicleTable, rsus: RsuTable, advance_s: float = 0.0) -> tuple[Nodes, IntArray]:
        """Radio nodes: equipped vehicles (in id order), then RSUs. Returns nodes and vehicle ids.

        `advance_s` moves vehicles along their velocity from the table's time to the batch start.
        """
        eq = table["equipped"]
        vid = table["id"][eq]
        n_v, n_r = len(vid), len(rsus)
        heading = table["heading_rad"][eq]
        speed = table["v_mps"][eq]
        vr = self.vehicle_radio
        vel = np.column_stack([speed * np.cos(heading), speed * np.sin(heading)])
        xy = np.column_stack([table["x_m"][eq], table["y_m"][eq]])
        if advance_s:
            xy = xy + vel * advance_s
        nodes = Nodes(
            key=np.concatenate([vid.astype(np.uint64), rsus.key]),
            xy_m=np.concatenate([xy, rsus.xy_m.reshape(-1, 2)]),
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
        )
        return nodes, vid

    def batch(
        self, t0_ms: int, n_subframes: int, table: VehicleTable, rsus: RsuTable,
        state_ms: int | None = None,
    ) -> RadioBatch:
        """Evaluates subframes [t0, t0 + n); `state_ms` is the time of the table's positions."""
        t1_ms = t0_ms + n_subframes
        advance_s = 0.0 if state_ms is None else (t0_ms - state_ms) / 1000.0
        nodes, node_vid = self.nodes(table, rsus, advance_s)
        slots = self.scheduler.sync(node_vid)
        gen_vid, gen_ms = bsm_generation(table, t0_ms, t1_ms, self.bsm_period_ms)
        # BSM event flag (CSAE 53 `events`: hard braking): the sender decelerates harder than
        # `hard_braking_mps2` when the message is generated.
        rows = table.rows_of(gen_vid)
        brake = (table["a_mps2"][rows] < -self.hard_braking_mps2).astype(np.int64)
        self._schedule(gen_vid, gen_ms, slots[np.searchsorted(node_vid, gen_vid)], brake)
        p = self._pending
        due = p["subframe"] < t1_ms
        now = {k: v[due] for k, v in p.items()}
        self._pending = {k: v[~due] for k, v in p.items()}

        row = np.searchsorted(node_vid, now["vid"])
        row = np.minimum(row, max(len(node_vid) - 1, 0))
        alive = (node_vid[row] == now["vid"]) if len(node_vid) else np.zeros(len(row), bool)
        dropped = int((~alive).sum())
        now = {k: v[alive] for k, v in now.items()}
        order = np.lexsort((now["pid"], now["subframe"]))
        now = {k: v[order] for k, v in now.items()}
        tx = Transmissions(
            node=row[alive][order],
            subframe_ms=now["subframe"],
            subch_start=now["start"],
            n_subch=now["nsub"],
            packet_id=now["pid"].astype(np.uint64),
            gen_ms=now["gen_ms"].astype(np.float64),
        )
        result = evaluate_batch(nodes, tx, t0_ms, n_subframes, self.cfg)
        noise_subch_mw = 10.0 ** (noise_dbm(self.cfg.subchannel_size_prb, nodes.noise_figure_db) / 10.0)
        self.scheduler.observe(slots, result, tx, t0_ms, noise_subch_mw)
        n_v = len(node_vid)
        return RadioBatch(
            t0_ms=t0_ms,
            n_subframes=n_subframes,
            node_vehicle_id=np.concatenate([node_vid, np.full(len(rsus), -1)]),
            node_rsu=np.concatenate([np.full(n_v, -1), np.arange(len(rsus))]),
            node_xy_m=nodes.xy_m,
            tx_vehicle_id=now["vid"],
            tx_brake_flag=now["brake"].astype(bool),
            tx_msg_type=np.full(len(now["vid"]), int(MsgType.BSM), dtype=np.int64),
            tx_rsu=np.full(len(now["vid"]), -1, dtype=np.int64),
            tx=tx,
            result=result,
            generated=len(gen_vid),
            dropped=dropped,
        )
