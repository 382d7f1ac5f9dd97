"""VRUCW, vulnerable road user collision warning (CSAE 53 day-one, V2I via RSM; PSM in phase II).

An RSU perceives the pedestrians within `perception_range_m` and lists them in its RSM. A host
that decodes the RSM predicts, at constant velocities, its closest approach to each listed
pedestrian within `horizon_s`; closer than `conflict_radius_m` is a conflict, and the host is
warned and brakes, after its reaction delay, to stop short of the conflict point (at least
`decel_mps2`, at most `max_decel_mps2`). Lead time: time to the closest approach.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sim.radio.messages import MsgType
from sim.spec.apps import VrucwSpec
from vehicles.apps.base import (
    AppContext,
    ReceptionApp,
    Receptions,
    brake,
    drop_stale,
    first_per_row,
    of_type,
)

FloatArray = NDArray[np.float64]


def vru_conflicts(veh_xy_m: FloatArray, veh_vel_mps: FloatArray, vru_xy_m: FloatArray,
                  vru_vel_mps: FloatArray, conflict_radius_m: float, horizon_s: float
                  ) -> tuple[NDArray[np.bool_], FloatArray, FloatArray]:
    """For each vehicle: whether some VRU comes within `conflict_radius_m` of it within
    `horizon_s` (both at constant velocity), the earliest such time of closest approach, and that
    closest distance. Broadcast over (vehicles, VRUs): N x P small arrays."""
    n = len(veh_xy_m)
    if n == 0 or len(vru_xy_m) == 0:
        return np.zeros(n, bool), np.full(n, np.inf), np.full(n, np.inf)
    dp = vru_xy_m[None, :, :] - veh_xy_m[:, None, :]
    dv = vru_vel_mps[None, :, :] - veh_vel_mps[:, None, :]
    dv2 = (dv**2).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = np.where(dv2 > 1e-9, -(dp * dv).sum(axis=2) / dv2, 0.0)
    t_star = np.clip(t_star, 0.0, horizon_s)
    d_min = np.hypot(*(dp + dv * t_star[..., None]).transpose(2, 0, 1))
    conflict = d_min < conflict_radius_m
    t_c = np.where(conflict, t_star, np.inf)
    best = np.argmin(t_c, axis=1)
    rows = np.arange(n)
    return conflict.any(axis=1), t_c[rows, best], d_min[rows, best]


class VruCollisionWarning(ReceptionApp[VrucwSpec]):
    name = "vrucw"

    def on_receptions(self, ctx: AppContext, rec: Receptions) -> None:
        ped = ctx.pedestrians
        if ped is None or ctx.rsu_xy_m is None or len(ped) == 0:
            return
        rec = of_type(rec, (int(MsgType.RSM),))
        t = ctx.table
        rsu_xy = ctx.rsu_xy_m[np.maximum(rec.tx_rsu, 0)]
        dist = np.hypot(t["x_m"][rec.rx_row] - rsu_xy[:, 0], t["y_m"][rec.rx_row] - rsu_xy[:, 1])
        near = (rec.tx_rsu >= 0) & (dist <= self.req.range_m)
        rec = rec.subset(drop_stale(rec, near, self.req, self.stats))
        if len(rec) == 0:
            return
        p_xy = np.column_stack([ped["x_m"], ped["y_m"]]).astype(np.float64)
        p_vel = np.column_stack([ped["vx_mps"], ped["vy_mps"]]).astype(np.float64)
        found = np.zeros(len(rec), bool)
        t_hit = np.full(len(rec), np.inf)
        for r in np.unique(rec.tx_rsu):  # an RSM per RSU: a handful per batch
            sel = np.flatnonzero(rec.tx_rsu == r)
            seen = np.hypot(*(p_xy - ctx.rsu_xy_m[r]).T) <= self.spec.perception_range_m
            rows = rec.rx_row[sel]
            h = t["heading_rad"][rows]
            vel = np.column_stack([np.cos(h), np.sin(h)]) * t["v_mps"][rows, None]
            xy = np.column_stack([t["x_m"][rows], t["y_m"][rows]])
            hit, tc, _ = vru_conflicts(xy, vel, p_xy[seen], p_vel[seen], self.spec.conflict_radius_m,
                                       self.spec.horizon_s)
            found[sel], t_hit[sel] = hit & (t["v_mps"][rows] > 0.5), tc
        if not found.any():
            return
        rec, t_hit = rec.subset(found), t_hit[found]
        k = first_per_row(rec.rx_row, t_hit)
        rows, at, t_hit = rec.rx_row[k], rec.rx_ms[k], t_hit[k]
        v = t["v_mps"][rows]
        tau_s = t["reaction_steps"][rows] * self.step_ms / 1000.0
        need = v**2 / (2.0 * np.maximum(v * (t_hit - tau_s) - self.spec.conflict_radius_m, 0.5))
        # Warn a driver who is not already braking enough (yielding), while the warning can still
        # help: after the reaction time, before the conflict. Later, it only adds a panic stop on
        # top of what the driver does on seeing the pedestrian.
        act = (-t["a_mps2"][rows] < need) & (t_hit > tau_s)
        rows, at, t_hit, v, need, gen = (rows[act], at[act], t_hit[act], v[act], need[act],
                                         rec.gen_ms[k][act])
        decel = np.clip(need, self.spec.decel_mps2, self.spec.max_decel_mps2)
        dur = np.round(v / decel * 1000.0).astype(np.int64)
        new = brake(t, rows, at, decel, dur, self.step_ms)
        self.stats.record((at - gen)[new], t_hit[new])
