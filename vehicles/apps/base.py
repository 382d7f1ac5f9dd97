"""What every application shares: the receptions of a batch, requirements, stats, and the two
actions of the driving contract (open a braking window, cap the desired speed).

Message content: a message carries its sender's state when generated; the applications read the
sender's row of the vehicle table, which holds the state at the start of the current mobility step
(at most one step, 100 ms, before generation: the BSM's own position-accuracy scale at urban
speeds). RSU messages (SPAT, MAP, RSI, RSM) are deterministic functions of the roadside state at
their generation time (signal plans, route geometry, perceived participants).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from sim.metrics.kpi import quantile_from_hist
from sim.radio.medium import RadioBatch
from vehicles.pedestrians import PedestrianTable
from vehicles.table import VehicleTable

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: A reception is timed at the end of its 1 ms subframe; the requirement is checked on the age at
#: the start of it (the convention of `latency.bsm.p99_ms <= 101` in the scenarios).
TTI_MS = 1
#: Lead-time histogram of every application's warnings: 0.05 s bins to 60 s (the apps warn a few
#: seconds ahead; GLOSA advises up to a cycle ahead).
LEAD_BIN_S = 0.05
LEAD_MAX_S = 60.0


@dataclass
class Receptions:
    """Successful decodes by vehicles in one batch, one entry per (message, receiving vehicle)."""

    rx_row: IntArray  # receiving vehicle's table row
    tx_row: IntArray  # sending vehicle's table row, -1 for an RSU (or a sender that left)
    tx_rsu: IntArray  # sending RSU index, -1 for a vehicle
    msg_type: IntArray  # MsgType code
    brake_flag: NDArray[np.bool_]  # BSM event flag: hard braking
    gen_ms: FloatArray  # message generation time
    rx_ms: IntArray  # reception time: end of the subframe that carried it
    #: `of_type` results, shared by the applications of one batch (FCW, EBW, ICW all take BSMs).
    _by_types: dict[tuple[int, ...], Receptions] = field(default_factory=dict, repr=False,
                                                          compare=False)

    @property
    def age_ms(self) -> FloatArray:
        return self.rx_ms - self.gen_ms

    def __len__(self) -> int:
        return len(self.rx_row)

    def subset(self, mask: NDArray[np.bool_]) -> Receptions:
        return Receptions(self.rx_row[mask], self.tx_row[mask], self.tx_rsu[mask],
                          self.msg_type[mask], self.brake_flag[mask], self.gen_ms[mask],
                          self.rx_ms[mask])

    @staticmethod
    def from_batch(batch: RadioBatch, table: VehicleTable) -> Receptions:
        links = batch.result.links
        # Table rows looked up once per node and per transmission, then gathered per link.
        node_row = np.where(batch.node_vehicle_id >= 0, table.rows_of(batch.node_vehicle_id), -1)
        tx_row_of = np.where(batch.tx_vehicle_id >= 0, table.rows_of(batch.tx_vehicle_id), -1)
        rx_vid = batch.node_vehicle_id[links.rx] if len(links.tx) else np.empty(0, np.int64)
        ok = links.success & (rx_vid >= 0) if len(links.tx) else np.zeros(0, bool)
        t_idx = links.tx[ok]
        rx_row = node_row[links.rx[ok]]
        tx_row = tx_row_of[t_idx]
        alive = rx_row >= 0
        t_idx = t_idx[alive]
        return Receptions(
            rx_row=rx_row[alive], tx_row=tx_row[alive], tx_rsu=batch.tx_rsu[t_idx],
            msg_type=batch.tx_msg_type[t_idx], brake_flag=batch.tx_brake_flag[t_idx],
            gen_ms=np.asarray(batch.tx.gen_ms[t_idx], np.float64),
            rx_ms=np.asarray(batch.tx.subframe_ms[t_idx], np.int64) + 1,
        )


@dataclass(frozen=True)
class Requirement:
    """An application's communication requirement: range and end-to-end latency (CSAE 53 §5)."""

    range_m: float
    max_latency_ms: float


