"""The observer that streams the run into `trace.msgpack` (states, transmissions, receptions).

Frames are written as the run goes, so an interrupted run leaves a trace readable up to its last
whole frame. Column names carry units; a replay reads only this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from roadside.network import roadside_of
from sim.io.street_frames import write_streets
from sim.io.trace import TraceWriter
from sim.radio.medium import RadioBatch
from vehicles.table import warned

if TYPE_CHECKING:
    from sim.core.world import World


class TraceObserver:
    def __init__(self, path: Path, meta: dict[str, object], world: World) -> None:
        self.spec = world.spec.output.trace
        self.writer = TraceWriter(path, meta)
        self.state_every_ms = max(world.step_ms, int(round(self.spec.state_interval_s * 1000)))
        self._next_state_ms = 0

    def on_start(self, world: World) -> None:
        r = world.rsus
        g = world.geometry
        self.writer.write("rsus", 0.0, x_m=r.xy_m[:, 0], y_m=r.xy_m[:, 1])
        sig = world.signals
        if sig is not None:
            self.writer.write(
                "signals", 0.0, x_m=sig.xy_m[:, 0], y_m=sig.xy_m[:, 1], axis_rad=sig.axis_rad,
                synthetic=np.array([src == "synthetic" for src in sig.sources]),
            )
        rs = roadside_of(world)
        if rs is not None and len(rs.edge_xy_m):  # edge (MEC) servers, additive to the format
            self.writer.write("edges", 0.0, x_m=rs.edge_xy_m[:, 0], y_m=rs.edge_xy_m[:, 1],
                              cores=np.array([n.cores for n in rs.edge_spec.nodes], dtype=np.int64))
        bld = getattr(getattr(world.medium, "cfg", None), "buildings", None)
        if bld is not None:  # footprints blocking links (map.buildings_nlos), additive
            self.writer.write("buildings", 0.0, x_m=bld.edge_a_m[:, 0], y_m=bld.edge_a_m[:, 1],
                              building=np.asarray(bld.edge_building, dtype=np.int64))
        if world.view_bounds_m is not None:  # the area of interest (`view:`), additive
            x0, y0, x1, y1 = world.view_bounds_m
            self.writer.write("view", 0.0, x_m=np.array([x0, x1]), y_m=np.array([y0, y1]))
        if world.streets is not None:  # the whole street network (SUMO nets), additive
            write_streets(self.writer, world.streets)
        for i, route in enumerate(g.routes):
            self.writer.write(
                "route", 0.0, x_m=route.xy_m[:, 0], y_m=route.xy_m[:, 1],
                route=np.full(len(route.xy_m), i, dtype=np.int64),
                lanes=np.full(len(route.xy_m), route.lanes, dtype=np.int64),
                lane_width_m=np.full(len(route.xy_m), route.lane_width_m),
            )

    def on_radio_batch(self, world: World, b: RadioBatch) -> None:
        t_s = b.t0_ms / 1000.0
        if self.spec.transmissions:
            tx = b.tx
            self.writer.write(
                "tx", t_s, packet_id=tx.packet_id.astype(np.int64), vehicle_id=b.tx_vehicle_id,
                gen_ms=tx.gen_ms, subframe_ms=tx.subframe_ms, subch_start=tx.subch_start,
                n_subch=tx.n_subch, msg_type=b.tx_msg_type, rsu=b.tx_rsu,
            )
        if self.spec.receptions:
            links = b.result.links
            self.writer.write(
                "rx", t_s, packet_id=b.tx.packet_id[links.tx].astype(np.int64),
                rx_vehicle_id=b.node_vehicle_id[links.rx], rx_rsu=b.node_rsu[links.rx],
                distance_m=links.distance_m.astype(np.float32),
                sinr_db=links.sinr_db.astype(np.float32), reason=links.reason,
            )

    def on_step(self, world: World, now_ms: int) -> None:
        if not self.spec.states or now_ms < self._next_state_ms:
            return
        self._next_state_ms = now_ms + self.state_every_ms
        if world.signals is not None:
            colors = world.signals.state_at(now_ms).astype(np.int8)
            self.writer.write("signal_state", now_ms / 1000.0, axis=colors[:, 0], cross=colors[:, 1])
            st = world.streets
            if st is not None:
                self.writer.write("stop_state", now_ms / 1000.0, colour=world.signals.colors(
                    now_ms, st.stop_signal, st.stop_group).astype(np.int8))
        rs = roadside_of(world)
        if rs is not None and rs.has_rsu_outages:
            self.writer.write("rsu_state", now_ms / 1000.0, alive=rs.rsu_down == 0)
        if rs is not None and rs.edges:
            self.writer.write(
                "edge_state", now_ms / 1000.0, alive=np.array([e.alive for e in rs.edges]),
                busy=np.array([e.res.count for e in rs.edges], dtype=np.int64),
                queue=np.array([len(e.res.queue) for e in rs.edges], dtype=np.int64),
            )
            self.writer.write("rsu_edge", now_ms / 1000.0, edge=rs.serving_edge.astype(np.int64))
        t = world.mobility.table
        self.writer.write(
            "state", now_ms / 1000.0, vehicle_id=t["id"], cls=t["cls"], automation=t["automation"],
            equipped=t["equipped"], route=t["route"], lane=t["lane"],
            x_m=t["x_m"].astype(np.float32), y_m=t["y_m"].astype(np.float32),
            heading_rad=t["heading_rad"].astype(np.float32), v_mps=t["v_mps"].astype(np.float32),
            a_mps2=t["a_mps2"].astype(np.float32),
            warned=warned(t, now_ms),
        )
        p = world.pedestrians
        if p is not None:  # VRUs (vehicles/pedestrians.py): kind 0 pedestrian, 1 cyclist
            self.writer.write(
                "pedestrians", now_ms / 1000.0, vru_id=p["id"], vru_kind=p["kind"],
                state=p["state"],
                x_m=p["x_m"].astype(np.float32), y_m=p["y_m"].astype(np.float32),
            )

    def on_end(self, world: World, now_ms: int, interrupted: bool) -> None:
        self.writer.close()
