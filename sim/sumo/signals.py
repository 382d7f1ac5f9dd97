"""SUMO traffic-light programs as v2xsim signals (two signal groups, fixed time).

v2xsim's signal model (sim.core.signals) has two groups per junction: the approaches within 45
degrees of the main axis, and the cross approaches. A SUMO `tlLogic` has a state character per
link. Each link's group is the group of its incoming edge's direction at the stop line (the axis
is the direction of link 0's approach). Each SUMO phase then serves the group with the most green
links ('G' or 'g'); yellow phases ('y' and no green) become the yellow time of the group served
before them, all-red phases its all-red time; consecutive phases serving the same group merge.
Protected-turn subphases therefore fold into their group's green: the stated approximation of a
two-group model. The phase list is rotated to start at a green phase, with the offset moved so
that every colour falls at the same simulated time as in SUMO.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.signals import GROUP_AXIS, group_for_heading
from sim.sumo.net import SumoNet, TlsProgram, heading_rad


def _kind(state: str, groups: dict[int, int]) -> tuple[str, int]:
    """('green', group) | ('yellow', -1) | ('red', -1) for one phase state string."""
    green = [0, 0]
    for i, ch in enumerate(state):
        if ch in "Gg" and i in groups:
            green[groups[i]] += 2 if ch == "G" else 1
    if max(green) > 0:
        return "green", int(np.argmax(green))
    if any(ch in "yYu" for ch in state):
        return "yellow", -1
    return "red", -1


def signal_plan(net: SumoNet, prog: TlsProgram) -> dict[str, object]:
    """A `signals:` entry (dict, validated later as SignalSpec) for one traffic light, with the
    junction position in net x/y under the key `xy_m`."""
    link_heading = {}
    for i, eid in prog.link_edge.items():
        e = net.edges.get(eid)
        if e is not None and len(e.left_xy_m) >= 2:
            link_heading[i] = heading_rad(e.left_xy_m, at_end=True)
    first = min(link_heading) if link_heading else None
    axis = link_heading[first] if first is not None else 0.0
    idx = np.array(sorted(link_heading), dtype=np.int64)
    grp = group_for_heading(np.array([link_heading[i] for i in idx]), np.full(len(idx), axis))
    groups = {int(i): int(g) for i, g in zip(idx, grp)}
    kinds = [_kind(p.state, groups) for p in prog.phases]
    durations = [p.duration_s for p in prog.phases]
    start = next((k for k, (kind, _) in enumerate(kinds) if kind == "green"), None)
    offset_s = prog.offset_s
    phases: list[dict[str, object]] = []
    if start is None:  # never green: one all-red cycle would stop everyone forever; keep the
        # junction unsignalised for v2xsim rather than invent a plan
        return {}
    order = list(range(start, len(kinds))) + list(range(start))
    offset_s += sum(durations[:start])  # the rotated cycle starts where SUMO's green begins
    for k in order:
        kind, g = kinds[k]
        d = durations[k]
        if kind == "green":
            serves = "axis" if g == GROUP_AXIS else "cross"
            if phases and phases[-1]["serves"] == serves and phases[-1]["yellow_s"] == 0.0 \
                    and phases[-1]["all_red_s"] == 0.0:
                phases[-1]["green_s"] = float(phases[-1]["green_s"]) + d  # type: ignore[arg-type]
            else:
                phases.append({"serves": serves, "green_s": d, "yellow_s": 0.0, "all_red_s": 0.0})
        elif kind == "yellow":
            phases[-1]["yellow_s"] = float(phases[-1]["yellow_s"]) + d  # type: ignore[arg-type]
        else:
            phases[-1]["all_red_s"] = float(phases[-1]["all_red_s"]) + d  # type: ignore[arg-type]
    cycle = sum(durations)
    ends = []  # distance from the junction centre back to each approach's stop line
    cx, cy = prog.xy_m
    for i, eid in prog.link_edge.items():
        e = net.edges.get(eid)
        if e is None or i not in link_heading:
            continue
        end = e.left_xy_m[-1]
        h = link_heading[i]
        ends.append(max(0.0, (cx - end[0]) * math.cos(h) + (cy - end[1]) * math.sin(h)))
    reach = max((math.hypot(cx - net.edges[eid].left_xy_m[-1][0], cy - net.edges[eid].left_xy_m[-1][1])
                 for eid in prog.link_edge.values() if eid in net.edges), default=15.0)
    return {
        "id": prog.id,
        "source": "evidenced",
        "axis_deg": (90.0 - math.degrees(axis)) % 360.0,
        "offset_s": offset_s % cycle if cycle > 0 else 0.0,
        "phases": phases,
        "radius_m": float(min(max(reach + 5.0, 10.0), 200.0)),
        "stop_line_offset_m": float(min(np.median(ends) if ends else 10.0, 60.0)),
        "xy_m": (cx, cy),
    }