@dataclass
class AppStats:
    warnings: int = 0  # warnings (or advisories) issued: new braking windows / advice windows
    stale_ignored: int = 0  # receptions of the app's messages older than its latency requirement
    latency_ms_sum: float = 0.0  # generation -> reception, over the warnings
    lead_time_s_sum: float = 0.0  # warning received -> would-be conflict, over the warnings
    lead_time_s_min: float = float("inf")
    lead_time_n: int = 0
    #: Lead times in LEAD_BIN_S bins up to LEAD_MAX_S (the last bin takes the rest): p5 / p50.
    lead_time_hist: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(round(LEAD_MAX_S / LEAD_BIN_S) + 1, np.int64))

    @property
    def warning_latency_ms_sum(self) -> float:  # the name the EBW summary block reads
        return self.latency_ms_sum

    def record(self, latency_ms: FloatArray, lead_s: FloatArray | None) -> None:
        self.warnings += len(latency_ms)
        self.latency_ms_sum += float(np.sum(latency_ms))
        if lead_s is not None:
            lead = lead_s[np.isfinite(lead_s)]
            self.lead_time_n += len(lead)
            self.lead_time_s_sum += float(lead.sum())
            idx = np.clip(np.floor(lead / LEAD_BIN_S), 0, len(self.lead_time_hist) - 1)
            self.lead_time_hist += np.bincount(idx.astype(np.int64),
                                               minlength=len(self.lead_time_hist))
            if len(lead):
                self.lead_time_s_min = min(self.lead_time_s_min, float(lead.min()))

    def summary(self) -> dict[str, object]:
        n, m = self.warnings, self.lead_time_n
        return {
            "warnings": n,
            "stale_ignored": self.stale_ignored,
            "mean_latency_ms": round(self.latency_ms_sum / n, 3) if n else None,
            "lead_time_s": {
                "mean": round(self.lead_time_s_sum / m, 3) if m else None,
                "min": round(self.lead_time_s_min, 3) if m else None,
                "p5": _lead_quantile(self.lead_time_hist, 0.05) if m else None,
                "p50": _lead_quantile(self.lead_time_hist, 0.5) if m else None,
            },
        }


def _lead_quantile(hist: NDArray[np.int64], q: float) -> float | None:
    """The q-quantile of binned lead times: the lower edge of its 0.05 s bin (a p5 is "at least
    this much warning for 95 % of the warnings")."""
    v = quantile_from_hist(hist, LEAD_BIN_S, q)
    return None if v is None else round(float(v), 3)


class AppSpec(Protocol):
    """What every application spec (sim/spec/apps.py) carries: the CSAE 53 requirement."""

    @property
    def range_m(self) -> float: ...

    @property
    def max_latency_ms(self) -> float: ...


S = TypeVar("S", bound=AppSpec)


class ReceptionApp(Generic[S]):
    """What every application holds: its scenario spec (with `range_m` and `max_latency_ms`, the
    CSAE 53 requirement, and its trigger parameters), the mobility step (to time reactions) and
    its statistics. Subclasses implement `on_receptions(ctx, rec)`."""

    name = ""

    def __init__(self, spec: S, step_ms: int) -> None:
        self.spec = spec
        self.req = Requirement(spec.range_m, spec.max_latency_ms)
        self.step_ms = step_ms
        self.stats = AppStats()


def of_type(rec: Receptions, types: tuple[int, ...]) -> Receptions:
    """Receptions of the message types an application uses (the applications only read them:
    one subset per batch and set of types serves them all)."""
    found = rec._by_types.get(types)
    if found is None:
        found = rec._by_types[types] = rec.subset(np.isin(rec.msg_type, types))
    return found


def drop_stale(rec: Receptions, relevant: NDArray[np.bool_], req: Requirement,
               stats: AppStats) -> NDArray[np.bool_]:
    """`relevant` without the receptions older than the latency requirement; those are ignored
    and counted (only relevant ones: a stale BSM from a car the host does not care about is no
    loss)."""
    stale = relevant & (rec.age_ms - TTI_MS > req.max_latency_ms)
    stats.stale_ignored += int(stale.sum())
    return relevant & ~stale


def first_per_row(rows: IntArray, key: FloatArray) -> IntArray:
    """Indices (into rows) of the entry with the smallest key for each distinct row."""
    if len(rows) == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((key, rows))
    keep = np.ones(len(order), bool)
    keep[1:] = rows[order][1:] != rows[order][:-1]
    return order[keep]


def brake(table: VehicleTable, rows: IntArray, at_ms: IntArray, decel_mps2: FloatArray,
          duration_ms: IntArray | int, step_ms: int, extend: bool = True) -> NDArray[np.bool_]:
    """Opens a precautionary braking window on `rows` (distinct), starting one reaction delay
    after reception. It never lasts beyond the stop (speed / decel): a stopped vehicle that keeps
    "braking" would flicker and flag hard braking in its BSMs. A window already open or pending
    keeps its start and, if `extend`, is extended and strengthened. Returns which rows got a new
    window (the warnings issued)."""
    decel = np.broadcast_to(np.asarray(decel_mps2, np.float64), rows.shape)
    stop_ms = table["v_mps"][rows] / np.maximum(decel, 0.1) * 1000.0
    dur = np.minimum(np.broadcast_to(np.asarray(duration_ms, np.int64), rows.shape),
                     np.ceil(stop_ms).astype(np.int64))
    if not extend:
        keep = table["warn_end_ms"][rows] <= at_ms
        rows, at_ms, decel, dur = (rows[keep], np.broadcast_to(at_ms, keep.shape)[keep],
                                   decel[keep], dur[keep])
        out = np.zeros(len(keep), bool)
        out[keep] = brake(table, rows, at_ms, decel, dur, step_ms)
        return out
    new = table["warn_end_ms"][rows] <= at_ms
    due = at_ms + table["reaction_steps"][rows] * step_ms
    end = due + dur
    table["warn_start_ms"][rows] = np.where(new, due, table["warn_start_ms"][rows])
    table["warn_end_ms"][rows] = np.where(new, end, np.maximum(table["warn_end_ms"][rows], end))
    table["warn_decel_mps2"][rows] = np.where(
        new, decel, np.maximum(table["warn_decel_mps2"][rows], decel))
    return new


