"""`ReplaySource`: scenes from a recorded run directory (`trace.msgpack`), seekable to any time.

The trace is read once with `sim.io.trace` and its frames are indexed by kind and time: the static
"route" and "rsus" frames become the road layer, "state" frames (every `state_interval_s`) are the
seek points, the static "signals" frame and the "signal_state" frames (written with each state)
give the junctions and their colours, and "tx"/"rx" frames are matched to a state by their batch
start time: the radio batches of a tick [t, t + step) are written just before the state at t, so
they belong to it. Frames hold zero-copy views into the file's bytes, so indexing costs no
decoding; a Scene is only built for the frame being shown.

`summary.json` and `cbr_vs_time.csv`, when present next to the trace, feed the HUD (the run's PRR
and latency, the channel load at the shown time).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.errors import V2xSimError
from sim.io.rundir import read_json
from sim.io.street_frames import KINDS as STREET_KINDS
from sim.io.street_frames import streets_from_frames
from sim.io.trace import Frame, TraceFormatError, read_trace
from sim.viz.buildings import building_rings
from sim.viz.edges import EdgeLayer
from sim.viz.roads import RoadLayer, RouteShape, build_road_layer
from sim.viz.scene import Links, Scene, Stats, Vehicles
from sim.viz.signals import SignalLayer, approximate_stop_lines, build_signal_layer
from sim.viz.streets import build_street_layer
from sim.viz.style import DEFAULT_RSU_RADIUS_M
from vehicles.classes import CLASS_BY_CODE

#: Frames of other kinds match a state when their times differ by less than this [s].
TIME_EPS_S = 1e-6

#: Frame kinds the replay reads and the columns each must have. Every column of these kinds must
#: be numeric and one-dimensional, and positions finite: a trace comes from users and other tools,
#: and a damaged one must be one `ReplayError` when it is opened, not an IndexError (or a hang over
#: a billion lanes) in the middle of drawing.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "state": ("cls", "x_m", "y_m"), "tx": ("vehicle_id",),
    "rx": ("packet_id", "rx_vehicle_id", "rx_rsu", "reason"),
    "route": ("x_m", "y_m", "route", "lanes", "lane_width_m"), "rsus": ("x_m", "y_m"),
    "signals": ("x_m", "y_m", "axis_rad"), "signal_state": (), "stop_state": (), "rsu_state": (),
    "edges": ("x_m", "y_m", "cores"), "edge_state": (), "rsu_edge": ("edge",),
    "pedestrians": ("x_m", "y_m"), "view": ("x_m", "y_m"), "buildings": ("x_m", "y_m", "building"),
}
_FINITE = ("x_m", "y_m", "heading_rad", "axis_rad", "lane_width_m")
_INTEGER = ("vehicle_id", "cls", "route", "lanes", "lane", "packet_id", "rx_vehicle_id", "rx_rsu",
            "reason", "cores", "edge", "busy", "queue", "building")
_MAX_LANES = 64


class ReplayError(V2xSimError):
    """The run directory or its trace cannot be replayed; the message says why."""


def trace_path_of(run_dir: Path) -> Path:
    """`run_dir/trace.msgpack` (or the file itself when given a trace)."""
    p = Path(run_dir)
    if p.is_file():
        return p
    if not p.exists():
        raise ReplayError(f"{p}: no such run directory")
    trace = p / "trace.msgpack"
    if not trace.is_file():
        raise ReplayError(f"{p}: no trace.msgpack in this directory (is it a run directory?)")
    return trace


class ReplaySource:
    def __init__(self, run_dir: Path, rsu_radius_m: float = DEFAULT_RSU_RADIUS_M) -> None:
        self.trace = trace_path_of(run_dir)
        self.rsu_radius_m = rsu_radius_m
        states: list[Frame] = []
        tx: list[Frame] = []
        rx: list[Frame] = []
        routes: dict[int, Frame] = {}
        rsu_xy = np.zeros((0, 2))
        signals: Frame | None = None
        signal_states: list[Frame] = []
        edges: Frame | None = None
        view: Frame | None = None
        buildings: Frame | None = None
        edge_frames: dict[str, list[Frame]] = {"edge_state": [], "rsu_edge": []}
        peds: list[Frame] = []
        street: dict[str, Frame] = {}
        timed: dict[str, list[Frame]] = {"stop_state": [], "rsu_state": []}
        try:
            meta, reader = read_trace(self.trace)
            for fr in reader:
                if fr.kind == "state":
                    states.append(fr)
                elif fr.kind == "tx":
                    tx.append(fr)
                elif fr.kind == "rx":
                    rx.append(fr)
                elif fr.kind == "route" and fr.n:
                    routes[int(fr.cols["route"][0])] = fr
                elif fr.kind == "rsus":
                    rsu_xy = np.column_stack([fr.cols["x_m"], fr.cols["y_m"]]).astype(np.float64)
                elif fr.kind == "signals":
                    signals = fr
                elif fr.kind == "view":
                    view = fr
                elif fr.kind == "buildings":
                    buildings = fr
                elif fr.kind == "signal_state":
                    signal_states.append(fr)
                elif fr.kind == "edges":
                    edges = fr
                elif fr.kind in ("edge_state", "rsu_edge"):
                    edge_frames[fr.kind].append(fr)
                elif fr.kind == "pedestrians":
                    peds.append(fr)
                elif fr.kind in STREET_KINDS:
                    street[fr.kind] = fr
                elif fr.kind in timed:
                    timed[fr.kind].append(fr)
        except TraceFormatError as exc:  # its message names the file
            raise ReplayError(f"cannot read the trace: {exc}") from None
        except OSError as exc:
            raise ReplayError(f"{self.trace}: cannot read the trace ({exc.strerror})") from None
        except KeyError as exc:
            raise ReplayError(f"{self.trace}: a frame lacks the column {exc}") from None
        for fr in [*states, *tx, *rx, *routes.values(), *signal_states, *edge_frames["edge_state"],
                   *edge_frames["rsu_edge"], *peds, *timed["stop_state"], *timed["rsu_state"],
                   *(f for f in (signals, edges, view, buildings) if f is not None)]:
            _check_frame(self.trace, fr)
        if rx and any("packet_id" not in f.cols for f in tx):
            raise ReplayError(f"{self.trace}: a tx frame lacks the column 'packet_id'")
        if not states:
            raise ReplayError(f"{self.trace}: no vehicle states recorded "
                              "(the run had output.trace.states=false, or it ended at once)")
        self.meta: dict[str, Any] = meta
        self.truncated = reader.truncated
        self.states = states
        self.state_t = np.array([f.t_s for f in states])
        self.tx, self.tx_t = tx, np.array([f.t_s for f in tx])
        self.rx, self.rx_t = rx, np.array([f.t_s for f in rx])
        self.rsu_xy_m = rsu_xy
        shapes = [RouteShape(np.column_stack([f.cols["x_m"], f.cols["y_m"]]).astype(np.float64),
                             int(f.cols["lanes"][0]), float(f.cols["lane_width_m"][0]))
                  for _, f in sorted(routes.items())]
        self.roads: RoadLayer = build_road_layer(shapes, rsu_xy)
        try:
            self.signals = _signal_layer(signals, shapes)
        except KeyError as exc:
            raise ReplayError(f"{self.trace}: the signals frame lacks the column {exc}") from None
        n_sig = len(self.signals) if self.signals is not None else 0
        try:
            streets = streets_from_frames(street, n_sig)
        except TraceFormatError as exc:
            raise ReplayError(f"{self.trace}: {exc}") from None
        self.streets = None if streets is None else build_street_layer(streets)
        n_stops = len(streets.stop_lane) if streets is not None else 0
        self._timed = {  # only frames of the right size (a malformed one shows as unknown)
            "stop_state": _series([f for f in timed["stop_state"]
                                   if "colour" in f.cols and f.n == n_stops]),
            "rsu_state": _series([f for f in timed["rsu_state"]
                                  if "alive" in f.cols and f.n == len(rsu_xy)]),
        }
        # Only frames that match the signal table (a malformed one shows as unknown colours).
        self.signal_states = [f for f in signal_states if "axis" in f.cols and "cross" in f.cols
                              and f.n == n_sig]
        self.signal_state_t = np.array([f.t_s for f in self.signal_states])
        self._edges = edges
        self._edge_frames = {k: (v, np.array([f.t_s for f in v])) for k, v in edge_frames.items()}
        self._peds = {f.t_s: f for f in peds}  # written with each state frame
        self.focus_bounds_m = _focus_bounds(view)
        self.buildings_xy_m = None if buildings is None else building_rings(
            np.column_stack([buildings.cols["x_m"], buildings.cols["y_m"]]),
            buildings.cols["building"])
        self.title = str(meta.get("scenario", self.trace.parent.name))
        step_ms = meta.get("step_ms")
        #: Mobility step [s]: the radio batches in [t, t + step) belong to the state at t.
        self.step_s = (float(step_ms) / 1000.0 if isinstance(step_ms, (int, float)) and step_ms > 0
                       else self.state_interval_s)
        self._summary = read_json(self.trace.parent / "summary.json")
        self._cbr = _read_cbr(self.trace.parent / "cbr_vs_time.csv")
        self._cache: tuple[int, Scene] | None = None

    # ------------------------------------------------------------------ time axis
    @property
    def t_start(self) -> float:
        return float(self.state_t[0])

    @property
    def t_end(self) -> float:
        return float(self.state_t[-1])

    @property
    def state_interval_s(self) -> float:
        return float(np.median(np.diff(self.state_t))) if len(self.state_t) > 1 else 0.1

    def __len__(self) -> int:
        return len(self.states)

    def index_at(self, t_s: float) -> int:
        """The state frame at `t_s` or just before it (the first one for earlier times)."""
        i = int(np.searchsorted(self.state_t, t_s + TIME_EPS_S, side="right")) - 1
        return min(max(i, 0), len(self.states) - 1)

    # ------------------------------------------------------------------ scenes
    def scene_at(self, t_s: float) -> Scene:
        return self.scene(self.index_at(t_s))

    def scene(self, index: int) -> Scene:
        """The Scene of state frame `index` (the last one built is cached: paused = free)."""
        if self._cache is not None and self._cache[0] == index:
            return self._cache[1]
        fr = self.states[index]
        t = fr.t_s
        tx = _within(self.tx, self.tx_t, t, t + self.step_s)
        rx = {f.t_s: f for f in _within(self.rx, self.rx_t, t, t + self.step_s)}
        tx_ids = (np.unique(np.concatenate([np.asarray(f.cols["vehicle_id"], dtype=np.int64)
                                            for f in tx])) if tx else np.zeros(0, np.int64))
        links = tuple(_links(f, rx[f.t_s]) for f in tx if f.t_s in rx) if self.rx else None
        scene = Scene(
            t_s=t, roads=self.roads, rsu_xy_m=self.rsu_xy_m,
            vehicles=Vehicles.from_columns(dict(fr.cols)), tx_vehicle_ids=tx_ids, links=links,
            stats=self._stats(t), rsu_radius_m=self.rsu_radius_m, title=self.title,
            mode="replay", t_end_s=self.t_end, finished=index == len(self.states) - 1,
            signals=self.signals, signal_state=self._signal_state(t),
            warned=(np.array(fr.cols["warned"], dtype=bool) if "warned" in fr.cols else None),
            edges=self._edge_layer(t),
            pedestrian_xy_m=self._pedestrian_xy(t),
            streets=self.streets,
            stop_colours=self._latest("stop_state", "colour", t, np.int8),
            rsu_alive=self._latest("rsu_state", "alive", t, np.bool_),
            focus_bounds_m=self.focus_bounds_m, buildings_xy_m=self.buildings_xy_m,
        )
        self._cache = (index, scene)
        return scene

    def _latest(self, kind: str, col: str, t_s: float, dtype: type) -> np.ndarray | None:
        """Column `col` of the `kind` frame recorded at `t_s` or last before it; None if none."""
        frames, times = self._timed[kind]
        i = int(np.searchsorted(times, t_s + TIME_EPS_S, side="right")) - 1
        return np.asarray(frames[i].cols[col], dtype=dtype) if i >= 0 else None

    def _pedestrian_xy(self, t_s: float) -> np.ndarray | None:
        """(P, 2) VRU positions recorded with the state at `t_s`; None when the run had none."""
        if not self._peds:
            return None
        f = self._peds.get(t_s)
        if f is None or not f.n:
            return np.zeros((0, 2))
        return np.column_stack([f.cols["x_m"], f.cols["y_m"]]).astype(np.float64)

    def _edge_layer(self, t_s: float) -> EdgeLayer | None:
        """Edge servers and their state recorded with the state at `t_s` (or just before)."""
        e = self._edges
        if e is None or not e.n:
            return None
        n = e.n

        def latest(kind: str) -> Frame | None:
            frames, times = self._edge_frames[kind]
            i = int(np.searchsorted(times, t_s + TIME_EPS_S, side="right")) - 1
            return frames[i] if i >= 0 else None

        st, re = latest("edge_state"), latest("rsu_edge")
        ok = st is not None and st.n == n
        cols = st.cols if st is not None and ok else {}
        return EdgeLayer(
            xy_m=np.column_stack([e.cols["x_m"], e.cols["y_m"]]).astype(np.float64),
            names=tuple(f"edge #{i}" for i in range(n)),
            cores=np.asarray(e.cols["cores"], dtype=np.int64),
            rsu_edge=(np.asarray(re.cols["edge"], dtype=np.int64) if re is not None
                      else np.zeros(0, np.int64)),
            alive=np.asarray(cols["alive"], dtype=bool) if ok else np.ones(n, bool),
            busy=np.asarray(cols["busy"], dtype=np.int64) if ok else np.zeros(n, np.int64),
            queue=np.asarray(cols["queue"], dtype=np.int64) if ok else np.zeros(n, np.int64),
        )

    def _signal_state(self, t_s: float) -> np.ndarray | None:
        """(S, 2) colours recorded with the state at `t_s` (or the latest before it)."""
        if self.signals is None or not len(self.signal_states):
            return None
        i = int(np.searchsorted(self.signal_state_t, t_s + TIME_EPS_S, side="right")) - 1
        if i < 0:
            return None
        fr = self.signal_states[i]
        return np.column_stack([np.asarray(fr.cols["axis"], dtype=np.int8),
                                np.asarray(fr.cols["cross"], dtype=np.int8)])

    def _stats(self, t_s: float) -> Stats | None:
        s = self._summary
        if s is None and self._cbr is None:
            return None
        prr = lat = None
        if s is not None:
            msgs = s.get("messages", {})
            prr = msgs.get("prr", {}).get("at_300m")
            lat = msgs.get("latency", {}).get("bsm", {}).get("p95_ms")
        cbr = None
        if self._cbr is not None and len(self._cbr[0]):
            i = int(np.searchsorted(self._cbr[0], t_s + TIME_EPS_S, side="right")) - 1
            cbr = float(self._cbr[1][i]) if i >= 0 else None
        return Stats(prr_300m=prr, latency_p95_ms=lat, cbr=cbr, label="PRR, latency: whole run")


def _focus_bounds(view: Frame | None) -> tuple[float, float, float, float] | None:
    """The recorded area of interest; None when absent or not a box (then the map is framed)."""
    if view is None or view.n != 2:
        return None
    (x0, x1), (y0, y1) = (np.asarray(view.cols[c], dtype=np.float64) for c in ("x_m", "y_m"))
    return (float(x0), float(y0), float(x1), float(y1)) if x1 > x0 and y1 > y0 else None


def _check_frame(trace: Path, fr: Frame) -> None:
    """Raises `ReplayError` for a frame the replay could not draw (see `_REQUIRED`)."""
    where = f"{trace}: {fr.kind} frame at t={fr.t_s:g} s"
    for name in _REQUIRED.get(fr.kind, ()):
        if name not in fr.cols:
            raise ReplayError(f"{where} lacks the column {name!r}")
    for name, col in fr.cols.items():
        if col.ndim != 1 or col.dtype.kind not in "biuf":
            raise ReplayError(f"{where}: column {name!r:.40} is not a numeric vector "
                              f"({col.dtype.str}, shape {col.shape})")
        if name in _INTEGER and col.dtype.kind not in "biu":
            raise ReplayError(f"{where}: column {name!r} is not of an integer type")
        if name in _FINITE and not np.isfinite(col).all():
            raise ReplayError(f"{where}: column {name!r} has non-finite values")
    if fr.kind == "state" and fr.n:
        cls = fr.cols["cls"]
        if cls.min() < 0 or cls.max() >= len(CLASS_BY_CODE):
            raise ReplayError(f"{where}: vehicle class codes outside 0..{len(CLASS_BY_CODE) - 1}")
    if fr.kind == "route" and fr.n:
        lanes, width = fr.cols["lanes"], fr.cols["lane_width_m"]
        if lanes.min() < 1 or lanes.max() > _MAX_LANES or width.min() <= 0 or width.max() > 50:
            raise ReplayError(f"{where}: lanes outside 1..{_MAX_LANES} or lane width outside "
                              "(0, 50] m")


def _series(frames: list[Frame]) -> tuple[list[Frame], np.ndarray]:
    return frames, np.array([f.t_s for f in frames])


def _signal_layer(fr: Frame | None, routes: list[RouteShape]) -> SignalLayer | None:
    """The trace records positions, axes and provenance, not ids or stop lines: signals are
    named by their index, and stop lines re-derived from the routes with the default settings."""
    if fr is None or not fr.n:
        return None
    xy = np.column_stack([fr.cols["x_m"], fr.cols["y_m"]]).astype(np.float64)
    synthetic = (np.asarray(fr.cols["synthetic"], dtype=bool) if "synthetic" in fr.cols
                 else np.ones(len(xy), bool))
    route, s_m, signal = approximate_stop_lines(xy, routes)
    return build_signal_layer([f"#{i}" for i in range(len(xy))], xy,
                              np.asarray(fr.cols["axis_rad"], dtype=np.float64), synthetic,
                              routes, route, s_m, signal)


def _within(frames: list[Frame], times: np.ndarray, t0_s: float, t1_s: float) -> list[Frame]:
    """Frames with t0 <= t_s < t1 (times sorted)."""
    i = int(np.searchsorted(times, t0_s - TIME_EPS_S, side="left"))
    j = int(np.searchsorted(times, t1_s - TIME_EPS_S, side="left"))
    return frames[i:j]


def _links(tx: Frame, rx: Frame) -> Links:
    """Rx records refer to packets; map each to its transmission row in the tx frame."""
    pid = np.asarray(tx.cols["packet_id"], dtype=np.int64)
    order = np.argsort(pid, kind="stable")
    rx_pid = np.asarray(rx.cols["packet_id"], dtype=np.int64)
    pos = np.minimum(np.searchsorted(pid[order], rx_pid), max(len(pid) - 1, 0))
    link_tx = order[pos] if len(pid) else np.zeros(len(rx_pid), np.int64)
    known = pid[link_tx] == rx_pid if len(pid) else np.zeros(len(rx_pid), bool)
    n = int(known.sum())
    return Links(
        link_tx=link_tx[known], tx_vehicle_id=np.asarray(tx.cols["vehicle_id"], dtype=np.int64),
        link_rx=np.arange(n, dtype=np.int64),
        rx_vehicle_id=np.asarray(rx.cols["rx_vehicle_id"], dtype=np.int64)[known],
        rx_rsu=np.asarray(rx.cols["rx_rsu"], dtype=np.int64)[known],
        reason=np.asarray(rx.cols["reason"], dtype=np.int8)[known],
    )


def _read_cbr(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with path.open(encoding="utf-8") as f:
            rows = [(float(r["t_s"]), float(r["cbr_mean"])) for r in csv.DictReader(f)
                    if r.get("t_s") and r.get("cbr_mean")]
    except (OSError, ValueError, KeyError):
        return None
    if not rows:
        return None
    arr = np.array(rows)
    return arr[:, 0], arr[:, 1]
