"""A `StreetMap` in the trace: static frames written once at the start, read back by replays.

Frames (t = 0): `street_lane` (x_m, y_m, lane: every lane's vertices), `street_lanes` (width_m,
edge, index: one row per lane), `street_edges` (name), `street_junction` (x_m, y_m, junction),
`street_stops` (lane, signal, group: the stop bars) and `street_signals` (name, per signal of the
`signals` frame). Per state instant, `stop_state` (colour per stop bar) goes with the signal
states. Names are fixed-width unicode columns; every index is checked on reading, so a damaged
trace gives a clear error rather than a drawing of garbage.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sim.core.streets import StreetMap
from sim.io.trace import Frame, TraceFormatError, TraceWriter

KINDS = ("street_lane", "street_lanes", "street_edges", "street_junction", "street_stops",
         "street_signals")


def _names(values: tuple[str, ...]) -> np.ndarray:
    return np.array(values, dtype=np.str_) if values else np.zeros(0, dtype="U1")


def write_streets(writer: TraceWriter, st: StreetMap) -> None:
    lane_of_vertex = np.repeat(np.arange(len(st), dtype=np.int64),
                               [len(xy) for xy in st.lane_xy_m])
    xy = np.concatenate(st.lane_xy_m) if len(st) else np.zeros((0, 2))
    writer.write("street_lane", 0.0, x_m=xy[:, 0], y_m=xy[:, 1], lane=lane_of_vertex)
    writer.write("street_lanes", 0.0, width_m=st.lane_width_m, edge=st.lane_edge,
                 index=st.lane_index)
    writer.write("street_edges", 0.0, name=_names(st.edge_names))
    j = st.junction_xy_m
    jxy = np.concatenate(j) if j else np.zeros((0, 2))
    writer.write("street_junction", 0.0, x_m=jxy[:, 0], y_m=jxy[:, 1],
                 junction=np.repeat(np.arange(len(j), dtype=np.int64), [len(p) for p in j]))
    writer.write("street_stops", 0.0, lane=st.stop_lane, signal=st.stop_signal,
                 group=st.stop_group)
    writer.write("street_signals", 0.0, name=_names(st.signal_names))


def _split(xy: np.ndarray, key: np.ndarray, n: int, what: str) -> tuple[np.ndarray, ...]:
    if len(key) and (key.min() < 0 or key.max() >= n or np.any(np.diff(key) < 0)):
        raise TraceFormatError(f"{what}: vertex indices out of order or range")
    cuts = np.searchsorted(key, np.arange(1, n))
    return tuple(np.split(xy, cuts)) if n else ()


def streets_from_frames(frames: Mapping[str, Frame], n_signals: int) -> StreetMap | None:
    """The street map of a trace, None when it recorded none. Raises TraceFormatError when the
    frames are inconsistent (indices out of range, missing columns)."""
    if "street_lanes" not in frames:
        return None
    try:
        info = frames["street_lanes"].cols
        n_lanes = len(info["width_m"])
        v = frames["street_lane"].cols
        xy = np.column_stack([v["x_m"], v["y_m"]]).astype(np.float64)
        lanes = _split(xy, np.asarray(v["lane"], np.int64), n_lanes, "street_lane")
        names = tuple(str(x) for x in frames["street_edges"].cols["name"])
        edge = np.asarray(info["edge"], np.int64)
        if len(edge) and (edge.min() < 0 or edge.max() >= len(names)):
            raise TraceFormatError("street_lanes: edge index out of range")
        jv = frames["street_junction"].cols
        jkey = np.asarray(jv["junction"], np.int64)
        n_j = int(jkey.max()) + 1 if len(jkey) else 0
        junctions = _split(np.column_stack([jv["x_m"], jv["y_m"]]).astype(np.float64), jkey,
                           n_j, "street_junction")
        stops = frames["street_stops"].cols
        stop_lane = np.asarray(stops["lane"], np.int64)
        stop_signal = np.asarray(stops["signal"], np.int64)
        if len(stop_lane) and (stop_lane.min() < 0 or stop_lane.max() >= n_lanes
                               or stop_signal.min() < 0 or stop_signal.max() >= n_signals):
            raise TraceFormatError("street_stops: lane or signal index out of range")
        sig_frame = frames.get("street_signals")
        sig_names = tuple(str(x) for x in sig_frame.cols["name"]) if sig_frame is not None else ()
    except KeyError as exc:
        raise TraceFormatError(f"a street frame lacks the column {exc}") from None
    if any(len(p) < 2 for p in lanes):
        raise TraceFormatError("street_lane: a lane with fewer than two vertices")
    return StreetMap(
        lane_xy_m=lanes, lane_width_m=np.asarray(info["width_m"], np.float64), lane_edge=edge,
        lane_index=np.asarray(info["index"], np.int64), edge_names=names,
        junction_xy_m=tuple(p for p in junctions if len(p) >= 3),
        stop_lane=stop_lane, stop_signal=stop_signal,
        stop_group=np.asarray(stops["group"], np.int64),
        signal_names=sig_names if len(sig_names) == n_signals else (),
    )
