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
from dataclasses import replace

import numpy as np

from sim.core.errors import ScenarioError
from sim.core.road import Route
from sim.core.signals import GREEN, GROUP_AXIS, RED, YELLOW, SignalTable, StopLines, group_for_heading
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


#: SUMO link states that let a vehicle go: G, g (permissive: v2xsim has no yielding to opposing
#: traffic, so it is a green), O / o (signal off). y / Y are yellow; r, s, u and anything else red.
_GO = frozenset("GgOo")
_AMBER = frozenset("yY")
#: Link groups per traffic light: bits of an int64 mask.
MAX_LINK_GROUPS = 62


def link_groups(prog: TlsProgram, source: str) -> tuple[dict[int, int], list[int], list[int]]:
    """Per-link signal groups of a SUMO program: links with the same colour in every phase share a
    group. Returns link index -> group, and per phase the green and yellow group bitmasks."""
    n_links = max((len(p.state) for p in prog.phases), default=0)
    colour_of: dict[tuple[int, ...], int] = {}
    group: dict[int, int] = {}
    for i in range(n_links):
        seq = tuple(GREEN if p.state[i:i + 1] in _GO else YELLOW if p.state[i:i + 1] in _AMBER
                    else RED for p in prog.phases)
        group[i] = colour_of.setdefault(seq, len(colour_of))
    if len(colour_of) > MAX_LINK_GROUPS:
        raise ScenarioError(source, "network.sumo_net",
                            f"traffic light {prog.id!r} has {len(colour_of)} distinct link "
                            f"programs; at most {MAX_LINK_GROUPS} are supported")
    green, yellow = [], []
    for k in range(len(prog.phases)):
        g = y = 0
        for seq, gi in colour_of.items():
            if seq[k] == GREEN:
                g |= 1 << gi
            elif seq[k] == YELLOW:
                y |= 1 << gi
        green.append(g)
        yellow.append(y)
    return group, green, yellow


def exact_signals(net: SumoNet, routes: list[Route], base: SignalTable, source: str
                  ) -> tuple[SignalTable, StopLines]:
    """The scenario's signals with SUMO's own per-link programs: every SUMO phase as it is, and a
    stop line at the end of each edge where a route's connection is controlled, in the group of
    that connection. Signals that do not come from the net (ids not `tls:<id>`) keep their
    two-group plan, expressed as masks (green, yellow, all-red per phase)."""
    rows: list[list[tuple[int, int, int, int]]] = []  # per signal: (start, end, green, yellow)
    offset = base.offset_ms.copy()
    cycle = base.cycle_ms.copy()
    groups: dict[int, dict[int, int]] = {}
    for i, sid in enumerate(base.ids):
        prog = net.programs.get(sid[4:]) if sid.startswith("tls:") else None
        if prog is None:
            rows.append(_two_group_rows(base, i))
            continue
        link, green, yellow = link_groups(prog, source)
        groups[i] = link
        t, row = 0, []
        for k, ph in enumerate(prog.phases):
            d = max(1, round(ph.duration_s * 1000))
            row.append((t, t + d, green[k], yellow[k]))
            t += d
        rows.append(row)
        cycle[i] = t
        offset[i] = round(prog.offset_s * 1000)  # SUMO's phase 0 starts at the offset
    n_p = max(len(r) for r in rows)
    shape = (len(rows), n_p)
    start, end, gmask, ymask = (np.zeros(shape, np.int64) for _ in range(4))
    for i, row in enumerate(rows):
        for k, (a, b, g, y) in enumerate(row):
            start[i, k], end[i, k], gmask[i, k], ymask[i, k] = a, b, g, y
        start[i, len(row):] = end[i, len(row):] = cycle[i]  # padding: never active
    # The two-group columns get the same shape (unused once the masks are set).
    table = replace(base, offset_ms=offset, cycle_ms=cycle, phase_start_ms=start,
                    phase_end_ms=end, phase_green_mask=gmask, phase_yellow_mask=ymask,
                    phase_group=np.zeros(shape, np.int64), phase_yellow_ms=end.copy(),
                    phase_red_ms=end.copy())
    index = {sid[4:]: i for i, sid in enumerate(base.ids) if i in groups}
    stops: list[tuple[int, float, int, int]] = []
    for r, route in enumerate(routes):
        bounds = (0.0, *route.junctions_s_m, route.length_m)
        pieces = [(j, n) for j, n in enumerate(route.road_names) if not n.startswith(":")]
        for (j, e), (_, f) in zip(pieces, pieces[1:]):
            path = net.paths.get((e, f))
            if path is None or path.tls not in index or path.link_index < 0:
                continue
            sig = index[path.tls]
            stops.append((r, float(bounds[j + 1]), sig, groups[sig].get(path.link_index, 0)))
    stops.sort()
    route_a = np.array([s[0] for s in stops], dtype=np.int64)
    s_m = np.array([s[1] for s in stops], dtype=np.float64)
    lines = StopLines(route=route_a, s_m=s_m, signal=np.array([s[2] for s in stops], dtype=np.int64),
                      group=np.array([s[3] for s in stops], dtype=np.int64),
                      key_m=route_a * StopLines.ROUTE_KEY_M + s_m)
    return table, lines


def _two_group_rows(base: SignalTable, i: int) -> list[tuple[int, int, int, int]]:
    row = []
    for k in range(base.phase_group.shape[1]):
        a, y, r, e = (int(base.phase_start_ms[i, k]), int(base.phase_yellow_ms[i, k]),
                      int(base.phase_red_ms[i, k]), int(base.phase_end_ms[i, k]))
        if e <= a:
            continue
        bit = 1 << int(base.phase_group[i, k])
        row += [(a, y, bit, 0), (y, r, 0, bit), (r, e, 0, 0)]
    return [x for x in row if x[1] > x[0]]
