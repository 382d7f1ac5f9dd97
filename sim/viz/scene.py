"""`Scene`: an immutable snapshot of what the viewer draws at one instant.

A Scene is built either from a live world (`sim.viz.live`) or from a frame of a recorded trace
(`sim.viz.replay`), so the renderer, the picking and the exports never know which one they show.
It holds plain numpy columns (copied from the world, so the simulation can move on while a paused
viewer keeps drawing the same instant) and no pygame objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from sim.viz.roads import RoadLayer
from sim.viz.signals import SignalLayer
from vehicles.classes import class_table

if TYPE_CHECKING:
    from sim.viz.edges import EdgeLayer
    from sim.viz.streets import StreetLayer

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Selection:
    """What the user clicked: a vehicle (by id, stable over time), an RSU or a signal (by index)."""

    kind: Literal["vehicle", "rsu", "signal"]
    id: int


@dataclass(frozen=True)
class Vehicles:
    """Vehicle columns, sorted by id (the simulator's table and the trace keep that order)."""

    id: IntArray
    cls: NDArray[np.int8]
    automation: NDArray[np.int8]
    equipped: NDArray[np.bool_]
    route: IntArray
    lane: IntArray
    x_m: FloatArray
    y_m: FloatArray
    heading_rad: FloatArray
    v_mps: FloatArray
    a_mps2: FloatArray
    length_m: FloatArray
    width_m: FloatArray

    def __len__(self) -> int:
        return len(self.id)

    def row_of(self, vehicle_id: int) -> int | None:
        i = int(np.searchsorted(self.id, vehicle_id))
        return i if i < len(self.id) and int(self.id[i]) == vehicle_id else None

    def rows_of(self, ids: IntArray) -> IntArray:
        """Row per id, -1 where the vehicle is not in this scene."""
        if not len(self.id):
            return np.full(len(ids), -1, dtype=np.int64)
        rows = np.minimum(np.searchsorted(self.id, ids), len(self.id) - 1)
        return np.where(self.id[rows] == ids, rows, -1)

    @staticmethod
    def from_columns(cols: dict[str, np.ndarray]) -> Vehicles:
        """Copies the columns (the trace's or the vehicle table's); sizes come from the class."""
        cls = np.asarray(cols["cls"], dtype=np.int8)
        n = len(cls)

        def col(name: str, dtype: type) -> np.ndarray:
            return np.array(cols[name], dtype=dtype) if name in cols else np.zeros(n, dtype=dtype)

        length = (np.array(cols["length_m"], dtype=np.float64) if "length_m" in cols
                  else class_table("length_m")[cls] if n else np.zeros(0))
        width = (np.array(cols["width_m"], dtype=np.float64) if "width_m" in cols
                 else class_table("width_m")[cls] if n else np.zeros(0))
        return Vehicles(
            id=col("vehicle_id" if "vehicle_id" in cols else "id", np.int64), cls=cls.copy(),
            automation=col("automation", np.int8), equipped=col("equipped", np.bool_),
            route=col("route", np.int64), lane=col("lane", np.int64),
            x_m=col("x_m", np.float64), y_m=col("y_m", np.float64),
            heading_rad=col("heading_rad", np.float64), v_mps=col("v_mps", np.float64),
            a_mps2=col("a_mps2", np.float64), length_m=length, width_m=width,
        )


@dataclass(frozen=True)
class Links:
    """The link outcomes of the current radio batch, in the simulator's own indexing.

    Live, these arrays are the radio batch's (no per-step copy of millions of links): link i was
    transmission `link_tx[i]` (sent by vehicle `tx_vehicle_id[link_tx[i]]`) heard by receiver node
    `link_rx[i]` (vehicle `rx_vehicle_id[...]`, or RSU `rx_rsu[...]`; -1 for the other kind).
    Only the selected node's links are ever gathered, when drawn.
    """

    link_tx: IntArray
    tx_vehicle_id: IntArray
    link_rx: IntArray
    rx_vehicle_id: IntArray
    rx_rsu: IntArray
    reason: NDArray[np.int8]  # 0 = decoded, see sim.radio.sidelink.REASON_NAMES

    def __len__(self) -> int:
        return len(self.link_tx)

    def of(self, sel: Selection) -> tuple[IntArray, IntArray, IntArray, NDArray[np.bool_]]:
        """(tx vehicle id, rx vehicle id, rx RSU, decoded) of the links sent or heard by `sel`."""
        if sel.kind == "vehicle":
            txs = np.flatnonzero(self.tx_vehicle_id == sel.id)
            mask = np.isin(self.link_tx, txs) if len(txs) else np.zeros(len(self), bool)
        else:
            nodes = np.flatnonzero(self.rx_rsu == sel.id)
            mask = np.isin(self.link_rx, nodes) if len(nodes) else np.zeros(len(self), bool)
        lt, lr = self.link_tx[mask], self.link_rx[mask]
        return (self.tx_vehicle_id[lt], self.rx_vehicle_id[lr], self.rx_rsu[lr],
                self.reason[mask] == 0)


@dataclass(frozen=True)
class Stats:
    """Headline KPIs so far, when a summary is available (live) or recorded (replay)."""

    prr_300m: float | None = None
    latency_p95_ms: float | None = None
    cbr: float | None = None
    label: str = ""  # e.g. "whole run" in a replay


@dataclass(frozen=True)
class Scene:
    """What is on the road at `t_s`: static roads and RSUs, vehicles, and the radio batches that
    ran since the previous instant (a mobility step spans several radio batches)."""

    t_s: float
    roads: RoadLayer
    rsu_xy_m: FloatArray  # (R, 2)
    vehicles: Vehicles
    tx_vehicle_ids: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted
    links: tuple[Links, ...] | None = None  # one part per radio batch since the previous instant
    stats: Stats | None = None
    rsu_radius_m: float = 500.0
    title: str = ""
    mode: str = "live"  # "live" or "replay"
    t_end_s: float | None = None  # replay: last recorded instant
    finished: bool = False  # the run (or the replay) reached its end
    signals: SignalLayer | None = None  # static: positions, axes, stop lines
    signal_state: NDArray[np.int8] | None = None  # (S, 2) axis / cross colour; None: unknown
    #: Per vehicle row: under an emergency brake warning (EBW) at `t_s`; None: not recorded.
    warned: NDArray[np.bool_] | None = None
    #: (P, 2) pedestrians and cyclists (World.pedestrians) at `t_s`; None: none in the scenario.
    pedestrian_xy_m: FloatArray | None = None
    #: Edge (MEC) servers, their RSU links and queue state (None: no edge in the scenario).
    edges: EdgeLayer | None = None
    #: Every street of the network, lanes and stop bars (static; None: draw the routes).
    streets: StreetLayer | None = None
    #: (B,) colour of each stop bar of `streets` at `t_s`; None: unknown.
    stop_colours: NDArray[np.int8] | None = None
    #: (R,) RSU up (True) or in an outage; None: not known (drawn as up).
    rsu_alive: NDArray[np.bool_] | None = None
    #: Building footprints that block radio links (map.buildings_nlos), each (K, 2); None: none.
    buildings_xy_m: tuple[FloatArray, ...] | None = None
    #: The scenario's area of interest (`view:`), framed when the viewer opens; None: the map.
    focus_bounds_m: tuple[float, float, float, float] | None = None

    def map_bounds_m(self) -> tuple[float, float, float, float]:
        """What the default view frames: the whole street network where there is one (its
        streets reach beyond the routes that carry traffic), else the routes and the RSUs."""
        if self.streets is None:
            return self.roads.bounds_m
        a, b = self.streets.bounds_m, self.roads.bounds_m
        return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))

    def initial_bounds_m(self) -> tuple[float, float, float, float]:
        """What the viewer frames when it opens: the area of interest, else the whole map."""
        return self.focus_bounds_m if self.focus_bounds_m is not None else self.map_bounds_m()

    def stop_bar_colours(self) -> NDArray[np.int8] | None:
        """Colour per stop bar, None when unknown or mis-sized."""
        st, c = self.streets, self.stop_colours
        if st is None or c is None or len(c) != len(st.stop_signal):
            return None
        return c

    def rsu_up(self) -> NDArray[np.bool_]:
        """Per RSU: up (all True when not known)."""
        a = self.rsu_alive
        if a is None or len(a) != len(self.rsu_xy_m):
            return np.ones(len(self.rsu_xy_m), bool)
        return a

    def warned_rows(self) -> NDArray[np.bool_]:
        """Per vehicle row: warned now (all False when not recorded or mis-sized)."""
        w = self.warned
        if w is None or len(w) != len(self.vehicles):
            return np.zeros(len(self.vehicles), bool)
        return w

    def transmitted(self) -> NDArray[np.bool_]:
        """Per vehicle row: sent at least one packet in the current batch."""
        ids = self.tx_vehicle_ids
        if not len(ids):
            return np.zeros(len(self.vehicles), bool)
        return np.isin(self.vehicles.id, ids, assume_unique=False)

    def links_of(self, sel: Selection) -> tuple[IntArray, IntArray, IntArray,
                                                 NDArray[np.bool_]] | None:
        """`Links.of` over every batch of this instant; None when links were not recorded (or
        the selection is a signal, which has no radio)."""
        if self.links is None or sel.kind == "signal":
            return None
        parts = [part.of(sel) for part in self.links]
        if not parts:
            z = np.zeros(0, np.int64)
            return z, z, z, np.zeros(0, bool)
        tx, rx, rsu, ok = (np.concatenate(c) for c in zip(*parts))
        return tx, rx, rsu, ok

    def signal_colours(self) -> NDArray[np.int8] | None:
        """(S, 2) colours (GREEN/YELLOW/RED) of the axis and cross groups, None when unknown."""
        sig = self.signals
        st = self.signal_state
        if sig is None or st is None or st.shape != (len(sig), 2):
            return None
        return st

    def position_of(self, sel: Selection) -> tuple[float, float] | None:
        if sel.kind == "signal":
            sig = self.signals
            if sig is not None and 0 <= sel.id < len(sig):
                return float(sig.xy_m[sel.id, 0]), float(sig.xy_m[sel.id, 1])
            return None
        if sel.kind == "rsu":
            if 0 <= sel.id < len(self.rsu_xy_m):
                return float(self.rsu_xy_m[sel.id, 0]), float(self.rsu_xy_m[sel.id, 1])
            return None
        row = self.vehicles.row_of(sel.id)
        if row is None:
            return None
        return float(self.vehicles.x_m[row]), float(self.vehicles.y_m[row])

    def pick(self, x_m: float, y_m: float, max_distance_m: float, rsu_size_m: float = 0.0,
             signal_glyph_m: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> Selection | None:
        """The vehicle, signal or RSU nearest to a world point, if within `max_distance_m`.

        A point inside a vehicle's footprint counts as distance 0 to it, so clicking a long truck
        anywhere selects it rather than a small car whose centre is nearer; likewise inside an
        RSU's on-screen marker (`rsu_size_m`, its half size in metres at the current zoom), and
        the RSU wins that tie since its marker is drawn on top. A signal is its on-screen glyph
        (`signal_glyph_m`: intersection box half size, head offset from the centre and head
        radius, in metres): its heads are drawn over the traffic and win a tie with a vehicle,
        its box is drawn under it and loses one.
        """
        best: tuple[float, Selection] | None = None
        v = self.vehicles
        if len(v):
            dx, dy = x_m - v.x_m, y_m - v.y_m
            c, s = np.cos(v.heading_rad), np.sin(v.heading_rad)
            along, across = np.abs(dx * c + dy * s), np.abs(-dx * s + dy * c)
            ex = np.maximum(along - v.length_m / 2, 0.0)
            ey = np.maximum(across - v.width_m / 2, 0.0)
            d = np.hypot(ex, ey)
            i = int(np.argmin(d + 1e-6 * np.hypot(dx, dy)))  # ties: nearest centre
            best = (float(d[i]), Selection("vehicle", int(v.id[i])))
        sig = self.signals
        if sig is not None and len(sig):
            box_m, offset_m, head_m = signal_glyph_m
            heads = sig.head_xy_m(offset_m)
            d_head = np.hypot(heads[..., 0] - x_m, heads[..., 1] - y_m).min(axis=1) - head_m
            d_box = np.hypot(sig.xy_m[:, 0] - x_m, sig.xy_m[:, 1] - y_m) - box_m
            # A hair's margin on the box: a vehicle under the click wins over the box below it.
            d = np.minimum(np.maximum(d_head, 0.0), np.maximum(d_box, 0.0) + 1e-3)
            i = int(np.argmin(d))
            if best is None or d[i] <= best[0]:
                best = (float(d[i]), Selection("signal", i))
        if len(self.rsu_xy_m):
            d = np.hypot(self.rsu_xy_m[:, 0] - x_m, self.rsu_xy_m[:, 1] - y_m)
            i = int(np.argmin(d))
            d = np.maximum(d - rsu_size_m, 0.0)
            if best is None or d[i] <= best[0]:
                best = (float(d[i]), Selection("rsu", i))
        if best is None or best[0] > max_distance_m:
            return None
        return best[1]