def hold(table: VehicleTable, rows: IntArray, at_ms: IntArray, duration_ms: IntArray,
         step_ms: int) -> NDArray[np.bool_]:
    """Keeps stopped or creeping `rows` (distinct) at standstill for `duration_ms` from one
    reaction delay after reception (comfortable braking until stopped, then no acceleration): a
    "do not go" for a vehicle waiting to cross. Unlike `brake`, the window outlasts the stop.
    Returns which rows got a new window."""
    dur = np.broadcast_to(np.asarray(duration_ms, np.int64), rows.shape)
    new = table["warn_end_ms"][rows] <= at_ms
    due = at_ms + table["reaction_steps"][rows] * step_ms
    table["warn_start_ms"][rows] = np.where(new, due, table["warn_start_ms"][rows])
    table["warn_end_ms"][rows] = np.maximum(table["warn_end_ms"][rows], due + dur)
    table["warn_decel_mps2"][rows] = np.where(new, table["b_comf_mps2"][rows],
                                              table["warn_decel_mps2"][rows])
    return new


def advise(table: VehicleTable, rows: IntArray, at_ms: IntArray, speed_mps: FloatArray,
           duration_ms: int, step_ms: int) -> NDArray[np.bool_]:
    """Caps the desired speed of `rows` (distinct) from one reaction delay after reception for
    `duration_ms`; an open advice is lowered to the smaller speed and extended. Returns which rows
    got a new advice."""
    speed = np.broadcast_to(np.asarray(speed_mps, np.float64), rows.shape)
    new = table["advice_end_ms"][rows] <= at_ms
    due = at_ms + table["reaction_steps"][rows] * step_ms
    table["advice_start_ms"][rows] = np.where(new, due, table["advice_start_ms"][rows])
    table["advice_end_ms"][rows] = np.where(
        new, due + duration_ms, np.maximum(table["advice_end_ms"][rows], due + duration_ms))
    table["advice_speed_mps"][rows] = np.where(
        new, speed, np.minimum(table["advice_speed_mps"][rows], speed))
    return new


@dataclass
class AppContext:
    """What applications may know besides the messages: the host vehicles' own state (the table),
    the step, and the static map side of MAP/SPAT (route geometry, signal plans, stop lines)."""

    table: VehicleTable
    step_ms: int
    geometry: object | None = None  # sim.core.road.RouteGeometry
    signals: object | None = None  # sim.core.signals.SignalTable
    stop_lines: object | None = None  # sim.core.signals.StopLines
    rsu_signal: IntArray | None = None  # signal served by each RSU (-1 none)
    rsu_xy_m: FloatArray | None = None  # (R, 2)
    pedestrians: PedestrianTable | None = None  # VRUs present (World.pedestrians)


def time_to_collision_s(gap_m: FloatArray, v_follower_mps: FloatArray, v_leader_mps: FloatArray,
                        leader_decel_mps2: FloatArray) -> FloatArray:
    """Time until the follower, keeping its speed, reaches a leader braking at `leader_decel_mps2`
    to a standstill (the 'enhanced' TTC of FCW algorithms; plain gap / closing speed when the leader
    keeps its speed). inf when they never meet."""
    gap = np.maximum(np.asarray(gap_m, np.float64), 0.0)
    vf = np.asarray(v_follower_mps, np.float64)
    vl = np.asarray(v_leader_mps, np.float64)
    b = np.maximum(np.asarray(leader_decel_mps2, np.float64), 0.0)
    dv = vf - vl
    with np.errstate(divide="ignore", invalid="ignore"):
        const = np.where(dv > 0, gap / dv, np.inf)
        t_q = np.where(b > 1e-9, (-dv + np.sqrt(dv * dv + 2.0 * b * gap)) / b, const)
        t_stop = np.where(b > 1e-9, vl / b, np.inf)
        t_after = np.where(vf > 0, (gap + vl * vl / (2.0 * np.maximum(b, 1e-9))) / vf, np.inf)
    return np.where(t_q <= t_stop, t_q, t_after)
