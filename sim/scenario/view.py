"""The scenario's area of interest (`view:`): what the viewer frames when it opens.

A planner testing one junction of a district wants the viewer to open on that junction, not on a
12 km network where it is a few pixels (Veins' and SUMO-GUI's practice: a per-scenario viewport).
`view.around` names the thing under test; it is resolved here, once, to a square in the world's
metres, which the trace records so that a replay opens on the same square.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.road import RouteGeometry
from sim.core.signals import SignalTable
from sim.spec.schema import ScenarioSpec

Bounds = tuple[float, float, float, float]

#: How many names an error lists (closest matches first).
_LISTED = 8


def view_bounds(spec: ScenarioSpec, source: str, projection: Any, geometry: RouteGeometry,
                signals: SignalTable | None, rsu_xy_m: np.ndarray, net: Any = None) -> Bounds | None:
    """(xmin, ymin, xmax, ymax) of the square `spec.view` asks for; None without `view:`."""
    v = spec.view
    if v is None:
        return None
    if v.center is not None:
        xy = projection.to_local(np.array([v.center.lon]), np.array([v.center.lat])).reshape(2)
        x, y = float(xy[0]), float(xy[1])
    else:
        assert v.around is not None
        kind, name = v.around.split(":", 1)
        x, y = _place(kind, name.strip(), spec, source, geometry, signals, rsu_xy_m, net)
    r = float(v.radius_m)
    return (x - r, y - r, x + r, y + r)


def _place(kind: str, name: str, spec: ScenarioSpec, source: str, geometry: RouteGeometry,
           signals: SignalTable | None, rsu_xy_m: np.ndarray, net: Any) -> tuple[float, float]:
    key = "view.around"
    if kind in ("rsu", "incident"):
        count = len(rsu_xy_m) if kind == "rsu" else len(spec.incidents)
        if not name.isdigit() or int(name) >= count:
            allowed = f"0..{count - 1}" if count else f"none: the scenario has no {kind}s"
            raise ScenarioError(source, key, f"{kind}:{name}: expected the index of one of the "
                                f"scenario's {kind}s ({allowed})")
        i = int(name)
        if kind == "rsu":
            return float(rsu_xy_m[i, 0]), float(rsu_xy_m[i, 1])
        inc = spec.incidents[i]
        r = next(k for k, rs in enumerate(spec.routes) if rs.id == inc.route)
        x, y, _ = geometry.positions(np.array([r]), np.array([inc.position_m]),
                                     np.array([inc.lane]))
        return float(x[0]), float(y[0])
    if kind == "signal":
        places: dict[str, tuple[float, float]] = {}
        if net is not None:  # SUMO traffic lights by their tlLogic id, switched off ones too
            places.update({tid: p.xy_m for tid, p in net.programs.items()})
        if signals is not None:
            places.update({sid: (float(signals.xy_m[i, 0]), float(signals.xy_m[i, 1]))
                           for i, sid in enumerate(signals.ids)})
        return _named(places, name, "signal", source, key)
    if net is None:
        raise ScenarioError(source, key, f"junction:{name}: junctions are named on a SUMO net "
                            "(network.sumo_net); on a GeoJSON map use signal:ID or view.center")
    return _named(dict(net.node_xy_m), name, "junction", source, key)


def _named(places: dict[str, tuple[float, float]], name: str, kind: str, source: str,
           key: str) -> tuple[float, float]:
    if name in places:
        x, y = places[name]
        return float(x), float(y)
    close = difflib.get_close_matches(name, list(places), n=_LISTED, cutoff=0.5)
    listed = close or sorted(places)[:_LISTED]
    more = "" if close or len(places) <= _LISTED else f" (and {len(places) - _LISTED} more)"
    known = ", ".join(listed) + more if listed else f"none: the scenario has no {kind}s"
    raise ScenarioError(source, key, f"{kind}:{name}: no such {kind} "
                        f"({'closest' if close else 'known'}: {known})")
