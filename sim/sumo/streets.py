"""A SUMO net as a `StreetMap`: every lane, junction outline and signal stop bar, for drawing.

Stop bars follow SUMO's own convention: one bar per controlled connection at the end of its
lane, in the colour of that connection's link (several connections leaving one lane, e.g. a
shared straight/left lane, split the lane's width). The link's colour comes from the world's
per-link signal table (`sim.sumo.signals.exact_signals`), so the picture shows what the
simulated vehicles obey. Signals get the names of the streets that meet there.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from sim.core.signals import SignalTable
from sim.core.streets import StreetMap
from sim.sumo.net import SumoNet
from sim.sumo.signals import link_groups


def street_map(net: SumoNet, signals: SignalTable | None, source: str) -> StreetMap:
    """The drawable streets of `net`; stop bars for the traffic lights that are in `signals`."""
    edge_ids = sorted({ln.edge for ln in net.lanes})
    edge_of = {e: i for i, e in enumerate(edge_ids)}
    lane_of = {ln.id: i for i, ln in enumerate(net.lanes)}
    sig_of = ({sid[4:]: i for i, sid in enumerate(signals.ids) if sid.startswith("tls:")}
              if signals is not None else {})
    groups = {tls: link_groups(net.programs[tls], source)[0] for tls in sig_of
              if tls in net.programs}
    stops = [(lane_of[lane], sig_of[tls], groups[tls].get(link, 0))
             for lane, tls, link in net.tls_links
             if tls in groups and lane in lane_of]
    names = [""] * (len(signals) if signals is not None else 0)
    for tls, i in sig_of.items():
        prog = net.programs.get(tls)
        if prog is None:
            continue
        count = Counter(net.edges[e].name for e in prog.link_edge.values()
                        if e in net.edges and net.edges[e].name)
        names[i] = " x ".join(n for n, _ in count.most_common(2))

    def col(k: int) -> np.ndarray:
        return np.array([s[k] for s in stops], dtype=np.int64)

    return StreetMap(
        lane_xy_m=tuple(ln.xy_m for ln in net.lanes),
        lane_width_m=np.array([ln.width_m for ln in net.lanes], dtype=np.float64),
        lane_edge=np.array([edge_of[ln.edge] for ln in net.lanes], dtype=np.int64),
        lane_index=np.array([ln.index for ln in net.lanes], dtype=np.int64),
        edge_names=tuple(net.edges[e].name for e in edge_ids),
        junction_xy_m=net.junction_xy_m,
        stop_lane=col(0), stop_signal=col(1), stop_group=col(2),
        signal_names=tuple(names),
    )
